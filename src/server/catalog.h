/*
 * catalog.h — where storemon's tables and indexes are.
 *
 * Everything is found in the extension's own schema, never through the
 * caller's search_path, so a user's table called store_status cannot be
 * picked up by mistake.
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

/* The schema holding storemon's tables and API (storemon--1.0.sql). */
#define SM_SCHEMA "storemon"

/* Its oid; raises an error if the extension or its schema is missing. */
extern Oid sm_extension_schema(void);

/*
 * Raise "permission denied" unless role may SELECT the tables a report
 * reads (only store_status with polls_only), as pg_prewarm checks its
 * caller before it reads a relation.
 */
extern void sm_check_read_privileges(const SmCatalog *cat, Oid role, bool polls_only);

/*
 * SQL that storemon runs through SPI in a caller's session resolves its
 * operators, functions and collations in pg_catalog alone, as a function
 * with SET search_path does: sm_pin_search_path() returns a GUC nest level
 * that sm_unpin_search_path() ends (an error ends it too).
 */
extern int sm_pin_search_path(void);
extern void sm_unpin_search_path(int level);

#endif /* SM_CATALOG_H */
