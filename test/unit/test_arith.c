/*
 * test_arith.c — unit tests of the plain-C arithmetic (schedule.c,
 * interpolation.c, figures.c) and of the feed timestamps' values
 * (feed_format.c), outside the server.  Prints TAP for prove.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed_format.h"
#include "figures.h"

static int tests = 0;
static int failures = 0;

static void
is_int(int64_t got, int64_t want, const char *name)
{
	tests++;
	if (got == want)
		printf("ok %d - %s\n", tests, name);
	else
	{
		failures++;
		printf("not ok %d - %s\n#   got  %lld\n#   want %lld\n", tests, name, (long long)got,
		       (long long)want);
	}
}

#define H(x)   ((int64_t)(x)*SM_USECS_PER_HOUR)
#define MIN(x) ((int64_t)(x)*SM_USECS_PER_MIN)
/* 2023-01-23 00:00 UTC (a Monday) in microseconds since 2000-01-01. */
#define MON_2023_01_23 (INT64_C(8423) * SM_USECS_PER_DAY)

static SmFigures
run(SmPoll *polls, int npolls, const SmHoursRow *hours, int nhours, const SmOffsetSpan *spans,
    int nspans, int64_t as_of, SmMode mode)
{
	SmScratch scratch = {0};
	SmFigures f;
	SmStoreInput in = {polls, npolls, hours, nhours, spans, nspans, as_of, mode};

	sm_store_figures(&in, &scratch, &f);
	free(scratch.week);
	free(scratch.business);
	free(scratch.segments);
	free(scratch.outages);
	return f;
}

static void
test_worked_example(void)
{
	/* America/New_York in January: UTC-5, one span over the whole week. */
	int64_t as_of = MON_2023_01_23 + H(17);
	SmOffsetSpan span = {as_of - SM_USECS_PER_WEEK + 1, as_of + 1, -H(5)};
	SmHoursRow hours = {0, H(9), H(12)};
	SmPoll polls[2] = {{MON_2023_01_23 + H(15) + MIN(14), true},
	                   {MON_2023_01_23 + H(16) + MIN(15), false}};
	SmFigures f = run(polls, 2, &hours, 1, &span, 1, as_of, SM_NEAREST);

	is_int(f.up_us[SM_LAST_HOUR], 0, "worked example: uptime last hour");
	is_int(f.down_us[SM_LAST_HOUR], H(1) - 1, "worked example: closing at T leaves 1h - 1us");
	is_int(f.up_us[SM_LAST_DAY], H(1) + MIN(44) + 30 * SM_USECS_PER_SEC, "nearest: up 1:44:30");
	is_int(sm_round_hundredths(f.up_us[SM_LAST_DAY], SM_USECS_PER_HOUR), 174, "rounds to 1.74 h");
	is_int(sm_round_hundredths(f.down_us[SM_LAST_DAY], SM_USECS_PER_HOUR), 126, "rounds to 1.26 h");
	is_int(f.up_us[SM_LAST_WEEK], f.up_us[SM_LAST_DAY], "week equals day here");

	polls[0].active = true;
	polls[1].active = false;
	f = run(polls, 2, &hours, 1, &span, 1, as_of, SM_PREVIOUS);
	is_int(f.up_us[SM_LAST_DAY], H(2) + MIN(15), "previous: up 09:00-11:15");
	/* (11:00, 11:15): the window's first instant is 11:00 + 1 us. */
	is_int(f.up_us[SM_LAST_HOUR], MIN(15) - 1, "previous: last hour up 15 min less 1 us");
}

