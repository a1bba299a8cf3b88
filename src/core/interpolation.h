/*
 * interpolation.h — a store's status between polls.
 *
 * From a store's polls (sorted by time) build status segments that cover
 * every instant, by the two rules of SPEC.md: "nearest" (the later poll
 * owns the instants from ceil((a + b) / 2) on) and "previous" (a poll owns
 * the instants up to the next poll).  Before the first poll the first
 * poll's status holds.  Plain C, no server calls.
 */
#ifndef SM_INTERPOLATION_H
#define SM_INTERPOLATION_H

#include "sm_time.h"

typedef enum SmMode
{
	SM_NEAREST,
	SM_PREVIOUS
} SmMode;

typedef struct SmPoll
{
	int64_t at;
	bool active;
} SmPoll;

/* [lo, hi) has one status; the first lo is SM_TIME_MIN, the last hi SM_TIME_MAX. */
typedef struct SmSegment
{
	int64_t lo;
	int64_t hi;
	bool active;
} SmSegment;

/*
 * Collapse polls at the same instant into one (inactive wins).  Input
 * sorted by time; returns the new count.
 */
extern int sm_polls_dedupe(SmPoll *polls, int n);

/*
 * Write the segments of n >= 1 deduplicated polls into out (room for n);
 * neighbours with one status are merged.  Returns the count.
 */
extern int sm_status_segments(const SmPoll *polls, int n, SmMode mode, SmSegment *out);

#endif /* SM_INTERPOLATION_H */
