/*
 * report_functions.c — the report's figures as SQL functions:
 *
 *   storemon_compute(as_of, interpolation, from_store, to_store, store_ids)
 *       one row a store, figures in minutes / hours, numeric(.2); the
 *       optional bounds restrict it to from_store <= store_id < to_store,
 *       the list to the stores named
 *   storemon_compute_exact(...)  the same in microseconds
 *   storemon_default_as_of()     the as_of used when none is given
 *
 * Rows come back in store_id order with memory bounded by one store
 * (result_rows.h).
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "core/figures.h"
#include "server/call_args.h"
#include "server/parallel_report.h"
#include "server/result_rows.h"
#include "server/store_walk.h"

PG_FUNCTION_INFO_V1(storemon_compute);
PG_FUNCTION_INFO_V1(storemon_compute_exact);
PG_FUNCTION_INFO_V1(storemon_default_as_of);

/* Output column order of the CSV header in SPEC.md: uptimes, then downtimes. */
static const SmWindow window_order[SM_NWINDOWS] = {SM_LAST_HOUR, SM_LAST_DAY, SM_LAST_WEEK};

typedef struct ReportRows
{
	SmDescendingRows rows;
	bool exact;
} ReportRows;

static Datum
figure_datum(int64 us, SmWindow w, bool exact)
{
	if (exact)
		return Int64GetDatum(us);
	return sm_hundredths_numeric(us, w == SM_LAST_HOUR ? SM_USECS_PER_MIN : SM_USECS_PER_HOUR);
}

static void
put_report_row(void *arg, const SmStore *store)
{
	ReportRows *out = arg;
	MemoryContext old = MemoryContextSwitchTo(out->rows.row_context);
	Datum values[1 + 2 * SM_NWINDOWS];
	bool nulls[1 + 2 * SM_NWINDOWS] = {0};
	SmFigures figures;

	sm_window_figures(store->timeline.business, store->timeline.nbusiness, store->timeline.segments,
	                  store->timeline.nsegments, store->as_of, &figures);
	values[0] = PointerGetDatum(store->store_id);
	for (int i = 0; i < SM_NWINDOWS; i++)
	{
		SmWindow w = window_order[i];

		values[1 + i] = figure_datum(figures.up_us[w], w, out->exact);
		values[1 + SM_NWINDOWS + i] = figure_datum(figures.down_us[w], w, out->exact);
	}
	MemoryContextSwitchTo(old);
	sm_rows_put(&out->rows, values, nulls);
}

/* (as_of, interpolation, from_store, to_store, store_ids); 1.0 has no store_ids. */
static const SmCallArgs report_args = {0, 1, -1, 2, 3, 4};

static Datum
compute_report_rows(FunctionCallInfo fcinfo, bool exact)
{
	ReportRows out;
	SmStoreSink sink = {put_report_row, sm_progress_hook, &out};
	SmComputeRequest req;

	if (!sm_request_from_call(fcinfo, &report_args, &req))
	{
		InitMaterializedSRF(fcinfo, 0);
		return (Datum)0; /* no polls at all: a complete report with no rows */
	}
	if (req.from == NULL && req.to == NULL && req.store_ids == NULL)
	{
		/* the parallel query writes straight into the function's result */
		InitMaterializedSRF(fcinfo, 0);
		if (sm_parallel_report(fcinfo, exact ? "storemon_compute_exact" : "storemon_compute",
		                       req.as_of, PG_GETARG_TEXT_PP(1)))
			return (Datum)0;
	}
	out.exact = exact;
	sm_rows_of_stores(fcinfo, &out.rows, &req, &sink);
	return (Datum)0;
}

Datum
storemon_compute(PG_FUNCTION_ARGS)
{
	return compute_report_rows(fcinfo, false);
}

Datum
storemon_compute_exact(PG_FUNCTION_ARGS)
{
	return compute_report_rows(fcinfo, true);
}

Datum
storemon_default_as_of(PG_FUNCTION_ARGS)
{
	TimestampTz as_of;

	if (!sm_default_as_of(&as_of))
		PG_RETURN_NULL();
	PG_RETURN_TIMESTAMPTZ(as_of);
}
