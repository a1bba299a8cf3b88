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
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "catalog.h"
#include "compute.h"
#include "requester.h"

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
 * text).  Returns that schema, quoted, or NULL for storemon's own.
 */
static char *
report_source(void)
{
	char *schema = NULL;

	spi_check(SPI_execute("SELECT pg_catalog.quote_ident(n.nspname) FROM pg_catalog.pg_extension e "
	                      "JOIN pg_catalog.pg_depend d ON d.classid = "
	                      "'pg_catalog.pg_extension'::pg_catalog.regclass "
	                      "  AND d.objid = e.oid "
	                      "  AND d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass "
	                      "JOIN pg_catalog.pg_extension base ON base.oid = d.refobjid "
	                      "  AND base.extname OPERATOR(pg_catalog.=) 'storemon' "
	                      "JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace "
	                      "WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_proc p "
	                      "  WHERE p.pronamespace = e.extnamespace "
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

void
sm_compute_as_requester(const SmClaim *claim, SmComputed *out)
{
	Oid role = get_role_oid(claim->requested_by, true);
	Oid saved_user;
	int saved_context;
	SmCatalog cat;
	char *source;

	if (!OidIsValid(role))
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
		                errmsg("storemon: role \"%s\", which requested the report, no longer "
		                       "exists",
		                       claim->requested_by)));
	source = report_source();
	sm_catalog_lookup(&cat);
	GetUserIdAndSecContext(&saved_user, &saved_context);
	/* An error ends the transaction, which restores the worker's own identity. */
	SetUserIdAndSecContext(role, saved_context | SECURITY_LOCAL_USERID_CHANGE |
	                                 SECURITY_RESTRICTED_OPERATION);
	sm_check_read_privileges(&cat, role, false);
	if (source != NULL)
		compute_from_source(claim, source, out);
	else
		compute_rows(claim, NULL, out);
	SetUserIdAndSecContext(saved_user, saved_context);
}
