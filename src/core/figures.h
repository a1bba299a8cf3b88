/*
 * figures.h — one store's six figures, exactly, in microseconds.
 *
 * uptime_W / downtime_W = measure of the open instants of window
 * W = (T - W, T] whose status is active / inactive (SPEC.md "The figures").
 * Plain C, no server calls.
 */
#ifndef SM_FIGURES_H
#define SM_FIGURES_H

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
	SmInterval *outages;
	int outages_cap;
} SmScratch;

/*
 * One store over the UTC time its spans cover: when it is open, and its
 * status at every instant.  Both point into the scratch arrays.
 */
typedef struct SmTimeline
{
	const SmInterval *business; /* sorted, disjoint, touching ones merged */
	int nbusiness;
	const SmSegment *segments; /* cover every instant; neighbours differ */
	int nsegments;
} SmTimeline;

/* A store's business, up and down time inside one window, in microseconds. */
typedef struct SmTotals
{
	int64_t business_us;
	int64_t up_us;
	int64_t down_us;
} SmTotals;

/* The instants of the longest window, (T - 168 h, T], as [lo, hi). */
extern SmInterval sm_week_window(int64_t as_of);

/* Figures of the windows ending at as_of from open intervals and status segments. */
extern void sm_window_figures(const SmInterval *business, int nbusiness, const SmSegment *segments,
                              int nsegments, int64_t as_of, SmFigures *out);

/* The timeline of one store over in->spans. */
extern void sm_store_timeline(SmStoreInput *in, SmScratch *scratch, SmTimeline *out);

/* All of it for one store: the report's six figures. */
extern void sm_store_figures(SmStoreInput *in, SmScratch *scratch, SmFigures *out);

/* The window of length period_us ending at as_of, (as_of - period, as_of], as [lo, hi). */
extern SmInterval sm_period_window(int64_t as_of, int64_t period_us);

/* Business, up and down time of the timeline inside window. */
extern void sm_window_totals(const SmTimeline *timeline, SmInterval window, SmTotals *out);

/*
 * The outage episodes inside window: maximal intervals of instants that are
 * open and inactive, in time order, into scratch->outages.  Their lengths
 * add up to sm_window_totals' down_us exactly.  Returns the count.
 */
extern int sm_outages(const SmTimeline *timeline, SmInterval window, SmScratch *scratch);

/* Microseconds in hundredths of unit_us, rounded half away from zero (|us| < 2^56). */
extern int64_t sm_round_hundredths(int64_t us, int64_t unit_us);

/* "123.45" from 12345 hundredths; buf needs 24 bytes. */
extern void sm_format_hundredths(int64_t hundredths, char *buf);

#endif /* SM_FIGURES_H */
