/*
 * requester.c — a claimed report computed as the role that asked for it
 * (see requester.h).
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tstoreReceiver.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/guc.h"
#include "utils/resowner.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "server/catalog.h"
#include "server/store_walk.h"
#include "worker/requester.h"

static void
spi_check(int rc, int expected, const char *what)
{
	if (rc != expected)
		elog(ERROR, "storemon: %s failed: %s", what, SPI_result_code_string(rc));
}

/* The columns of storemon_compute, which report_rows stores after the report's id. */
static TupleDesc
report_desc(void)
{
	static const char *const figures[] = {"uptime_last_hour",  "uptime_last_day",
	                                      "uptime_last_week",  "downtime_last_hour",
	                                      "downtime_last_day", "downtime_last_week"};
	TupleDesc desc = CreateTemplateTupleDesc(1 + lengthof(figures));

	TupleDescInitEntry(desc, 1, "store_id", TEXTOID, -1, 0);
	for (int i = 0; i < lengthof(figures); i++)
		TupleDescInitEntry(desc, 2 + i, figures[i], NUMERICOID, -1, 0);
	return desc;
}

/*
 * An extension that requires storemon may compute the rows of a report
 * itself (storemon_coordinator does, over shards): it provides, in its own
 * schema, storemon_report_as_of() and storemon_report_rows(timestamptz,
 * text).  Returns that schema, quoted, or NULL for storemon's own.  Only a
 * schema a superuser owns counts: no one else may plant functions there.
 */
static char *
report_source(void)
{
	char *schema = NULL;

	/* every operator qualified: this runs as superuser under any search_path */
	spi_check(
	    SPI_execute(
	        "SELECT pg_catalog.quote_ident(n.nspname) FROM pg_catalog.pg_extension e "
	        "JOIN pg_catalog.pg_depend d ON d.classid OPERATOR(pg_catalog.=) "
	        "    'pg_catalog.pg_extension'::pg_catalog.regclass "
	        "  AND d.objid OPERATOR(pg_catalog.=) e.oid "
	        "  AND d.refclassid OPERATOR(pg_catalog.=) "
	        "'pg_catalog.pg_extension'::pg_catalog.regclass "
	        "JOIN pg_catalog.pg_extension base ON base.oid OPERATOR(pg_catalog.=) d.refobjid "
	        "  AND base.extname OPERATOR(pg_catalog.=) 'storemon' "
	        "JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace "
	        "JOIN pg_catalog.pg_roles o ON o.oid OPERATOR(pg_catalog.=) n.nspowner AND o.rolsuper "
	        "WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_proc p "
	        "  WHERE p.pronamespace OPERATOR(pg_catalog.=) e.extnamespace "
	        "    AND p.proname OPERATOR(pg_catalog.=) 'storemon_report_rows') "
	        "ORDER BY e.extname LIMIT 2",
	        true, 2),
	    SPI_OK_SELECT, "looking for an extension that computes reports");
	if (SPI_processed > 1)
		ereport(ERROR,
		        (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
		         errmsg("storemon: more than one extension computes this database's reports"),
		         errhint("Keep one extension that provides storemon_report_rows().")));
	if (SPI_processed == 1)
		schema = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	return schema;
}

/* The source's as_of when none was asked for (the latest poll it holds). */
static bool
source_default_as_of(const char *source, TimestampTz *as_of)
{
	bool isnull;
	Datum d;

	spi_check(SPI_execute(psprintf("SELECT %s.storemon_report_as_of()", source), true, 1),
	          SPI_OK_SELECT, "finding the latest poll of the report's source");
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (!isnull)
		*as_of = DatumGetTimestampTz(d);
	return !isnull;
}

