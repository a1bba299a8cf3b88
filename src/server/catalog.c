/*
 * catalog.c — find storemon's relations through its extension schema.
 */
#include "postgres.h"

#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_namespace.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/guc.h"
#include "commands/extension.h"
#include "utils/lsyscache.h"

#include "server/catalog.h"

/*
 * The schema "storemon" that the install script created: found by name and
 * then checked to belong to the extension, so that a schema of that name
 * someone else made (after the real one was renamed or dropped) is never
 * used.  It is owned by the superuser who ran CREATE EXTENSION.
 */
Oid
sm_extension_schema(void)
{
	Oid ext = get_extension_oid("storemon", false);
	Oid schema = get_namespace_oid(SM_SCHEMA, true);

	if (!OidIsValid(schema) || getExtensionOfObject(NamespaceRelationId, schema) != ext)
		ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
		                errmsg("storemon: schema \"%s\" is missing or is not the extension's own",
		                       SM_SCHEMA),
		                errhint("Reinstall the extension: DROP EXTENSION storemon; CREATE "
		                        "EXTENSION storemon.")));
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

/* Raise "permission denied" unless role may SELECT relid. */
static void
check_select(Oid relid, Oid role)
{
	if (pg_class_aclcheck(relid, role, ACL_SELECT) != ACLCHECK_OK)
		ereport(ERROR,
		        (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
		         errmsg("permission denied for table %s.%s", SM_SCHEMA, get_rel_name(relid)),
		         errdetail("Role \"%s\" needs SELECT on storemon.store_status, "
		                   "storemon.menu_hours and storemon.timezones to read store figures.",
		                   GetUserNameFromId(role, false))));
}

void
sm_check_read_privileges(const SmCatalog *cat, Oid role, bool polls_only)
{
	check_select(cat->store_status, role);
	if (polls_only)
		return;
	check_select(cat->menu_hours, role);
	check_select(cat->timezones, role);
}

int
sm_pin_search_path(void)
{
	int level = NewGUCNestLevel();

	(void)set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
	                        GUC_ACTION_SAVE, true, 0, false);
	return level;
}

void
sm_unpin_search_path(int level)
{
	AtEOXact_GUC(true, level);
}
