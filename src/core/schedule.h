/*
 * schedule.h — business hours: when is a store open, as UTC intervals.
 *
 * The menu_hours rows of one store become a "week template": merged,
 * sorted intervals of local wall-clock time measured from Monday 00:00.
 * The template is laid over the local clock of each stretch of UTC time
 * that has one fixed UTC offset, which is how daylight-saving time is
 * handled per instant (SPEC.md: a repeated autumn hour counts twice, a
 * skipped spring hour does not exist) without any special case.
 */
#ifndef SM_SCHEDULE_H
#define SM_SCHEDULE_H

#include "sm_time.h"

/* One menu_hours row; times are microseconds after local midnight, 0..24h. */
typedef struct SmHoursRow
{
	int day; /* 0 = Monday ... 6 = Sunday */
	int64_t start_us;
	int64_t end_us;
} SmHoursRow;

/* A stretch of UTC time [lo, hi) on which local time = UTC + offset_us. */
typedef struct SmOffsetSpan
{
	int64_t lo;
	int64_t hi;
	int64_t offset_us;
} SmOffsetSpan;

/*
 * Merged opening intervals of one week of local time, in microseconds
 * since Monday 00:00.  nrows == 0 means the store has no hours: always open.
 */
typedef struct SmWeekTemplate
{
	bool always_open;
	int count;
	SmInterval *iv; /* capacity: 2 * nrows */
} SmWeekTemplate;

/* Intervals needed to hold the template of nrows rows. */
extern int sm_week_capacity(int nrows);

/* Build the template; iv must hold sm_week_capacity(nrows) intervals. */
extern void sm_week_build(const SmHoursRow *rows, int nrows, SmWeekTemplate *week);

/* Upper bound of the intervals sm_business_intervals writes. */
extern int sm_business_capacity(const SmWeekTemplate *week, const SmOffsetSpan *spans, int nspans);

/*
 * Write the open intervals (UTC, sorted, disjoint, touching ones merged)
 * inside the spans, which must be sorted and contiguous.  Returns the count.
 */
extern int sm_business_intervals(const SmWeekTemplate *week, const SmOffsetSpan *spans, int nspans,
                                 SmInterval *out);

#endif /* SM_SCHEDULE_H */
