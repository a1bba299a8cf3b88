/*
 * compute.h — the report over the tables: read each store's data once, in
 * descending store_id order, and hand its figures to a sink.
 *
 * This is the server glue around the plain-C arithmetic (report.h): index
 * scans, time zones, memory.  One store's data is held at a time.
 */
#ifndef SM_COMPUTE_H
#define SM_COMPUTE_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/array.h"

#include "report.h"

#include "pgtime.h"

/* One store's data as computed, handed to a sink. */
typedef struct SmStore
{
	text *store_id;
	TimestampTz as_of;
	SmInterval window;         /* the request's period ending at as_of */
	pg_tz *zone;               /* the zone used: the store's, or America/Chicago */
	SmTimeline timeline;       /* covers at least window */
	const SmOffsetSpan *spans; /* the zone's UTC offsets over window */
	int nspans;
	SmScratch *scratch; /* room for sm_outages */
} SmStore;

typedef struct SmReportSink
{
	/*
	 * One store; stores come in descending store_id order (COLLATE "C"),
	 * the order of one backward pass over the index.
	 */
	void (*store)(void *arg, const SmStore *store);
	/* Optional: called now and then with stores done out of an estimated total. */
	void (*progress)(void *arg, int64 done, int64 total);
	void *arg;
} SmReportSink;

/*
 * Set by the report worker while it computes: receives progress of
 * storemon_compute calls made in this backend (NULL elsewhere).
 */
extern void (*sm_progress_hook)(void *arg, int64 done, int64 total);

/* "nearest" or "previous"; anything else, or NULL, is an error saying so. */
extern SmMode sm_parse_mode(text *mode);
extern const char *sm_mode_name(SmMode mode);

/* Reject an infinite as_of with an error saying what is accepted. */
extern void sm_check_as_of(TimestampTz as_of);

/*
 * The default as_of: the latest timestamp_utc in store_status under the
 * active snapshot.  Returns false when store_status is empty.
 */
extern bool sm_default_as_of(TimestampTz *as_of);

/* Longest period a window may span: ten years of 366 days. */
#define SM_PERIOD_MAX_DAYS 3660

/*
 * A window's length in microseconds from an interval of days and time
 * (months have no fixed length: refused), checked to be positive, at most
 * SM_PERIOD_MAX_DAYS and, with as_of, inside the range of timestamps.
 */
extern int64 sm_period_us(const Interval *period, TimestampTz as_of);

/*
 * What to compute.  Stores: all, those from <= store_id < to (byte order;
 * NULL is unbounded on that side), or exactly the ids listed.
 */
typedef struct SmComputeRequest
{
	TimestampTz as_of;
	SmMode mode;
	int64 period_us; /* SM_USECS_PER_WEEK for the report; the data read reaches this far back */
	text *from;
	text *to;
	text **store_ids; /* NULL: not a list; else sorted ascending in byte order, distinct */
	int nstore_ids;
} SmComputeRequest;

/*
 * The store ids of a text[] sorted in byte order without repeats; a NULL
 * element is an error.  Sets *n.
 */
extern text **sm_store_id_list(ArrayType *ids, int *n);

/*
 * Compute every store the request names that has a poll at or before as_of,
 * under the active snapshot.  Like sm_default_as_of, it first checks that
 * the current user may SELECT the tables it reads.  Ids listed that have no
 * such poll are named in one NOTICE.
 */
extern void sm_compute_report(const SmComputeRequest *request, const SmReportSink *sink);

#endif /* SM_COMPUTE_H */