/* The worked example's outage, and a 30-day window over the same store. */
static void
test_outages_and_windows(void)
{
	int64_t as_of = MON_2023_01_23 + H(17);
	SmOffsetSpan span = {as_of - 30 * SM_USECS_PER_DAY + 1, as_of + 1, -H(5)};
	SmHoursRow hours = {0, H(9), H(12)};
	SmPoll polls[2] = {{MON_2023_01_23 + H(15) + MIN(14), true},
	                   {MON_2023_01_23 + H(16) + MIN(15), false}};
	SmStoreInput in = {polls, 2, &hours, 1, &span, 1, as_of, SM_NEAREST};
	SmScratch scratch = {0};
	SmTimeline tl;
	SmTotals t;
	int n;

	sm_store_timeline(&in, &scratch, &tl);
	n = sm_outages(&tl, sm_period_window(as_of, SM_USECS_PER_DAY), &scratch);
	is_int(n, 1, "worked example: one outage in the day");
	is_int(scratch.outages[0].lo, MON_2023_01_23 + H(15) + MIN(44) + 30 * SM_USECS_PER_SEC,
	       "it starts at the midpoint, 10:44:30 local");
	is_int(scratch.outages[0].hi, as_of, "it ends when business hours end, 12:00 local");
	sm_window_totals(&tl, sm_period_window(as_of, 30 * SM_USECS_PER_DAY), &t);
	/* Mondays in (T - 30 d, T]: Dec 26, Jan 2, 9, 16 and 23, whose 3 h end at T. */
	is_int(t.business_us, H(15), "30 days: five Mondays of 3 h");
	/* before the first poll it holds (active): only Jan 23 after 10:44:30 is down */
	is_int(t.down_us, H(1) + MIN(15) + 30 * SM_USECS_PER_SEC, "30 days: downtime");
	n = sm_outages(&tl, sm_period_window(as_of, 30 * SM_USECS_PER_DAY), &scratch);
	is_int(n, 1, "30 days: still one outage");
	free(scratch.week);
	free(scratch.business);
	free(scratch.segments);
	free(scratch.outages);
}

static void
test_midpoints(void)
{
	SmPoll polls[2] = {{100, true}, {103, false}};
	SmSegment seg[2];
	int n = sm_status_segments(polls, 2, SM_NEAREST, seg);

	is_int(n, 2, "two segments");
	is_int(seg[0].hi, 102, "odd sum: 101 is nearer to 100, 102 nearer to 103");
	polls[1].at = 104;
	sm_status_segments(polls, 2, SM_NEAREST, seg);
	is_int(seg[0].hi, 102, "even sum: the exact midpoint goes to the later poll");
	sm_status_segments(polls, 2, SM_PREVIOUS, seg);
	is_int(seg[0].hi, 104, "previous: the later poll owns from its own instant");
	is_int(seg[0].lo, SM_TIME_MIN, "the first poll's status holds before it");
	is_int(seg[1].hi, SM_TIME_MAX, "the last poll's status holds after it");
}

static void
test_dedupe(void)
{
	SmPoll polls[4] = {{5, true}, {5, false}, {5, true}, {9, true}};
	int n = sm_polls_dedupe(polls, 4);

	is_int(n, 2, "three polls at one instant collapse to one");
	is_int(polls[0].active, 0, "inactive wins at one instant");
}

/* Open time in the week ending as_of for hours rows, always active, UTC. */
static int64_t
open_week(const SmHoursRow *rows, int n, int64_t as_of, int64_t offset)
{
	SmOffsetSpan span = {as_of - SM_USECS_PER_WEEK + 1, as_of + 1, offset};
	SmPoll poll = {as_of, true};

	return run(&poll, 1, rows, n, &span, 1, as_of, SM_NEAREST).up_us[SM_LAST_WEEK];
}

static void
test_hours(void)
{
	/* as_of on a Monday midnight (exclusive edge): the week is exactly Mon-Sun. */
	int64_t t = MON_2023_01_23 - 1;
	SmHoursRow overnight = {6, H(22), H(2)}; /* Sunday 22:00 - Monday 02:00 */
	SmHoursRow whole = {2, H(5), H(5)};
	SmHoursRow overlap[2] = {{1, H(9), H(17)}, {1, H(12), H(20)}};
	SmHoursRow midnight[2] = {{3, H(20), H(24)}, {4, 0, H(1)}};
	SmHoursRow literal = {0, 0, H(23) + MIN(59) + 59 * SM_USECS_PER_SEC};

	is_int(open_week(NULL, 0, t, 0), SM_USECS_PER_WEEK, "no hours: open at every instant");
	is_int(open_week(&overnight, 1, t, 0), H(4), "overnight Sunday wraps to Monday");
	is_int(open_week(&whole, 1, t, 0), H(24), "start = end: the whole day");
	is_int(open_week(overlap, 2, t, 0), H(11), "overlapping rows count once");
	is_int(open_week(midnight, 2, t, 0), H(5), "24:00 end meets 00:00 start");
	is_int(open_week(&literal, 1, t, 0), H(24) - SM_USECS_PER_SEC,
	       "23:59:59 closes a second early");
	is_int(open_week(&overnight, 1, t, -H(5)), H(4), "a fixed offset keeps the hours");
}

