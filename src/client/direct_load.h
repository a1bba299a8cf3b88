/*
 * direct_load.h — what the direct ways (direct_status.c, direct_hours.c)
 * share: their columns found as the staged load finds them, the store_id
 * check, and emptying an empty table so that COPY may freeze its rows.
 */
#ifndef STOREMON_DIRECT_LOAD_H
#define STOREMON_DIRECT_LOAD_H

#include "target.h"

/*
 * A direct way: a feed's records straight into its table while they are
 * clean.  begin: false when the feed must be staged from its first record.
 * record: false when r is not for the direct way; it has stopped (the
 * records it held are staged), and r and the rest are to be staged.  end:
 * the way is then WAY_DONE, or WAY_STAGED when the end sent the records
 * held there.
 */
typedef struct DirectWay
{
	bool (*begin)(Target *t, Feed *feed);
	bool (*record)(Target *t, Feed *feed, const CsvRecord *r);
	void (*end)(Target *t, Feed *feed);
} DirectWay;

/*
 * Find want columns in feed's header as the staged load finds them
 * (header_is): names holds, for each column in turn, its accepted names
 * and a NULL.  col[k] is column k's field; false when one is missing.
 */
extern bool find_columns(const Feed *feed, const char *const *names, int want, int *col);
/* Is a store_id stored as written: 1 to 1024 bytes, nothing for the staged load to trim? */
extern bool clean_store_id(const char *id);
/*
 * TRUNCATE table (a qualified name) when it is empty and this role may, so
 * that a COPY in the same subtransaction may use FREEZE; true when it did.
 * Only with SELECT and TRUNCATE, no row security to hide rows, in READ
 * COMMITTED so that the check under the lock sees every committed row, and
 * never waiting for the lock: a table in use is loaded the ordinary way.
 */
extern bool truncate_if_empty(Target *t, const char *table);

#endif /* STOREMON_DIRECT_LOAD_H */
