/*
 * sql_call.c — the request from a call's arguments, and rows in store_id
 * order (see sql_call.h).
 *
 * The computation walks the index backwards, so rows arrive last store_id
 * first.  They go into a tuplestore, which spills to disk past work_mem, and
 * are returned from it backwards: the backend's memory stays bounded by one
 * store's data however many rows there are.
 */
#include "postgres.h"

#include "executor/tuptable.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "sql_call.h"

static bool
has_arg(FunctionCallInfo fcinfo, int n)
{
	return n >= 0 && n < PG_NARGS() && !PG_ARGISNULL(n);
}

bool
sm_request_from_call(FunctionCallInfo fcinfo, const SmCallArgs *args, SmComputeRequest *req)
{
	memset(req, 0, sizeof(*req));
	req->mode = sm_parse_mode(
	    has_arg(fcinfo, args->interpolation) ? PG_GETARG_TEXT_PP(args->interpolation) : NULL);
	if (args->period >= 0 && args->period < PG_NARGS() && PG_ARGISNULL(args->period))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
		                errmsg("storemon: period must not be NULL"),
		                errhint("Pass an interval such as '7 days', or leave the default.")));
	if (has_arg(fcinfo, args->from_store))
		req->from = PG_GETARG_TEXT_PP(args->from_store);
	if (has_arg(fcinfo, args->to_store))
		req->to = PG_GETARG_TEXT_PP(args->to_store);
	if (has_arg(fcinfo, args->store_ids))
		req->store_ids = sm_store_id_list(PG_GETARG_ARRAYTYPE_P(args->store_ids), &req->nstore_ids);
	if (has_arg(fcinfo, args->as_of))
		req->as_of = PG_GETARG_TIMESTAMPTZ(args->as_of);
	else if (!sm_default_as_of(&req->as_of))
		return false;
	sm_check_as_of(req->as_of);
	req->period_us = has_arg(fcinfo, args->period)
	                     ? sm_period_us(PG_GETARG_INTERVAL_P(args->period), req->as_of)
	                     : SM_USECS_PER_WEEK;
	return true;
}

void
sm_rows_begin(FunctionCallInfo fcinfo, SmDescendingRows *out)
{
	out->rsinfo = (ReturnSetInfo *)fcinfo->resultinfo;
	if (out->rsinfo->setResult == NULL)
		InitMaterializedSRF(fcinfo, 0);
	out->row_context =
	    AllocSetContextCreate(CurrentMemoryContext, "storemon row", ALLOCSET_SMALL_SIZES);
	/* random access: read backwards at the end */
	out->rows = tuplestore_begin_heap(true, false, work_mem);
}

void
sm_rows_put(SmDescendingRows *out, Datum *values, bool *nulls)
{
	tuplestore_putvalues(out->rows, out->rsinfo->setDesc, values, nulls);
	MemoryContextReset(out->row_context);
}

void
sm_rows_return(SmDescendingRows *out)
{
	TupleTableSlot *slot = MakeSingleTupleTableSlot(out->rsinfo->setDesc, &TTSOpsMinimalTuple);

	/* to the end, from where backward reads start at the last row */
	(void)tuplestore_skiptuples(out->rows, PG_INT64_MAX, true);
	while (tuplestore_gettupleslot(out->rows, false, false, slot))
		tuplestore_puttupleslot(out->rsinfo->setResult, slot);
	ExecDropSingleTupleTableSlot(slot);
	tuplestore_end(out->rows);
	MemoryContextDelete(out->row_context);
}

Datum
sm_hundredths_numeric(int64 us, int64 unit_us)
{
	char buf[24];

	sm_format_hundredths(sm_round_hundredths(us, unit_us), buf);
	return DirectFunctionCall3(numeric_in, CStringGetDatum(buf), ObjectIdGetDatum(InvalidOid),
	                           Int32GetDatum(-1));
}