static void
test_dst(void)
{
	/* Open all Sunday; a span change at 06:00 UTC from UTC-4 to UTC-5 (fall back). */
	int64_t sun = MON_2023_01_23 - SM_USECS_PER_DAY;
	int64_t t = MON_2023_01_23 + H(12);
	SmHoursRow sunday = {6, H(1), H(2)};
	SmOffsetSpan fall[2] = {{t - SM_USECS_PER_WEEK + 1, sun + H(6), -H(4)},
	                        {sun + H(6), t + 1, -H(5)}};
	SmOffsetSpan spring[2] = {{t - SM_USECS_PER_WEEK + 1, sun + H(7), -H(5)},
	                          {sun + H(7), t + 1, -H(4)}};
	SmPoll poll = {t, true};

	is_int(run(&poll, 1, &sunday, 1, fall, 2, t, SM_NEAREST).up_us[SM_LAST_WEEK], H(2),
	       "fall back: the repeated 01:00-02:00 counts twice");
	poll.at = t;
	sunday = (SmHoursRow){6, H(1), H(4)};
	is_int(run(&poll, 1, &sunday, 1, spring, 2, t, SM_NEAREST).up_us[SM_LAST_WEEK], H(2),
	       "spring forward: the skipped 02:00-03:00 does not exist");
}

static void
test_rounding(void)
{
	is_int(sm_round_hundredths(300000, SM_USECS_PER_MIN), 1, "0.005 min rounds up to 0.01");
	is_int(sm_round_hundredths(299999, SM_USECS_PER_MIN), 0, "just under half rounds down");
	is_int(sm_round_hundredths(-300000, SM_USECS_PER_MIN), -1, "half away from zero below zero");
	is_int(sm_round_hundredths(SM_USECS_PER_HOUR, SM_USECS_PER_MIN), 6000, "an hour is 60.00 min");
}

/*
 * The crash: a report near the end of the timestamp range, in a
 * zone that changes offset inside the week.  The server refuses as_of past
 * END_TIMESTAMP - 2 weeks (store_walk.c); at that very as_of, with a split
 * into two offsets and overnight hours, the business intervals fit the
 * capacity computed for them and the figures are the business time.
 */
static void
test_end_of_range(void)
{
	int64_t as_of = INT64_C(9223371331200000000) - 2 * SM_USECS_PER_WEEK;
	SmInterval w = sm_week_window(as_of);
	SmOffsetSpan spans[2] = {{w.lo, w.lo + 3 * SM_USECS_PER_DAY, -H(4)},
	                         {w.lo + 3 * SM_USECS_PER_DAY, w.hi, -H(5)}};
	SmHoursRow hours[7];
	SmInterval iv[14];
	SmWeekTemplate week = {false, 0, iv};
	SmPoll poll = {as_of - H(30), false};
	SmFigures f;

	for (int d = 0; d < 7; d++)
		hours[d] = (SmHoursRow){d, H(22), H(2)}; /* every night 22:00-02:00 */
	sm_week_build(hours, 7, &week);
	{
		int cap = sm_business_capacity(&week, spans, 2);
		SmInterval *out = malloc(sizeof(SmInterval) * (cap + 1));
		int n = sm_business_intervals(&week, spans, 2, out);

		is_int(n <= cap, 1, "end of range: business intervals fit their capacity");
		free(out);
	}
	f = run(&poll, 1, hours, 7, spans, 2, as_of, SM_NEAREST);
	is_int(f.up_us[SM_LAST_WEEK], 0, "end of range: no uptime from one inactive poll");
	is_int(f.down_us[SM_LAST_WEEK], 7 * H(4), "end of range: 7 nights of 4 h, exactly");
}

