/*
 * windows.c — SQL-callable answers over any window ending at as_of:
 *
 *   storemon_window(as_of, interpolation, period, store_ids)
 *       business, up and down time of each store in (as_of - period, as_of]
 *   storemon_outages(as_of, interpolation, period, store_ids)
 *       each maximal stretch of business time a store was down in it
 *
 * Both read what the report reads (store_walk.c), back as far as the period
 * reaches, so a window of a week costs what the report costs.  Per store,
 * the outages' lengths add up exactly to storemon_window's downtime, which
 * for 1 hour, 1 day and 7 days is storemon_compute_exact's.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "server/call_args.h"
#include "server/result_rows.h"

PG_FUNCTION_INFO_V1(storemon_window);
PG_FUNCTION_INFO_V1(storemon_outages);

/* (as_of, interpolation, period, store_ids) */
static const SmCallArgs window_args = {0, 1, 2, -1, -1, 3};

static void
put_window_row(void *arg, const SmStore *store)
{
	SmDescendingRows *out = arg;
	MemoryContext old = MemoryContextSwitchTo(out->row_context);
	Datum values[7];
	bool nulls[7] = {0};
	SmTotals totals;

	sm_window_totals(&store->timeline, store->window, &totals);
	values[0] = PointerGetDatum(store->store_id);
	values[1] = Int64GetDatum(totals.business_us);
	values[2] = Int64GetDatum(totals.up_us);
	values[3] = Int64GetDatum(totals.down_us);
	values[4] = sm_hundredths_numeric(totals.business_us, SM_USECS_PER_HOUR);
	values[5] = sm_hundredths_numeric(totals.up_us, SM_USECS_PER_HOUR);
	values[6] = sm_hundredths_numeric(totals.down_us, SM_USECS_PER_HOUR);
	MemoryContextSwitchTo(old);
	sm_rows_put(out, values, nulls);
}

/* The wall-clock time of instant t in zone: timestamptz AT TIME ZONE, without a name lookup. */
static Datum
local_time(TimestampTz t, pg_tz *zone)
{
	struct pg_tm tm;
	fsec_t fsec;
	int offset;
	Timestamp local;

	if (timestamp2tm(t, &offset, &tm, &fsec, NULL, zone) != 0 ||
	    tm2timestamp(&tm, fsec, NULL, &local) != 0)
		ereport(ERROR, (errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
		                errmsg("storemon: timestamp out of range")));
	return TimestampGetDatum(local);
}

/*
 * An episode is [started_at, ended_at): its first down instant and the
 * first instant after it, so duration_us = ended_at - started_at.  Rows
 * are put last episode first: the whole result is returned reversed.
 */
static void
put_outage_rows(void *arg, const SmStore *store)
{
	SmDescendingRows *out = arg;
	int n = sm_outages(&store->timeline, store->window, store->scratch);
	Datum zone_name = CStringGetTextDatum(pg_get_timezone_name(store->zone));

	for (int i = n - 1; i >= 0; i--)
	{
		SmInterval ep = store->scratch->outages[i];
		MemoryContext old = MemoryContextSwitchTo(out->row_context);
		Datum values[8];
		bool nulls[8] = {0};

		values[0] = PointerGetDatum(store->store_id);
		values[1] = TimestampTzGetDatum(ep.lo);
		values[2] = TimestampTzGetDatum(ep.hi);
		values[3] = local_time(ep.lo, store->zone);
		values[4] = local_time(ep.hi, store->zone);
		values[5] = zone_name;
		values[6] = sm_hundredths_numeric(ep.hi - ep.lo, SM_USECS_PER_MIN);
		values[7] = Int64GetDatum(ep.hi - ep.lo);
		MemoryContextSwitchTo(old);
		sm_rows_put(out, values, nulls);
	}
}

static Datum
window_rows(FunctionCallInfo fcinfo, void (*put)(void *arg, const SmStore *store))
{
	SmDescendingRows out;
	SmStoreSink sink = {put, NULL, &out};
	SmComputeRequest req;

	if (!sm_request_from_call(fcinfo, &window_args, &req))
	{
		InitMaterializedSRF(fcinfo, 0);
		return (Datum)0; /* no polls at all: no rows */
	}
	sm_rows_of_stores(fcinfo, &out, &req, &sink);
	return (Datum)0;
}

Datum
storemon_window(PG_FUNCTION_ARGS)
{
	return window_rows(fcinfo, put_window_row);
}

Datum
storemon_outages(PG_FUNCTION_ARGS)
{
	return window_rows(fcinfo, put_outage_rows);
}
