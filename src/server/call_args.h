/*
 * call_args.h — what a call asks for: the request read from a function's
 * arguments, each checked with the same rules everywhere (the as_of range,
 * interpolation words, periods, store id lists).
 */
#ifndef SM_CALL_ARGS_H
#define SM_CALL_ARGS_H

#include "postgres.h"

#include "fmgr.h"
#include "utils/array.h"
#include "utils/timestamp.h"

#include "server/store_walk.h"

/* Argument positions of a call; -1 where the function has no such argument. */
typedef struct SmCallArgs
{
	int as_of;
	int interpolation;
	int period; /* absent: the report's week */
	int from_store;
	int to_store;
	int store_ids;
} SmCallArgs;

/*
 * Fill req from the call.  A NULL as_of is the latest poll; returns false
 * when there is none (an empty feed: no rows, not an error).  Arguments
 * past PG_NARGS() count as NULL, so a C function serves older SQL
 * signatures of itself until ALTER EXTENSION UPDATE.
 */
extern bool sm_request_from_call(FunctionCallInfo fcinfo, const SmCallArgs *args,
                                 SmComputeRequest *req);

/* "nearest" or "previous"; anything else, or NULL, is an error saying so. */
extern SmMode sm_parse_mode(text *mode);
extern const char *sm_mode_name(SmMode mode);

/*
 * Refuse an as_of the computation cannot cover, with an error saying what
 * is accepted: one range for every function and request.
 */
extern void sm_check_as_of(TimestampTz as_of);

/* Longest period a window may span: ten years of 366 days. */
#define SM_PERIOD_MAX_DAYS 3660

/*
 * A window's length in microseconds from an interval of days and time
 * (months have no fixed length: refused), checked to be positive, at most
 * SM_PERIOD_MAX_DAYS and, with as_of, inside the range of timestamps.
 */
extern int64 sm_period_us(const Interval *period, TimestampTz as_of);

/*
 * The store ids of a one-dimensional text[] sorted in byte order without
 * repeats; a NULL element is an error.  Sets *n.
 */
extern text **sm_store_id_list(ArrayType *ids, int *n);

#endif /* SM_CALL_ARGS_H */
