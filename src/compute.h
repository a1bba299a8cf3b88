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

#include "report.h"

typedef struct SmReportSink
{
	/*
	 * One store's figures; rows come in descending store_id order
	 * (COLLATE "C"), the order of one backward pass over the index.
	 */
	void (*row)(void *arg, text *store_id, const SmFigures *figures);
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

/* Stores from <= store_id < to (byte order); NULL: unbounded on that side. */
typedef struct SmStoreRange
{
	text *from;
	text *to;
} SmStoreRange;

/*
 * Compute the report as of as_of, for the stores in range, under the active
 * snapshot.  Like sm_default_as_of, it first checks that the current user
 * may SELECT the tables it reads.
 */
extern void sm_compute_report(TimestampTz as_of, SmMode mode, const SmStoreRange *range,
                              const SmReportSink *sink);

#endif /* SM_COMPUTE_H */
