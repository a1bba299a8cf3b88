/*
 * queue_sql.c — the queue's SQL-callable parts: the triggers that keep the
 * reports queue storemon's, a request's checks and its live progress.
 *
 *   guard_request      BEFORE INSERT OR UPDATE ON reports, per row: a
 *                      request is only what its caller may say
 *   guard_report_rows  BEFORE INSERT OR UPDATE ON report_rows, per statement
 *   guard_report_rows_delete  AFTER DELETE ON report_rows, BEFORE TRUNCATE
 *                      on both: a report's rows go only with their report
 *   wake_workers       AFTER INSERT ON reports, per statement: the
 *                      database's workers wake when the transaction commits
 *   check_request(as_of, interpolation)   a request's checks, before queuing
 *   progress(report_id)  what the worker computing it is doing
 *
 * Whatever a role was granted on reports, it sets only requested_as_of and
 * interpolation: every other column takes its default, evaluated here, so
 * requested_by is the inserting role and status is Queued.  The mode and
 * as_of are checked when the request is queued, so a bad one never reaches
 * the worker, and one role's Queued requests are capped.  Superusers (the
 * worker, pg_restore) write the table as it is.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "optimizer/optimizer.h"
#include "rewrite/rewriteHandler.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "server/call_args.h"
#include "server/catalog.h"
#include "server/store_walk.h"
#include "worker/queue.h"
#include "worker/shared_memory.h"
#include "worker/worker.h"

PG_FUNCTION_INFO_V1(storemon_guard_request);
PG_FUNCTION_INFO_V1(storemon_guard_report_rows);
PG_FUNCTION_INFO_V1(storemon_wake_workers);
PG_FUNCTION_INFO_V1(storemon_guard_report_rows_delete);

static TriggerData *
trigger_data(FunctionCallInfo fcinfo, const char *name, bool per_row)
{
	TriggerData *trigger = (TriggerData *)fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(trigger->tg_event) ||
	    (TRIGGER_FIRED_FOR_ROW(trigger->tg_event) != 0) != per_row)
		ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
		                errmsg("storemon: %s() is a BEFORE trigger FOR EACH %s", name,
		                       per_row ? "ROW" : "STATEMENT")));
	return trigger;
}

/* Column attno's default (NULL without one), evaluated as the inserting role. */
static Datum
column_default(Relation rel, int attno, bool *isnull)
{
	Expr *expr = (Expr *)build_column_default(rel, attno);
	Form_pg_attribute att = TupleDescAttr(RelationGetDescr(rel), attno - 1);
	ExprContext *econtext;
	Datum value;

	*isnull = true;
	if (expr == NULL)
		return (Datum)0;
	econtext = CreateStandaloneExprContext();
	value =
	    ExecEvalExprSwitchContext(ExecInitExpr(expression_planner(expr), NULL), econtext, isnull);
	if (!*isnull)
		value = datumCopy(value, att->attbyval, att->attlen); /* out of econtext's memory */
	FreeExprContext(econtext, true);
	return value;
}

/* One role cannot fill the queue: storemon.max_queued_reports_per_role. */
static void
check_fair_share(void)
{
	Oid role = GetUserId();
	int64 queued = sm_queued_requests_of(role);

	if (queued >= sm_max_queued_reports_per_role)
		ereport(ERROR, (errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
		                errmsg("storemon: role \"%s\" already has " INT64_FORMAT " reports queued",
		                       GetUserNameFromId(role, false), queued),
		                errdetail("storemon.max_queued_reports_per_role is %d.",
		                          sm_max_queued_reports_per_role),
		                errhint("Wait until they are computed, or ask an administrator to raise "
		                        "storemon.max_queued_reports_per_role.")));
}

static int
column(TupleDesc desc, const char *name)
{
	int attno = SPI_fnumber(desc, name);

	if (attno <= 0)
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
		                errmsg("storemon: storemon.reports has no column \"%s\"", name),
		                errhint("Reinstall the extension.")));
	return attno - 1;
}

/* A new request as storemon stores it. */
static HeapTuple
guarded_request(Relation rel, HeapTuple tuple)
{
	TupleDesc desc = RelationGetDescr(rel);
	Datum *values = palloc(sizeof(Datum) * desc->natts);
	bool *nulls = palloc(sizeof(bool) * desc->natts);
	int mode = column(desc, "interpolation");
	int as_of = column(desc, "requested_as_of");
	int status = column(desc, "status");
	int role = column(desc, "requested_by_role");

	heap_deform_tuple(tuple, desc, values, nulls);
	if (!superuser())
	{
		for (int i = 0; i < desc->natts; i++)
			if (i != mode && i != as_of && !TupleDescAttr(desc, i)->attisdropped)
				values[i] = column_default(rel, i + 1, &nulls[i]);
		/* the role itself, which its name (requested_by) may later not be */
		values[role] = ObjectIdGetDatum(GetUserId());
		nulls[role] = false;
		check_fair_share();
	}
	if (!nulls[status] &&
	    strcmp(TextDatumGetCString(values[status]), sm_report_status_name(SM_REPORT_QUEUED)) == 0)
	{
		values[mode] = CStringGetTextDatum(
		    sm_mode_name(sm_parse_mode(nulls[mode] ? NULL : DatumGetTextPP(values[mode]))));
		if (!nulls[as_of])
			sm_check_as_of(DatumGetTimestampTz(values[as_of]));
	}
	return heap_form_tuple(desc, values, nulls);
}

