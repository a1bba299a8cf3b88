/*
 * zones.h — a store's time zone, through PostgreSQL's own tz machinery.
 *
 * A name counts as a zone when pg_timezone_names lists it, compared
 * case-insensitively (SPEC.md "Zone names"); anything else, a missing row
 * or NULL means America/Chicago.  The UTC offset over a stretch of time is
 * read from the zone's transition table (pg_next_dst_boundary), so a week
 * costs a handful of lookups instead of one conversion per instant.
 */
#ifndef SM_ZONES_H
#define SM_ZONES_H

#include "postgres.h"

#include "pgtime.h"

#include "core/schedule.h"

#define SM_DEFAULT_ZONE "America/Chicago"

/* The zone named by name[0..len), or NULL when the server does not list it. */
extern pg_tz *sm_zone_find(const char *name, int len);

/* The default zone, America/Chicago. */
extern pg_tz *sm_zone_default(void);

/*
 * Split the UTC instants [range.lo, range.hi) into spans of one UTC offset.
 * Writes at most cap spans and returns how many were needed.
 */
extern int sm_zone_spans(pg_tz *tz, SmInterval range, SmOffsetSpan *out, int cap);

#endif /* SM_ZONES_H */
