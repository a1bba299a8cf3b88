/*
 * fuzz_core.c — libFuzzer target over the plain-C core (schedule.c,
 * interpolation.c, figures.c), built with AddressSanitizer and
 * UndefinedBehaviorSanitizer (make fuzz).
 *
 * The input bytes become one store: an as_of anywhere in the range the
 * server accepts (store_walk.c's sm_check_as_of), up to 12 menu_hours rows,
 * a week window split into up to 4 stretches of UTC offsets from -15 h to
 * +15 h, and up to 24 polls anywhere from long before to after the window.
 * Properties checked, each an abort on failure:
 *   - no crash, no undefined behaviour (the sanitizers);
 *   - nothing negative;
 *   - uptime + downtime is the business time of the window, the same in
 *     both interpolation modes, and never more than the window;
 *   - a store with no hours on one offset is open for the whole window.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "figures.h"

#define AS_OF_MIN (INT64_C(-211813488000000000) + 2 * SM_USECS_PER_WEEK)
#define AS_OF_MAX (INT64_C(9223371331200000000) - 2 * SM_USECS_PER_WEEK)

typedef struct Bytes
{
	const uint8_t *p;
	size_t n;
} Bytes;

static uint64_t
take(Bytes *b, int nbytes)
{
	uint64_t v = 0;

	for (int i = 0; i < nbytes; i++)
	{
		v = (v << 8) | (b->n > 0 ? *b->p : 0);
		if (b->n > 0)
		{
			b->p++;
			b->n--;
		}
	}
	return v;
}

/* A value in [lo, hi], from 8 bytes. */
static int64_t
take_range(Bytes *b, int64_t lo, int64_t hi)
{
	uint64_t span = (uint64_t)hi - (uint64_t)lo;
	uint64_t v = take(b, 8);

	return span == UINT64_MAX ? (int64_t)v : (int64_t)((uint64_t)lo + v % (span + 1));
}

static void
check(int ok, const char *what)
{
	if (!ok)
	{
		fprintf(stderr, "property violated: %s\n", what);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Any window's totals equal the report's figures for its three windows,
 * and the outage episodes of a window are ordered, apart, inside it, made
 * of business time, and add up to its downtime exactly.
 */
static void
check_windows_and_outages(SmStoreInput *in, SmScratch *scratch, const SmFigures *fig)
{
	SmTimeline tl;

	sm_store_timeline(in, scratch, &tl);
	for (int w = 0; w < SM_NWINDOWS; w++)
	{
		SmInterval window = sm_period_window(in->as_of, sm_window_us[w]);
		SmTotals t;
		int n;
		int64_t sum = 0;
		int b = 0;

		sm_window_totals(&tl, window, &t);
		check(t.up_us == fig->up_us[w] && t.down_us == fig->down_us[w],
		      "window totals equal the report's figures");
		n = sm_outages(&tl, window, scratch);
		for (int i = 0; i < n; i++)
		{
			SmInterval ep = scratch->outages[i];

			check(ep.lo < ep.hi && ep.lo >= window.lo && ep.hi <= window.hi,
			      "an episode is non-empty and inside the window");
			check(i == 0 || scratch->outages[i - 1].hi < ep.lo,
			      "episodes are in order and neither overlap nor touch");
			while (b < tl.nbusiness && tl.business[b].hi <= ep.lo)
				b++;
			check(b < tl.nbusiness && tl.business[b].lo <= ep.lo && ep.hi <= tl.business[b].hi,
			      "an episode lies inside one business interval");
			sum += ep.hi - ep.lo;
		}
		check(sum == t.down_us, "episodes add up to the downtime");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Bytes b = {data, size};
	SmHoursRow hours[12];
	SmOffsetSpan spans[4];
	SmPoll polls[24], copy[24];
	SmScratch scratch = {0};
	SmFigures fig[2];
	int64_t as_of = take_range(&b, AS_OF_MIN, AS_OF_MAX);
	SmInterval window = sm_week_window(as_of);
	int nhours = (int)(take(&b, 1) % 13);
	int nspans = 1 + (int)(take(&b, 1) % 4);
	int npolls = 1 + (int)(take(&b, 1) % 24);
	int64_t cut = window.lo;

	for (int i = 0; i < nhours; i++)
	{
		hours[i].day = (int)(take(&b, 1) % 7);
		hours[i].start_us = take_range(&b, 0, SM_USECS_PER_DAY);
		hours[i].end_us = take_range(&b, 0, SM_USECS_PER_DAY);
	}
	for (int i = 0; i < nspans; i++)
	{
		int64_t hi = i == nspans - 1 ? window.hi : take_range(&b, cut, window.hi);

		spans[i] = (SmOffsetSpan){cut, hi,
		                          take_range(&b, -15 * SM_USECS_PER_HOUR, 15 * SM_USECS_PER_HOUR)};
		cut = hi;
	}
	for (int i = 0; i < npolls; i++)
	{
		polls[i].at = take_range(&b, as_of - 4 * SM_USECS_PER_WEEK, as_of);
		polls[i].active = take(&b, 1) & 1;
	}
	/* the server hands polls over sorted by time */
	for (int i = 1; i < npolls; i++)
		for (int j = i; j > 0 && polls[j - 1].at > polls[j].at; j--)
		{
			SmPoll t = polls[j];

			polls[j] = polls[j - 1];
			polls[j - 1] = t;
		}

	for (int m = 0; m < 2; m++)
	{
		SmStoreInput in = {copy,  npolls, hours, nhours,
		                   spans, nspans, as_of, m == 0 ? SM_NEAREST : SM_PREVIOUS};

		memcpy(copy, polls, sizeof(SmPoll) * npolls);
		sm_store_figures(&in, &scratch, &fig[m]);
		memcpy(copy, polls, sizeof(SmPoll) * npolls);
		check_windows_and_outages(&in, &scratch, &fig[m]);
	}
	for (int w = 0; w < SM_NWINDOWS; w++)
	{
		int64_t total = fig[0].up_us[w] + fig[0].down_us[w];

		check(fig[0].up_us[w] >= 0 && fig[0].down_us[w] >= 0 && fig[1].up_us[w] >= 0 &&
		          fig[1].down_us[w] >= 0,
		      "nothing negative");
		check(total == fig[1].up_us[w] + fig[1].down_us[w],
		      "business time is the same in both modes");
		check(total <= sm_window_us[w], "business time fits the window");
		if (nhours == 0 && nspans == 1)
			check(total == sm_window_us[w], "no hours: open through the whole window");
	}
	free(scratch.week);
	free(scratch.business);
	free(scratch.segments);
	free(scratch.outages);
	return 0;
}
