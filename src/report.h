/*
 * report.h — one store's six figures, exactly, in microseconds.
 *
 * uptime_W / downtime_W = measure of the open instants of window
 * W = (T - W, T] whose status is active / inactive (SPEC.md "The figures").
 * Plain C, no server calls.
 */
#ifndef SM_REPORT_H
#define SM_REPORT_H

#include "interpolation.h"
#include "schedule.h"

typedef enum SmWindow
{
	SM_LAST_HOUR,
	SM_LAST_DAY,
	SM_LAST_WEEK,
	SM_NWINDOWS
} SmWindow;

extern const int64_t sm_window_us[SM_NWINDOWS];

typedef struct SmFigures
{
	int64_t up_us[SM_NWINDOWS];
	int64_t down_us[SM_NWINDOWS];
} SmFigures;

/* What one store's computation reads. */
typedef struct SmStoreInput
{
	SmPoll *polls; /* sorted by time, duplicates allowed; reordered in place */
	int npolls;    /* >= 1 */
	const SmHoursRow *hours;
	int nhours;
	const SmOffsetSpan *spans; /* sorted, contiguous, covering sm_week_window(as_of) */
	int nspans;
	int64_t as_of;
	SmMode mode;
} SmStoreInput;

/* Arrays reused from store to store so the hot loop allocates nothing. */
typedef struct SmScratch
{
	SmInterval *week;
	int week_cap;
	SmInterval *business;
	int business_cap;
	SmSegment *segments;
	int segments_cap;
} SmScratch;

/* The instants of the longest window, (T - 168 h, T], as [lo, hi). */
extern SmInterval sm_week_window(int64_t as_of);

/* Figures of the windows ending at as_of from open intervals and status segments. */
extern void sm_window_figures(const SmInterval *business, int nbusiness, const SmSegment *segments,
                              int nsegments, int64_t as_of, SmFigures *out);

/* All of it for one store. */
extern void sm_store_figures(SmStoreInput *in, SmScratch *scratch, SmFigures *out);

/* Microseconds in hundredths of unit_us, rounded half away from zero. */
extern int64_t sm_round_hundredths(int64_t us, int64_t unit_us);

/* "123.45" from 12345 hundredths; buf needs 24 bytes. */
extern void sm_format_hundredths(int64_t hundredths, char *buf);

#endif /* SM_REPORT_H */
