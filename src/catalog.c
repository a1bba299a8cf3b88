/*
 * catalog.c — find storemon's relations through its extension schema.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_extension.h"
#include "commands/extension.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "catalog.h"

/* PostgreSQL 15 keeps get_extension_schema() static, so read pg_extension. */
Oid
sm_extension_schema(void)
{
	Oid ext = get_extension_oid("storemon", false);
	Relation rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple tuple;
	Oid schema = InvalidOid;

	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(ext));
	scan = systable_beginscan(rel, ExtensionOidIndexId, true, NULL, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
		schema = ((Form_pg_extension)GETSTRUCT(tuple))->extnamespace;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	if (!OidIsValid(schema))
		elog(ERROR, "storemon: extension %u has no schema", ext);
	return schema;
}

static Oid
relation_in(Oid schema, const char *name)
{
	Oid relid = get_relname_relid(name, schema);

	if (!OidIsValid(relid))
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
		                errmsg("storemon: relation \"%s.%s\" is missing",
		                       get_namespace_name(schema), name),
		                errhint("Reinstall the extension: DROP EXTENSION storemon; CREATE "
		                        "EXTENSION storemon.")));
	return relid;
}

void
sm_catalog_lookup(SmCatalog *cat)
{
	cat->schema = sm_extension_schema();
	cat->store_status = relation_in(cat->schema, "store_status");
	cat->store_status_store_time_idx = relation_in(cat->schema, "store_status_store_time_idx");
	cat->store_status_time_idx = relation_in(cat->schema, "store_status_time_idx");
	cat->menu_hours = relation_in(cat->schema, "menu_hours");
	cat->menu_hours_store_idx = relation_in(cat->schema, "menu_hours_store_idx");
	cat->timezones = relation_in(cat->schema, "timezones");
	cat->timezones_pkey = relation_in(cat->schema, "timezones_pkey");
}
