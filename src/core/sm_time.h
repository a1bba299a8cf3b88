/*
 * sm_time.h — plain-C types shared by the arithmetic files.
 *
 * Every instant is a count of microseconds (PostgreSQL's TimestampTz scale,
 * microseconds since 2000-01-01 00:00 UTC).  Every interval is half-open,
 * [lo, hi), so its measure is simply hi - lo: the number of microsecond
 * instants it holds.  Nothing in the files that include this header calls
 * the server, so they can be unit-tested and fuzzed on their own.
 */
#ifndef SM_TIME_H
#define SM_TIME_H

#include <stdbool.h>
#include <stdint.h>

#define SM_USECS_PER_SEC  INT64_C(1000000)
#define SM_USECS_PER_MIN  (INT64_C(60) * SM_USECS_PER_SEC)
#define SM_USECS_PER_HOUR (INT64_C(60) * SM_USECS_PER_MIN)
#define SM_USECS_PER_DAY  (INT64_C(24) * SM_USECS_PER_HOUR)
#define SM_USECS_PER_WEEK (INT64_C(7) * SM_USECS_PER_DAY)

/* The earliest and latest representable instants: "before the first poll". */
#define SM_TIME_MIN INT64_MIN
#define SM_TIME_MAX INT64_MAX

typedef struct SmInterval
{
	int64_t lo; /* first instant inside */
	int64_t hi; /* first instant after */
} SmInterval;

/*
 * Scratch arrays grow through this one hook: the server build implements it
 * with repalloc in a long-lived memory context, the unit tests with realloc.
 * It never returns NULL (the server build raises an error instead).
 */
#include <stddef.h>
extern void *sm_grow(void *ptr, size_t nbytes);

/* Floor division and modulo: local clocks before 2000 have negative days. */
static inline int64_t
sm_floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static inline int64_t
sm_floor_mod(int64_t a, int64_t b)
{
	return a - sm_floor_div(a, b) * b;
}

#endif /* SM_TIME_H */
