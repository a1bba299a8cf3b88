/*
 * store_walk.h — the report over the tables: read each store's data once, in
 * descending store_id order, and hand its figures to a sink.
 *
 * This is the server glue around the plain-C arithmetic (core/figures.h): index
 * scans, time zones, memory.  One store's data is held at a time.
 */
#ifndef SM_STORE_WALK_H
#define SM_STORE_WALK_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/array.h"

#include "core/figures.h"

#include "pgtime.h"

/* text comparison in COLLATE "C", the order of every store_id index. */
static inline int
sm_compare_store(Datum a, const text *b)
{
	text *ta = DatumGetTextPP(a);
	int la = VARSIZE_ANY_EXHDR(ta);
	int lb = VARSIZE_ANY_EXHDR(b);
	int c = memcmp(VARDATA_ANY(ta), VARDATA_ANY(b), Min(la, lb));

	return c != 0 ? c : (la > lb) - (la < lb);
}

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

typedef struct SmStoreSink
{
	/*
	 * One store; stores come in descending store_id order (COLLATE "C"),
	 * the order of one backward pass over the index.
	 */
	void (*store)(void *arg, const SmStore *store);
	/* Optional: called now and then with stores done out of an estimated total. */
	void (*progress)(void *arg, int64 done, int64 total);
	void *arg;
} SmStoreSink;

/*
 * Set by the report worker while it computes: receives progress of
 * storemon_compute calls made in this backend (NULL elsewhere).
 */
extern void (*sm_progress_hook)(void *arg, int64 done, int64 total);

/*
 * The default as_of: the latest timestamp_utc in store_status under the
 * active snapshot.  Returns false when store_status is empty.
 */
extern bool sm_default_as_of(TimestampTz *as_of);

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
 * Compute every store the request names that has a poll at or before as_of,
 * under the active snapshot.  Like sm_default_as_of, it first checks that
 * the current user may SELECT the tables it reads.  Ids listed that have no
 * such poll are named in one NOTICE.
 */
extern void sm_compute_stores(const SmComputeRequest *request, const SmStoreSink *sink);

#endif /* SM_STORE_WALK_H */
