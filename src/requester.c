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
 * Is this database a coordinator over shards (storemon_coordinator)?  Then
 * its reports are gathered from the shards through PL/Proxy.
 */
static bool
is_coordinator(void)
{
	spi_check(SPI_execute("SELECT 1 FROM pg_catalog.pg_extension "
	                      "WHERE extname OPERATOR(pg_catalog.=) 'storemon_coordinator'",
	                      true, 1),
	          SPI_OK_SELECT, "looking for storemon_coordinator");
	return SPI_processed == 1;
}

/* The latest poll across all shards, fixed before any shard computes. */
static bool
shards_default_as_of(TimestampTz *as_of)
{
	bool isnull;
	Datum d;

	spi_check(SPI_execute("SELECT storemon_coordinator.storemon_default_as_of()", true, 1),
	          SPI_OK_SELECT, "finding the latest poll on the shards");
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (!isnull)
		*as_of = DatumGetTimestampTz(d);
	return !isnull;
}

/* The report's as_of and rows, as the current user, into out. */
static void
compute_rows(const SmClaim *claim, bool sharded, SmComputed *out)
{
	SPIExecuteOptions options = {0};
	ParamListInfo params;
	DestReceiver *dest;
	const char *sql;

	out->as_of = claim->as_of;
	out->have_as_of = claim->as_of_given ||
	                  (sharded ? shards_default_as_of(&out->as_of) : sm_default_as_of(&out->as_of));
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
	sql = sharded ? "SELECT * FROM storemon_coordinator.report_rows($1, $2)"
	              : psprintf("SELECT * FROM %s.storemon_compute($1, $2)",
	                         quote_identifier(get_namespace_name(sm_extension_schema())));
	spi_check(SPI_execute_extended(sql, &options), SPI_OK_SELECT, "computing the report");
	dest->rDestroy(dest);
}

/*
 * A shard restarted since this worker's PL/Proxy connection was made: the
 * first call through it fails this way, and PL/Proxy reconnects next time.
 */
static bool
lost_connection(const ErrorData *e)
{
	return ERRCODE_TO_CATEGORY(e->sqlerrcode) == ERRCODE_CONNECTION_EXCEPTION ||
	       e->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN || e->sqlerrcode == ERRCODE_CRASH_SHUTDOWN;
}

/* compute_rows through the shards, again once if a shard connection was lost. */
static void
compute_sharded(const SmClaim *claim, SmComputed *out)
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
			compute_rows(claim, true, out);
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
			ereport(LOG, (errmsg("storemon: computing the report again: a shard connection was "
			                     "lost (%s)",
			                     e->message)));
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
	bool sharded;

	if (!OidIsValid(role))
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
		                errmsg("storemon: role \"%s\", which requested the report, no longer "
		                       "exists",
		                       claim->requested_by)));
	sharded = is_coordinator();
	sm_catalog_lookup(&cat);
	GetUserIdAndSecContext(&saved_user, &saved_context);
	/* An error ends the transaction, which restores the worker's own identity. */
	SetUserIdAndSecContext(role, saved_context | SECURITY_LOCAL_USERID_CHANGE |
	                                 SECURITY_RESTRICTED_OPERATION);
	sm_check_read_privileges(&cat, role, false);
	if (sharded)
		compute_sharded(claim, out);
	else
		compute_rows(claim, false, out);
	SetUserIdAndSecContext(saved_user, saved_context);
}
