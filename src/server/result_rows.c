/*
 * result_rows.c — a set-returning call's rows in store_id order (see
 * result_rows.h).
 *
 * The walk reads the index backwards, so rows arrive last store_id first.
 * They go into a tuplestore, which spills to disk past work_mem, and are
 * returned from it backwards: the backend's memory stays bounded by one
 * store's data however many rows there are.
 */
#include "postgres.h"

#include "executor/tuptable.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include "core/figures.h"
#include "server/result_rows.h"

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

void
sm_rows_of_stores(FunctionCallInfo fcinfo, SmDescendingRows *out, const SmComputeRequest *req,
                  const SmStoreSink *sink)
{
	sm_rows_begin(fcinfo, out);
	sm_compute_stores(req, sink);
	sm_rows_return(out);
}