/* A feed timestamp's value, or -1 for one the server is left to parse. */
static int64_t
feed_us(const char *text)
{
	int64_t us;

	return sm_feed_timestamp_us(text, strlen(text), &us) ? us : -1;
}

/* Expected values from Python's datetime, microseconds since 2000-01-01 UTC. */
static void
test_feed_timestamps(void)
{
	is_int(feed_us("2023-01-22 12:09:39.388884 UTC"), INT64_C(727704579388884), "feed value");
	is_int(feed_us(" 2023-01-22t12:09:39.388884z "), INT64_C(727704579388884), "feed value: t, z");
	is_int(feed_us("2023-01-22 12:09:39.388884"), INT64_C(727704579388884), "feed value: no zone");
	is_int(feed_us("1999-12-31 23:59:59.5 gmt"), -500000, "feed value: before 2000, .5");
	is_int(feed_us("2000-01-01"), 0, "feed value: a date alone is midnight");
	is_int(feed_us("2000-01-01 UTC"), 0, "feed value: a date and a zone");
	is_int(feed_us("2024-02-29 00:00"), INT64_C(762480000000000), "feed value: leap day");
	is_int(feed_us("1000-01-01 0:00:00"), INT64_C(-31556908800000000), "feed value: year 1000");
	is_int(feed_us("9999-12-31 23:59:59.999999"), INT64_C(252455615999999999),
	       "feed value: year 9999");
	is_int(feed_us("2000-01-01 1:02:03.1"), INT64_C(3723100000), "feed value: one-digit hour");
	is_int(feed_us("2023-01-22 12:00+05"), INT64_C(727686000000000), "feed value: +05");
	is_int(feed_us("2023-01-22 12:00:00 +05:30"), INT64_C(727684200000000), "feed value: +05:30");
	is_int(feed_us("2023-01-22 12:00 +530"), INT64_C(727684200000000), "feed value: +530");
	is_int(feed_us("2023-01-22T12:00:00-0800"), INT64_C(727732800000000), "feed value: -0800");
	is_int(feed_us("2023-01-22 12:00 -15:59"), INT64_C(727761540000000), "feed value: -15:59");
	{
		static const char *const left[] = {"2023-02-29",
		                                   "1900-02-29",
		                                   "2023-04-31 00:00",
		                                   "2023-00-10",
		                                   "2023-13-10",
		                                   "0999-01-01",
		                                   "2023-01-22 24:00:00",
		                                   "2023-01-22 12:00:60",
		                                   "2023-01-22 12:60",
		                                   "2023-01-22+05",
		                                   "2023-01-22 -05:00",
		                                   "2023-01-22 12:00 +16",
		                                   "2023-01-22 12:00 +05:60",
		                                   "2023-01-22 12:00 +0560",
		                                   "2023-01-22 12:00:00.1234567",
		                                   "2023-01-22 12:09.5",
		                                   "2023-01-22 12:00:00.",
		                                   "2023-01-22 12",
		                                   "2023-01-22 UTCX",
		                                   "2023-01-22 12:00 EST",
		                                   "now"};

		for (size_t i = 0; i < sizeof(left) / sizeof(left[0]); i++)
		{
			char name[80];

			snprintf(name, sizeof(name), "feed value: '%s' is left to the server", left[i]);
			is_int(feed_us(left[i]), -1, name);
		}
	}
}

int
main(void)
{
	test_feed_timestamps();
	test_worked_example();
	test_outages_and_windows();
	test_midpoints();
	test_dedupe();
	test_hours();
	test_dst();
	test_rounding();
	test_end_of_range();
	printf("1..%d\n", tests);
	return failures == 0 ? 0 : 1;
}
