/*
 * figures.c — one store's figures (see figures.h).
 *
 * Plain C, no server calls: business intervals (schedule.c) are swept
 * against status segments (interpolation.c) once per window.
 */
#include <stdio.h>

#include "figures.h"

const int64_t sm_window_us[SM_NWINDOWS] = {SM_USECS_PER_HOUR, SM_USECS_PER_DAY, SM_USECS_PER_WEEK};

SmInterval
sm_period_window(int64_t as_of, int64_t period_us)
{
	return (SmInterval){as_of - period_us + 1, as_of + 1};
}

SmInterval
sm_week_window(int64_t as_of)
{
	return sm_period_window(as_of, SM_USECS_PER_WEEK);
}

/*
 * Add the open part of [lo, hi) to up/down by the segments it crosses.
 * *seg is a cursor: intervals come in order, so it only moves forward.
 */
static void
add_by_status(int64_t lo, int64_t hi, const SmSegment *segments, int nsegments, int *seg,
              int64_t *up, int64_t *down)
{
	while (*seg < nsegments && segments[*seg].hi <= lo)
		(*seg)++;
	for (int k = *seg; k < nsegments && segments[k].lo < hi; k++)
	{
		int64_t a = segments[k].lo > lo ? segments[k].lo : lo;
		int64_t b = segments[k].hi < hi ? segments[k].hi : hi;

		if (segments[k].active)
			*up += b - a;
		else
			*down += b - a;
	}
}

void
sm_window_figures(const SmInterval *business, int nbusiness, const SmSegment *segments,
                  int nsegments, int64_t as_of, SmFigures *out)
{
	for (int w = 0; w < SM_NWINDOWS; w++)
	{
		int64_t wlo = as_of - sm_window_us[w] + 1;
		int64_t whi = as_of + 1;
		int seg = 0;

		out->up_us[w] = 0;
		out->down_us[w] = 0;
		for (int i = 0; i < nbusiness; i++)
		{
			int64_t lo = business[i].lo > wlo ? business[i].lo : wlo;
			int64_t hi = business[i].hi < whi ? business[i].hi : whi;

			if (lo < hi)
				add_by_status(lo, hi, segments, nsegments, &seg, &out->up_us[w], &out->down_us[w]);
		}
	}
}

/* Make sure *arr holds at least need elements of size elem. */
static void
reserve(void **arr, int *cap, int need, size_t elem)
{
	if (need <= *cap)
		return;
	if (need < 2 * *cap)
		need = 2 * *cap;
	*arr = sm_grow(*arr, (size_t)need * elem);
	*cap = need;
}

void
sm_store_timeline(SmStoreInput *in, SmScratch *scratch, SmTimeline *out)
{
	SmWeekTemplate week;
	int npolls;

	reserve((void **)&scratch->week, &scratch->week_cap, sm_week_capacity(in->nhours) + 1,
	        sizeof(SmInterval));
	week.iv = scratch->week;
	sm_week_build(in->hours, in->nhours, &week);

	reserve((void **)&scratch->business, &scratch->business_cap,
	        sm_business_capacity(&week, in->spans, in->nspans) + 1, sizeof(SmInterval));
	out->nbusiness = sm_business_intervals(&week, in->spans, in->nspans, scratch->business);
	out->business = scratch->business;

	npolls = sm_polls_dedupe(in->polls, in->npolls);
	reserve((void **)&scratch->segments, &scratch->segments_cap, npolls + 1, sizeof(SmSegment));
	out->nsegments = sm_status_segments(in->polls, npolls, in->mode, scratch->segments);
	out->segments = scratch->segments;
}

void
sm_store_figures(SmStoreInput *in, SmScratch *scratch, SmFigures *out)
{
	SmTimeline timeline;

	sm_store_timeline(in, scratch, &timeline);
	sm_window_figures(timeline.business, timeline.nbusiness, timeline.segments, timeline.nsegments,
	                  in->as_of, out);
}

void
sm_window_totals(const SmTimeline *timeline, SmInterval window, SmTotals *out)
{
	int seg = 0;

	*out = (SmTotals){0, 0, 0};
	for (int i = 0; i < timeline->nbusiness; i++)
	{
		int64_t lo = timeline->business[i].lo > window.lo ? timeline->business[i].lo : window.lo;
		int64_t hi = timeline->business[i].hi < window.hi ? timeline->business[i].hi : window.hi;

		if (lo < hi)
			add_by_status(lo, hi, timeline->segments, timeline->nsegments, &seg, &out->up_us,
			              &out->down_us);
	}
	out->business_us = out->up_us + out->down_us;
}

/*
 * Each episode is a business interval cut by an inactive segment, so there
 * are at most nbusiness + nsegments of them.  Pieces are maximal already
 * (touching business intervals are merged, neighbouring segments differ),
 * but a piece that touches the one before is still joined to it, so that
 * "maximal" holds by construction, not by the inputs' promises.
 */
int
sm_outages(const SmTimeline *timeline, SmInterval window, SmScratch *scratch)
{
	const SmSegment *segments = timeline->segments;
	int n = 0;
	int seg = 0;

	reserve((void **)&scratch->outages, &scratch->outages_cap,
	        timeline->nbusiness + timeline->nsegments + 1, sizeof(SmInterval));
	for (int i = 0; i < timeline->nbusiness; i++)
	{
		int64_t lo = timeline->business[i].lo > window.lo ? timeline->business[i].lo : window.lo;
		int64_t hi = timeline->business[i].hi < window.hi ? timeline->business[i].hi : window.hi;

		if (lo >= hi)
			continue;
		while (seg < timeline->nsegments && segments[seg].hi <= lo)
			seg++;
		for (int k = seg; k < timeline->nsegments && segments[k].lo < hi; k++)
		{
			int64_t a = segments[k].lo > lo ? segments[k].lo : lo;
			int64_t b = segments[k].hi < hi ? segments[k].hi : hi;

			if (segments[k].active)
				continue;
			if (n > 0 && scratch->outages[n - 1].hi == a)
				scratch->outages[n - 1].hi = b;
			else
				scratch->outages[n++] = (SmInterval){a, b};
		}
	}
	return n;
}

int64_t
sm_round_hundredths(int64_t us, int64_t unit_us)
{
	int64_t scaled = us * 100; /* at most a week: no overflow */

	if (scaled >= 0)
		return (scaled + unit_us / 2) / unit_us;
	return -((-scaled + unit_us / 2) / unit_us);
}

void
sm_format_hundredths(int64_t hundredths, char *buf)
{
	int64_t a = hundredths < 0 ? -hundredths : hundredths;

	snprintf(buf, 24, "%s%lld.%02lld", hundredths < 0 ? "-" : "", (long long)(a / 100),
	         (long long)(a % 100));
}
