/*
 * schedule.c — business hours as UTC intervals (see schedule.h).
 *
 * Plain C, no server calls.
 */
#include <stdlib.h>

#include "schedule.h"

/* Local day numbers count from 2000-01-01, a Saturday; Monday is 2 days on. */
#define SM_FIRST_MONDAY_US (INT64_C(2) * SM_USECS_PER_DAY)

static int
interval_cmp(const void *a, const void *b)
{
	const SmInterval *x = a;
	const SmInterval *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	return 0;
}

/* Append [lo, hi) to a sorted list, merging it into the last one if they touch. */
static int
append_merged(SmInterval *out, int n, int64_t lo, int64_t hi)
{
	if (lo >= hi)
		return n;
	if (n > 0 && lo <= out[n - 1].hi)
	{
		if (hi > out[n - 1].hi)
			out[n - 1].hi = hi;
		return n;
	}
	out[n].lo = lo;
	out[n].hi = hi;
	return n + 1;
}

int
sm_week_capacity(int nrows)
{
	return 2 * nrows;
}

/*
 * Each row becomes one or two pieces of the week line [0, 7 days):
 * s < e is [s, e) of its day; s = e is its whole day; s > e is [s, 24h) of
 * its day plus [0, e) of the next day, Sunday wrapping to Monday.
 */
void
sm_week_build(const SmHoursRow *rows, int nrows, SmWeekTemplate *week)
{
	int n = 0;
	int merged = 0;

	week->always_open = (nrows == 0);
	for (int i = 0; i < nrows; i++)
	{
		int64_t day0 = rows[i].day * SM_USECS_PER_DAY;
		int64_t next0 = ((rows[i].day + 1) % 7) * SM_USECS_PER_DAY;
		int64_t s = rows[i].start_us;
		int64_t e = rows[i].end_us;

		if (s < e)
			week->iv[n++] = (SmInterval){day0 + s, day0 + e};
		else if (s == e)
			week->iv[n++] = (SmInterval){day0, day0 + SM_USECS_PER_DAY};
		else
		{
			week->iv[n++] = (SmInterval){day0 + s, day0 + SM_USECS_PER_DAY};
			week->iv[n++] = (SmInterval){next0, next0 + e};
		}
	}
	qsort(week->iv, n, sizeof(SmInterval), interval_cmp);
	for (int i = 0; i < n; i++)
		merged = append_merged(week->iv, merged, week->iv[i].lo, week->iv[i].hi);
	week->count = merged;
}

/* Start (local microseconds) of the week holding local instant t. */
static int64_t
week_start(int64_t local)
{
	return sm_floor_div(local - SM_FIRST_MONDAY_US, SM_USECS_PER_WEEK) * SM_USECS_PER_WEEK +
	       SM_FIRST_MONDAY_US;
}

int
sm_business_capacity(const SmWeekTemplate *week, const SmOffsetSpan *spans, int nspans)
{
	int64_t total = 0;

	if (week->always_open)
		return nspans;
	for (int i = 0; i < nspans; i++)
	{
		int64_t first = week_start(spans[i].lo + spans[i].offset_us);
		int64_t last = week_start(spans[i].hi - 1 + spans[i].offset_us);

		total += ((last - first) / SM_USECS_PER_WEEK + 1) * week->count;
	}
	return (int)total;
}

int
sm_business_intervals(const SmWeekTemplate *week, const SmOffsetSpan *spans, int nspans,
                      SmInterval *out)
{
	int n = 0;

	for (int i = 0; i < nspans; i++)
	{
		const SmOffsetSpan *sp = &spans[i];
		int64_t llo = sp->lo + sp->offset_us; /* the span on the local clock */
		int64_t lhi = sp->hi + sp->offset_us;

		if (sp->lo >= sp->hi)
			continue;
		if (week->always_open)
		{
			n = append_merged(out, n, sp->lo, sp->hi);
			continue;
		}
		for (int64_t w0 = week_start(llo); w0 < lhi; w0 += SM_USECS_PER_WEEK)
		{
			for (int k = 0; k < week->count; k++)
			{
				int64_t lo = w0 + week->iv[k].lo;
				int64_t hi = w0 + week->iv[k].hi;

				if (lo < llo)
					lo = llo;
				if (hi > lhi)
					hi = lhi;
				if (lo < hi)
					n = append_merged(out, n, lo - sp->offset_us, hi - sp->offset_us);
			}
		}
	}
	return n;
}