Datum
storemon_guard_request(PG_FUNCTION_ARGS)
{
	TriggerData *trigger = trigger_data(fcinfo, "guard_request", true);

	if (TRIGGER_FIRED_BY_INSERT(trigger->tg_event))
		return PointerGetDatum(guarded_request(trigger->tg_relation, trigger->tg_trigtuple));
	if (!superuser())
		ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
		                errmsg("storemon: reports are changed by storemon's worker only"),
		                errhint("Queue a new request with storemon_trigger_report(); "
		                        "storemon_purge_reports() deletes old ones.")));
	return PointerGetDatum(trigger->tg_newtuple);
}

Datum
storemon_guard_report_rows(PG_FUNCTION_ARGS)
{
	(void)trigger_data(fcinfo, "guard_report_rows", false);
	if (!superuser())
		ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
		                errmsg("storemon: report rows are written by storemon's worker only")));
	return PointerGetDatum(NULL);
}

/* Did this DELETE take rows of a report that stays?  Asked as the table's owner. */
static bool
deleted_rows_of_a_report(TriggerData *trigger)
{
	Oid saved_user;
	int saved_context;
	int guc_level;
	bool found;

	GetUserIdAndSecContext(&saved_user, &saved_context);
	SetUserIdAndSecContext(trigger->tg_relation->rd_rel->relowner,
	                       saved_context | SECURITY_LOCAL_USERID_CHANGE |
	                           SECURITY_RESTRICTED_OPERATION);
	guc_level = sm_pin_search_path();
	SPI_connect();
	if (SPI_register_trigger_data(trigger) != SPI_OK_TD_REGISTER ||
	    SPI_execute("SELECT 1 FROM deleted_rows d WHERE EXISTS (SELECT 1 FROM storemon.reports r "
	                "WHERE r.id OPERATOR(pg_catalog.=) d.report_id) LIMIT 1",
	                true, 1) != SPI_OK_SELECT)
		elog(ERROR, "storemon: checking deleted report rows failed");
	found = SPI_processed > 0;
	SPI_finish();
	sm_unpin_search_path(guc_level);
	SetUserIdAndSecContext(saved_user, saved_context);
	return found;
}

Datum
storemon_guard_report_rows_delete(PG_FUNCTION_ARGS)
{
	TriggerData *trigger = (TriggerData *)fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
		                errmsg("storemon: guard_report_rows_delete() is a trigger function")));
	if (superuser())
		return PointerGetDatum(NULL);
	if (TRIGGER_FIRED_BY_TRUNCATE(trigger->tg_event))
		ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
		                errmsg("storemon: TRUNCATE of storemon.%s is a superuser's",
		                       RelationGetRelationName(trigger->tg_relation)),
		                errhint("storemon_purge_reports() deletes old reports with their rows.")));
	if (deleted_rows_of_a_report(trigger))
		ereport(ERROR,
		        (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
		         errmsg("storemon: the rows of a report are deleted with the report"),
		         errhint("Delete the report (storemon_purge_reports()): its rows go with it.")));
	return PointerGetDatum(NULL);
}

/*
 * wake_workers: when the transaction commits, the database is marked
 * pending and its workers and the launcher are woken (shared_memory.c).  A
 * prepared transaction is woken for by COMMIT PREPARED (dbguard.c).
 */
static bool wake_pending = false;
static bool wake_callback_registered = false;

static void
wake_at_commit(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT && wake_pending && !sm_registry_wake(MyDatabaseId, false))
		ereport(WARNING, (errmsg("storemon: more than %d databases wait for report workers; "
		                         "this request is served once one of them is done",
		                         sm_max_databases),
		                  errhint("Raise storemon.max_databases.")));
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT || event == XACT_EVENT_PREPARE ||
	    event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT)
		wake_pending = false;
}

Datum
storemon_wake_workers(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
		                errmsg("storemon: wake_workers() is a trigger function")));
	if (!wake_callback_registered)
	{
		RegisterXactCallback(wake_at_commit, NULL);
		wake_callback_registered = true;
	}
	wake_pending = true;
	return PointerGetDatum(NULL);
}

/*
 * storemon_internal.progress(report_id): what the worker computing it is
 * doing, from shared memory; NULL when no live worker computes it, or when
 * the caller may not read that report (its grants and row security on
 * reports).  A worker waiting for a lock says so, with what kind of lock.
 */
PG_FUNCTION_INFO_V1(storemon_progress);

/* May the current user read this request through storemon.reports? */
static bool
report_readable(pg_uuid_t *id)
{
	Oid reports = get_relname_relid("reports", sm_extension_schema());
	Oid types[1] = {UUIDOID};
	Datum values[1] = {UUIDPGetDatum(id)};
	int guc_level;
	bool found;

	if (!OidIsValid(reports) || pg_class_aclcheck(reports, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		return false;
	guc_level = sm_pin_search_path();
	SPI_connect();
	if (SPI_execute_with_args(
	        "SELECT 1 FROM storemon.reports r WHERE r.id OPERATOR(pg_catalog.=) $1", 1, types,
	        values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "storemon: looking up the report failed");
	found = SPI_processed == 1;
	SPI_finish();
	sm_unpin_search_path(guc_level);
	return found;
}

Datum
storemon_progress(PG_FUNCTION_ARGS)
{
	pg_uuid_t *id = PG_GETARG_UUID_P(0);
	char *text;

	if (!report_readable(id))
		PG_RETURN_NULL();
	text = sm_report_progress(id);
	if (text == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(text));
}

/* storemon_check_request(as_of, interpolation): the checks of a report request. */
PG_FUNCTION_INFO_V1(storemon_check_request);

Datum
storemon_check_request(PG_FUNCTION_ARGS)
{
	(void)sm_parse_mode(PG_ARGISNULL(1) ? NULL : PG_GETARG_TEXT_PP(1));
	if (!PG_ARGISNULL(0))
		sm_check_as_of(PG_GETARG_TIMESTAMPTZ(0));
	PG_RETURN_VOID();
}