/* The report's as_of and rows, as the current user, into out. */
static void
compute_rows(const SmClaim *claim, const char *source, SmComputed *out)
{
	SPIExecuteOptions options = {0};
	ParamListInfo params;
	DestReceiver *dest;
	const char *sql;

	out->as_of = claim->as_of;
	out->have_as_of =
	    claim->as_of_given || (source != NULL ? source_default_as_of(source, &out->as_of)
	                                          : sm_default_as_of(&out->as_of));
	out->rows = NULL;
	if (!out->have_as_of)
		return;
	out->desc = report_desc();
	out->rows = tuplestore_begin_heap(false, false, work_mem);
	dest = CreateTuplestoreDestReceiver();
	SetTuplestoreDestReceiverParams(dest, out->rows, CurrentMemoryContext, false, NULL, NULL);
	params = makeParamList(2);
	params->params[0] =
	    (ParamExternData){TimestampTzGetDatum(out->as_of), false, PARAM_FLAG_CONST, TIMESTAMPTZOID};
	params->params[1] = (ParamExternData){CStringGetTextDatum(claim->interpolation), false,
	                                      PARAM_FLAG_CONST, TEXTOID};
	options.params = params;
	options.read_only = true;
	options.dest = dest;
	/* One statement, so the rows come straight from the executor. */
	sql = source != NULL ? psprintf("SELECT * FROM %s.storemon_report_rows($1, $2)", source)
	                     : psprintf("SELECT * FROM %s.storemon_compute($1, $2)",
	                                quote_identifier(get_namespace_name(sm_extension_schema())));
	spi_check(SPI_execute_extended(sql, &options), SPI_OK_SELECT, "computing the report");
	dest->rDestroy(dest);
}

/*
 * A source's server restarted since this worker's connection to it was
 * made (a shard, through PL/Proxy): the first call fails this way, and the
 * connection is made anew the next time.
 */
static bool
lost_connection(const ErrorData *e)
{
	return ERRCODE_TO_CATEGORY(e->sqlerrcode) == ERRCODE_CONNECTION_EXCEPTION ||
	       e->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN || e->sqlerrcode == ERRCODE_CRASH_SHUTDOWN;
}

/* compute_rows through a source, again once if a connection of its was lost. */
static void
compute_from_source(const SmClaim *claim, const char *source, SmComputed *out)
{
	MemoryContext context = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	volatile bool done = false;

	for (volatile int attempt = 1; !done; attempt++)
	{
		BeginInternalSubTransaction(NULL);
		MemoryContextSwitchTo(context);
		PG_TRY();
		{
			compute_rows(claim, source, out);
			ReleaseCurrentSubTransaction();
			done = true;
		}
		PG_CATCH();
		{
			ErrorData *e;

			MemoryContextSwitchTo(context);
			e = CopyErrorData();
			if (attempt > 1 || !lost_connection(e))
				PG_RE_THROW();
			FlushErrorState();
			RollbackAndReleaseCurrentSubTransaction();
			ereport(LOG, (errmsg("storemon: computing the report again: a connection of %s was "
			                     "lost (%s)",
			                     source, e->message)));
			FreeErrorData(e);
		}
		PG_END_TRY();
		MemoryContextSwitchTo(context);
		CurrentResourceOwner = owner;
	}
}

/* The requesting role: by its oid, which a rename keeps (by name for requests before 1.3). */
static Oid
requester_of(const SmClaim *claim)
{
	Oid role = claim->requested_by_role;

	if (OidIsValid(role) && !SearchSysCacheExists1(AUTHOID, ObjectIdGetDatum(role)))
		role = InvalidOid;
	else if (!OidIsValid(role))
		role = get_role_oid(claim->requested_by, true);
	if (!OidIsValid(role))
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
		                errmsg("storemon: role \"%s\", which requested the report, no longer "
		                       "exists",
		                       claim->requested_by)));
	return role;
}

/*
 * The settings a session of role would have that its policies may read:
 * custom ones (a dot in the name, such as app.tenant), from ALTER DATABASE,
 * ALTER ROLE and ALTER ROLE ... IN DATABASE, in that order.  Read and
 * applied as the role (every role may read pg_db_role_setting), inside the
 * caller's GUC nest level.
 */
