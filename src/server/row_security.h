/*
 * row_security.h — the report's reads for a role under row security.
 *
 * store_walk.c reads the three tables through their indexes, which hold every
 * row.  For a table whose row security applies to the current user
 * (check_enable_rls), its rows are read instead by a query to which the
 * planner adds the table's policies, so the report sees exactly what a
 * SELECT by that role returns.  Each query is a stream of rows in
 * descending store_id order with the columns of the index it replaces, so
 * it merges with the store walk as the index would.  Store ids are still
 * walked in the poll index, only to ask for them: a store none of whose
 * polls the role may see gets no row.
 */
#ifndef SM_ROW_SECURITY_H
#define SM_ROW_SECURITY_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "executor/spi.h"

#include "server/catalog.h"

typedef enum SmPolicyTable
{
	SM_POLICY_POLLS, /* store_id, timestamp_utc, status */
	SM_POLICY_HOURS, /* store_id, day_of_week, start_time_local, end_time_local */
	SM_POLICY_ZONES, /* store_id, timezone_str */
	SM_POLICY_TABLES
} SmPolicyTable;

/* Which tables the current user reads under their policies, and their prepared queries. */
typedef struct SmPolicyReads
{
	bool applies[SM_POLICY_TABLES];
	SPIPlanPtr every_store[SM_POLICY_TABLES]; /* prepared when first used */
	SPIPlanPtr listed[SM_POLICY_TABLES];
} SmPolicyReads;

typedef struct SmPolicyStream SmPolicyStream;

/* Does row security apply to the current user on this table, or any of the report's? */
extern bool sm_table_under_policies(Oid relid);
extern bool sm_row_security_applies(const SmCatalog *cat);

/* Fill r for the current user; false (nothing to do) when no table applies row security. */
extern bool sm_policy_reads_begin(const SmCatalog *cat, SmPolicyReads *r);
extern void sm_policy_reads_end(SmPolicyReads *r);

/*
 * The rows the role may see of table, in descending store_id order: of
 * every store (nids 0; not for polls), or of the stores ids lists,
 * descending.  For polls: each store's from as_of back to its last poll at
 * or before since (and any at that instant), newest first.
 */
extern SmPolicyStream *sm_policy_stream_open(SmPolicyReads *r, SmPolicyTable table, text **ids,
                                             int nids, TimestampTz as_of, TimestampTz since);

/* The next row's columns (valid until the next call); false at the end. */
extern bool sm_policy_stream_next(SmPolicyStream *s, Datum *values, bool *isnull);
extern void sm_policy_stream_close(SmPolicyStream *s);

/* The latest poll the current user may see; false when it sees none. */
extern bool sm_policy_default_as_of(TimestampTz *as_of);

#endif /* SM_ROW_SECURITY_H */
