/*
 * fixed_settings.c — the settings storemon's own processes run with (see
 * fixed_settings.h).
 */
#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/guc.h"
#include "utils/guc_tables.h"
#include "utils/memutils.h"

#include "compat.h"
#include "worker/fixed_settings.h"

struct SmSettings
{
	int n;
	const char **names;
	char **values;
};

SmSettings *
sm_settings_before_connect(void)
{
	MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
	SmSettings *server = palloc0(sizeof(SmSettings));
	struct config_generic **vars;

	/* plpgsql's settings are settings too before its first function runs */
	load_file("plpgsql", false);
	vars = get_guc_variables(&server->n);
	server->names = palloc(sizeof(char *) * server->n);
	server->values = palloc(sizeof(char *) * server->n);
	for (int i = 0; i < server->n; i++)
	{
		const char *value = GetConfigOption(vars[i]->name, true, false);

		server->names[i] = pstrdup(vars[i]->name);
		server->values[i] = value != NULL ? pstrdup(value) : NULL;
	}
	MemoryContextSwitchTo(old);
	return server;
}

static bool
from_pg_db_role_setting(GucSource source)
{
	return source == PGC_S_GLOBAL || source == PGC_S_DATABASE || source == PGC_S_USER ||
	       source == PGC_S_DATABASE_USER;
}

static const char *
server_value(const SmSettings *server, const char *name)
{
	for (int i = 0; i < server->n; i++)
		if (strcmp(server->names[i], name) == 0)
			return server->values[i];
	return NULL;
}

/* Put back the server's value of every setting a database or role changed. */
static void
undo_database_settings(const SmSettings *server)
{
	StringInfoData undone;
	int n;
	struct config_generic **vars = get_guc_variables(&n);

	initStringInfo(&undone);
	for (int i = 0; i < n; i++)
	{
		const char *name = vars[i]->name;
		const char *value;

		if (!from_pg_db_role_setting(vars[i]->source))
			continue;
		value = server_value(server, name);
		if ((vars[i]->flags & GUC_CUSTOM_PLACEHOLDER) != 0 || value == NULL ||
		    set_config_option(name, value, PGC_SUSET, PGC_S_OVERRIDE, GUC_ACTION_SET, true, WARNING,
		                      false) <= 0)
			ereport(LOG,
			        (errmsg("storemon worker cannot ignore the database's setting of %s", name),
			         errdetail("It belongs to a library the server has not loaded, or "
			                   "cannot be changed once connected.")));
		else
			appendStringInfo(&undone, "%s%s", undone.len > 0 ? ", " : "", name);
	}
	if (undone.len > 0)
		ereport(DEBUG1, (errmsg("storemon worker ignores the database's settings of %s and runs "
		                        "with the server's",
		                        undone.data)));
	pfree(undone.data);
}

void
sm_settings_after_connect(SmSettings *server)
{
	static const char *const fixed[][2] = {
	    {"search_path", "pg_catalog, pg_temp"},
	    {"default_transaction_read_only", "off"},
	    {"default_transaction_isolation", "read committed"},
	    {"statement_timeout", "0"},
	    {"lock_timeout", "0"},
	    {"idle_in_transaction_session_timeout", "0"},
	    /* triggers a role with TRIGGER on storemon's tables added do not fire as superuser */
	    {"session_replication_role", "replica"},
	    SM_TRANSACTION_TIMEOUT_SETTING};

	undo_database_settings(server);
	for (int i = 0; i < lengthof(fixed); i++)
		SetConfigOption(fixed[i][0], fixed[i][1], PGC_SUSET, PGC_S_OVERRIDE);
}
