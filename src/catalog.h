/*
 * catalog.h — where storemon's tables and indexes are.
 *
 * Everything is found through the schema the extension was created in,
 * never through the caller's search_path, so any schema name works and a
 * user's own table called store_status cannot be picked up by mistake.
 */
#ifndef SM_CATALOG_H
#define SM_CATALOG_H

#include "postgres.h"

typedef struct SmCatalog
{
	Oid schema;
	Oid store_status;
	Oid store_status_store_time_idx; /* (store_id, timestamp_utc): per-store, in time order */
	Oid store_status_time_idx;       /* (timestamp_utc): the default as_of */
	Oid menu_hours;
	Oid menu_hours_store_idx;
	Oid timezones;
	Oid timezones_pkey;
} SmCatalog;

/* Fill *cat; raises an error naming what is missing. */
extern void sm_catalog_lookup(SmCatalog *cat);

/* Schema of the installed extension; raises an error if it is not installed. */
extern Oid sm_extension_schema(void);

#endif /* SM_CATALOG_H */