static void
apply_role_settings(Oid role)
{
	Oid types[2] = {OIDOID, OIDOID};
	Datum values[2] = {ObjectIdGetDatum(role), ObjectIdGetDatum(MyDatabaseId)};
	List *settings = NIL;
	ListCell *lc;

	spi_check(
	    SPI_execute_with_args(
	        "SELECT c.setting FROM pg_catalog.pg_db_role_setting s, "
	        "  pg_catalog.unnest(s.setconfig) WITH ORDINALITY AS c(setting, n) "
	        "WHERE (s.setrole OPERATOR(pg_catalog.=) $1 OR s.setrole OPERATOR(pg_catalog.=) 0) "
	        "  AND (s.setdatabase OPERATOR(pg_catalog.=) $2 "
	        "       OR s.setdatabase OPERATOR(pg_catalog.=) 0) "
	        "  AND NOT (s.setrole OPERATOR(pg_catalog.=) 0 "
	        "           AND s.setdatabase OPERATOR(pg_catalog.=) 0) "
	        "ORDER BY s.setrole OPERATOR(pg_catalog.<>) 0, "
	        "  s.setdatabase OPERATOR(pg_catalog.<>) 0, c.n",
	        2, types, values, NULL, true, 0),
	    SPI_OK_SELECT, "reading the requester's settings");
	for (uint64 i = 0; i < SPI_processed; i++)
		settings = lappend(settings, SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));
	foreach (lc, settings)
	{
		char *name;
		char *value;

		ParseLongOption(lfirst(lc), &name, &value);
		if (value != NULL && strchr(name, '.') != NULL && strncmp(name, "storemon.", 9) != 0)
			(void)set_config_option(name, value, superuser() ? PGC_SUSET : PGC_USERSET,
			                        PGC_S_SESSION, GUC_ACTION_SET, true, WARNING, false);
	}
}

/*
 * The worker's own replica mode keeps other roles' triggers from firing in
 * it; the requester's code must not inherit that, or storemon's guards
 * (triggers too) would be off for what it writes.  It writes nothing: a
 * report only reads, and the setting cannot be undone once read.
 */
static void
requester_part_settings(void)
{
	(void)set_config_option("session_replication_role", "origin", PGC_SUSET, PGC_S_SESSION,
	                        GUC_ACTION_SAVE, true, ERROR, false);
	/*
	 * A plain SET: from 16 this setting refuses SAVE, and an aborted nest
	 * level undoes SETs too.  Nothing later can turn it off: a snapshot is
	 * taken.
	 */
	(void)set_config_option("transaction_read_only", "on", PGC_SUSET, PGC_S_SESSION, GUC_ACTION_SET,
	                        true, ERROR, false);
}

/*
 * The requester's part, with the requester as current user and as
 * session_user too: a policy may name either (applications that log in as
 * one role and SET ROLE key on session_user), and in its own session the
 * role is both.  The session user is no setting an aborted transaction puts
 * back, so it is put back here on an error too.
 */
static void
compute_as(Oid role, const SmClaim *claim, const char *source, const SmCatalog *cat,
           SmComputed *out)
{
	Oid saved_session = GetSessionUserId();
	/* looked up before: after an error the catalogues are not to be read */
	bool saved_session_super = superuser_arg(saved_session);
	bool role_super = superuser_arg(role);
	Oid saved_user;
	int saved_context;

	GetUserIdAndSecContext(&saved_user, &saved_context);
	PG_TRY();
	{
		SetSessionAuthorization(role, role_super);
		SetUserIdAndSecContext(role, saved_context | SECURITY_LOCAL_USERID_CHANGE |
		                                 SECURITY_RESTRICTED_OPERATION);
		apply_role_settings(role);
		sm_check_read_privileges(cat, role, false);
		if (source != NULL)
			compute_from_source(claim, source, out);
		else
			compute_rows(claim, NULL, out);
	}
	PG_FINALLY();
	{
		/* the session user is set outside a restricted context, and resets the current user */
		SetUserIdAndSecContext(saved_user, saved_context);
		SetSessionAuthorization(saved_session, saved_session_super);
		SetUserIdAndSecContext(saved_user, saved_context);
	}
	PG_END_TRY();
}

void
sm_compute_as_requester(const SmClaim *claim, SmComputed *out)
{
	Oid role = requester_of(claim);
	int guc_level;
	SmCatalog cat;
	char *source;

	source = report_source();
	sm_catalog_lookup(&cat);
	/*
	 * Whatever the requester's code (a policy, a function it calls) sets
	 * ends with this nest level: the worker's own statements never run
	 * under it.  An error ends the transaction, which restores both.
	 */
	guc_level = NewGUCNestLevel();
	requester_part_settings();
	compute_as(role, claim, source, &cat, out);
	AtEOXact_GUC(false, guc_level);
}
