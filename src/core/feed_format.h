/*
 * feed_format.h — the shape of a feed's timestamp, checked in plain C.
 *
 * SPEC.md's feeds carry timestamps like "2023-01-22 12:09:39.388884 UTC";
 * the loader also takes ISO "T…Z" and numeric offsets.  PostgreSQL's
 * timestamptz input takes far more ("now", "epoch", zone names, seven
 * fractional digits rounded away), so the loader checks the shape first.
 * This is the same language as the loader's regular expression
 * (sql/storemon--1.0.sql, ts_re), case-insensitive:
 *
 *   \s* d{4}-d{2}-d{2} ([ T] d{1,2}:d{2} (:d{2} (.d{1,6})?)?)? \s*
 *   (UTC | GMT | Z | [+-] d{1,2} (:? d{2})?)? \s*
 *
 * at about a tenth of the regex's cost per row.  Plain C, no server calls.
 */
#ifndef SM_FEED_FORMAT_H
#define SM_FEED_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Does s[0..len) have the shape of a feed timestamp? */
extern bool sm_feed_timestamp_shape(const char *s, size_t len);

/*
 * The value PostgreSQL's timestamptz input gives s[0..len), in microseconds
 * since 2000-01-01 00:00 UTC, for the feed's own shapes: a date of years
 * 1000-9999, optionally a time (hour 0-23, second 0-59, 1-6 fractional
 * digits), optionally UTC, GMT, Z or, after a time, a numeric offset of at
 * most 15:59 hours, no zone meaning UTC as the loader has it.  False for
 * everything else (24:00, a leap second, a day the month lacks, an offset
 * after a bare date), which the caller leaves to the server's parse.
 */
extern bool sm_feed_timestamp_us(const char *s, size_t len, int64_t *us);

#endif /* SM_FEED_FORMAT_H */
