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

/* Does s[0..len) have the shape of a feed timestamp? */
extern bool sm_feed_timestamp_shape(const char *s, size_t len);

#endif /* SM_FEED_FORMAT_H */
