/*
 * store_walk.c — the report over the tables (see store_walk.h).
 *
 * Stores are visited in descending store_id order, because that is the
 * order in which one backward index scan meets, for each store, exactly the
 * polls the report needs: its newest poll at or before as_of first, then
 * back to the last poll at or before the start of the week window.  So each
 * store costs one descent of the (store_id, timestamp_utc) index, landing
 * on the page it reads; older history is never touched, and the cost
 * follows the stores and the week, not the length of the history.  When a
 * store's history ends inside the window, the scan simply runs on into the
 * next store without a new descent.
 *
 * Hours and zones are read by merging: one backward scan of each table's
 * store_id index moves in step with the stores, so they cost a pass over
 * two small indexes instead of two descents per store.  All three indexes
 * cover the columns read, so the heap is visited only for pages the
 * visibility map does not mark all-visible (recently written rows).
 *
 * All of a store's memory is reused for the next store.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/itup.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/visibilitymap.h"
#include "access/detoast.h"
#include "catalog/pg_am_d.h"
#include "catalog/pg_collation_d.h"
#include "catalog/pg_statistic.h"
#include "catalog/pg_type_d.h"
#include "common/int.h"
#include "executor/tuptable.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "parser/scansup.h"
#include "storage/bufmgr.h"
#include "storage/predicate.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "server/call_args.h"
#include "server/catalog.h"
#include "server/core_alloc.h"
#include "server/index_reads.h"
#include "server/page_visibility.h"
#include "server/row_security.h"
#include "server/store_walk.h"
#include "server/zones.h"

/* Listed stores from which the report decides stale pages whole (page_visibility.h). */
#define SM_LISTED_STORES_CACHED 1000

/* A table read alongside the stores, in the same (descending) order. */
typedef struct MergedScan
{
	IndexedScan s;
	bool has_entry; /* s.values holds an entry not yet consumed */
	bool at_end;
} MergedScan;

typedef struct ComputeState
{
	const SmComputeRequest *req;
	TimestampTz as_of;
	IndexedScan below;  /* store_status backward from below a store id (or the end) */
	IndexedScan within; /* store_status backward through one store from as_of */
	MergedScan hours;   /* menu_hours by store_id */
	MergedScan zones;   /* timezones by store_id */
	text *store;        /* the current store id */
	int store_cap;
	text *below_key; /* st->below's bound: the scan keeps a pointer to it */
	int below_key_cap;
	bool have_store;
	SmPoll *poll_buf; /* the current store's polls, newest first while read */
	int npolls;
	int poll_cap;
	SmHoursRow *hours_buf;
	int nhours;
	int hours_cap;
	SmOffsetSpan *span_buf;
	int span_cap;
	SmScratch scratch;
	SmPolicyReads policy;    /* the tables read under their row security, if any */
	MergedScan policy_polls; /* under row security: the polls of a batch of stores */
} ComputeState;

/* Stores whose polls one query under row security reads (row_security.h). */
#define POLL_BATCH 1000

/*
 * The polls a store needs, newest first: back from as_of to its last one
 * at or before the window's start, and any other at that same instant.
 */
typedef struct WindowStop
{
	TimestampTz start;
	bool stopping; /* the poll at or before start is read */
	TimestampTz stop_at;
} WindowStop;

/* Index columns, fixed by storemon--1.0.sql. */
#define POLL_STORE  0
#define POLL_TIME   1
#define POLL_STATUS 2
#define HOURS_DAY   1
#define HOURS_START 2
#define HOURS_END   3
#define ZONE_NAME   1

void (*sm_progress_hook)(void *arg, int64 done, int64 total) = NULL;

static void
reserve(void **arr, int *cap, int need, size_t elem)
{
	if (need <= *cap)
		return;
	*cap = Max(need, Max(2 * *cap, 64));
	*arr = sm_grow(*arr, (size_t)*cap * elem);
}

static void
set_store(ComputeState *st, Datum id)
{
	text *t = DatumGetTextPP(id);
	int len = VARSIZE_ANY_EXHDR(t);

	reserve((void **)&st->store, &st->store_cap, VARHDRSZ + len, 1);
	SET_VARSIZE(st->store, VARHDRSZ + len);
	memcpy(VARDATA(st->store), VARDATA_ANY(t), len);
	st->have_store = true;
	st->npolls = 0;
}

/*
 * Position st->below on the newest entry of the store before the current
 * one, or before the range's upper end at the start.
 */
static void
seek_below(ComputeState *st)
{
	ScanKeyData key;
	text *bound = st->have_store ? st->store : st->req->to;

	if (bound != NULL)
	{
		/*
		 * A copy: the scan compares against this text on every page it
		 * reads, while st->store moves on to the stores below.
		 */
		bound = pg_detoast_datum_packed(bound);
		reserve((void **)&st->below_key, &st->below_key_cap, VARSIZE_ANY(bound), 1);
		memcpy(st->below_key, bound, VARSIZE_ANY(bound));
		sm_key_store(&key, BTLessStrategyNumber, F_TEXT_LT, st->below_key);
	}
	else
		ScanKeyEntryInitialize(&key, SK_ISNULL | SK_SEARCHNOTNULL, 1, InvalidStrategy, InvalidOid,
		                       InvalidOid, InvalidOid, (Datum)0);
	index_rescan(st->below.scan, &key, 1, NULL, 0);
}

/* Position st->within on the current store's newest poll at or before as_of. */
static void
seek_within(ComputeState *st)
{
	ScanKeyData keys[2];

	sm_key_store(&keys[0], BTEqualStrategyNumber, F_TEXTEQ, st->store);
	ScanKeyEntryInitialize(&keys[1], 0, 2, BTLessEqualStrategyNumber, InvalidOid, InvalidOid,
	                       F_TIMESTAMPTZ_LE, TimestampTzGetDatum(st->as_of));
	index_rescan(st->within.scan, keys, 2, NULL, 0);
}

static bool
is_active(Datum status)
{
	text *t = DatumGetTextPP(status);

	return VARSIZE_ANY_EXHDR(t) == 6 && memcmp(VARDATA_ANY(t), "active", 6) == 0;
}

static void
add_poll(void *arg, TimestampTz at, bool active)
{
	ComputeState *st = arg;

	reserve((void **)&st->poll_buf, &st->poll_cap, st->npolls + 1, sizeof(SmPoll));
	st->poll_buf[st->npolls].at = at;
	st->poll_buf[st->npolls].active = active;
	st->npolls++;
}

static void
add_index_poll(ComputeState *st, const IndexedScan *s)
{
	add_poll(st, DatumGetTimestampTz(s->values[POLL_TIME]), is_active(s->values[POLL_STATUS]));
}

static void
window_stop_init(WindowStop *ws, const ComputeState *st)
{
	ws->start = st->as_of - st->req->period_us;
	ws->stopping = false;
	ws->stop_at = 0;
}

/* Is the poll at this instant, the next one back, still needed? */
static bool
poll_needed(WindowStop *ws, TimestampTz at)
{
	if (ws->stopping && at != ws->stop_at)
		return false; /* the poll before the window is read */
	if (!ws->stopping && at <= ws->start)
	{
		ws->stopping = true;
		ws->stop_at = at;
	}
	return true;
}

/*
 * Move a merged scan to its first entry at or below the current store;
 * true when that entry belongs to the current store.
 */
static bool
merge_to(MergedScan *m, const text *store)
{
	for (;;)
	{
		if (!m->has_entry)
		{
			if (m->at_end || !sm_next_entry(&m->s, BackwardScanDirection))
			{
				m->at_end = true;
				return false;
			}
			m->has_entry = true;
		}
		if (sm_compare_store(m->s.values[0], store) <= 0)
			return sm_compare_store(m->s.values[0], store) == 0;
		m->has_entry = false; /* a store with hours or a zone but no polls */
		CHECK_FOR_INTERRUPTS();
	}
}

static void
add_hours_row(ComputeState *st, const SmHoursRow *row)
{
	reserve((void **)&st->hours_buf, &st->hours_cap, st->nhours + 1, sizeof(SmHoursRow));
	st->hours_buf[st->nhours++] = *row;
}

static int
read_hours(ComputeState *st)
{
	st->nhours = 0;
	while (merge_to(&st->hours, st->store))
	{
		IndexedScan *s = &st->hours.s;
		SmHoursRow row = {DatumGetInt16(s->values[HOURS_DAY]),
		                  DatumGetTimeADT(s->values[HOURS_START]),
		                  DatumGetTimeADT(s->values[HOURS_END])};

		add_hours_row(st, &row);
		st->hours.has_entry = false;
	}
	return st->nhours;
}

static pg_tz *
read_zone(ComputeState *st)
{
	pg_tz *tz = NULL;

	if (merge_to(&st->zones, st->store) && !st->zones.s.isnull[ZONE_NAME])
	{
		text *t = DatumGetTextPP(st->zones.s.values[ZONE_NAME]);

		tz = sm_zone_find(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
	}
	return tz != NULL ? tz : sm_zone_default();
}

static int
read_spans(ComputeState *st, pg_tz *tz)
{
	SmInterval window = sm_period_window(st->as_of, st->req->period_us);
	int n = sm_zone_spans(tz, window, st->span_buf, st->span_cap);

	if (n > st->span_cap)
	{
		reserve((void **)&st->span_buf, &st->span_cap, n, sizeof(SmOffsetSpan));
		n = sm_zone_spans(tz, window, st->span_buf, st->span_cap);
	}
	return n;
}

/*
 * The current store's figures, from the polls read (newest first), to the
 * sink.  Returns 1 when it reported a row, 0 for a store without polls read.
 */
static int
finish_store(ComputeState *st, const SmStoreSink *sink)
{
	SmStoreInput in;
	SmStore store;
	int n = st->npolls;

	if (n == 0)
		return 0; /* every poll of this store is after as_of: no row */
	for (int i = 0; i < n / 2; i++)
	{
		SmPoll tmp = st->poll_buf[i];

		st->poll_buf[i] = st->poll_buf[n - 1 - i];
		st->poll_buf[n - 1 - i] = tmp;
	}
	in.npolls = n;
	in.polls = st->poll_buf;
	in.nhours = read_hours(st);
	in.hours = st->hours_buf;
	store.zone = read_zone(st);
	in.nspans = read_spans(st, store.zone);
	in.spans = st->span_buf;
	in.as_of = st->as_of;
	in.mode = st->req->mode;
	sm_store_timeline(&in, &st->scratch, &store.timeline);
	store.spans = in.spans;
	store.nspans = in.nspans;
	store.store_id = st->store;
	store.as_of = st->as_of;
	store.window = sm_period_window(st->as_of, st->req->period_us);
	store.scratch = &st->scratch;
	sink->store(sink->arg, &store);
	st->npolls = 0;
	return 1;
}

/* Now and then, how far the report is (total 0: not known). */
static void
say_progress(const SmStoreSink *sink, int64 done, int64 total)
{
	if (sink->progress != NULL && done % 1000 == 0 && done > 0)
		sink->progress(sink->arg, done, total > 0 ? Max(total, done) : 0);
}

/*
 * Read every store's polls back from as_of to the last poll at or before
 * the window start (and any sharing its instant), newest store first,
 * calling finish_store for each.  Returns the number of stores reported.
 */
static int64
read_stores(ComputeState *st, const SmStoreSink *sink, int64 total)
{
	IndexedScan *scan = &st->below;
	WindowStop ws;
	int64 done = 0;

	window_stop_init(&ws, st);
	seek_below(st);
	for (;;)
	{
		TimestampTz at;

		if (!sm_next_entry(scan, BackwardScanDirection))
		{
			done += finish_store(st, sink);
			if (scan == &st->below)
				break;         /* no store left */
			scan = &st->below; /* the store's history ended inside the window */
			seek_below(st);
			continue;
		}
		at = DatumGetTimestampTz(scan->values[POLL_TIME]);
		if (scan == &st->below &&
		    (!st->have_store || sm_compare_store(scan->values[POLL_STORE], st->store) != 0))
		{
			CHECK_FOR_INTERRUPTS();
			done += finish_store(st, sink);
			say_progress(sink, done, total);
			if (st->req->from != NULL &&
			    sm_compare_store(scan->values[POLL_STORE], st->req->from) < 0)
				break; /* below the range */
			set_store(st, scan->values[POLL_STORE]);
			window_stop_init(&ws, st);
			if (at > st->as_of)
			{
				/* newer than as_of: descend to its last poll at or before as_of */
				scan = &st->within;
				seek_within(st);
				continue;
			}
		}
		if (!poll_needed(&ws, at))
		{
			/* the poll before the window is read: on to the next store */
			done += finish_store(st, sink);
			scan = &st->below;
			seek_below(st);
			continue;
		}
		add_index_poll(st, scan);
	}
	return done;
}

/* The current store's polls from a stream under row security. */
static void
read_policy_polls(ComputeState *st)
{
	while (merge_to(&st->policy_polls, st->store))
	{
		add_index_poll(st, &st->policy_polls.s);
		st->policy_polls.has_entry = false;
	}
}

static void
open_policy_polls(ComputeState *st, text **ids, int n)
{
	st->policy_polls.s.stream = sm_policy_stream_open(&st->policy, SM_POLICY_POLLS, ids, n,
	                                                  st->as_of, st->as_of - st->req->period_us);
	st->policy_polls.has_entry = false;
	st->policy_polls.at_end = false;
}

/*
 * Under row security on store_status: the stores of the range, found in
 * the index a batch at a time (one descent each), their polls read by one
 * query a batch under the policies.
 */
static int64
read_stores_under_policies(ComputeState *st, const SmStoreSink *sink)
{
	MemoryContext batch_context =
	    AllocSetContextCreate(CurrentMemoryContext, "storemon batch", ALLOCSET_DEFAULT_SIZES);
	text *batch[POLL_BATCH];
	int64 done = 0;
	int n;

	do
	{
		for (n = 0; n < POLL_BATCH; n++)
		{
			CHECK_FOR_INTERRUPTS();
			seek_below(st);
			if (!sm_next_entry(&st->below, BackwardScanDirection) ||
			    (st->req->from != NULL &&
			     sm_compare_store(st->below.values[POLL_STORE], st->req->from) < 0))
				break; /* no store left in the range */
			set_store(st, st->below.values[POLL_STORE]);
			batch[n] = MemoryContextAlloc(batch_context, VARSIZE(st->store));
			memcpy(batch[n], st->store, VARSIZE(st->store));
		}
		if (n == 0)
			break;
		open_policy_polls(st, batch, n);
		for (int i = 0; i < n; i++)
		{
			set_store(st, PointerGetDatum(batch[i]));
			read_policy_polls(st);
			done += finish_store(st, sink);
			say_progress(sink, done, 0);
		}
		sm_policy_stream_close(st->policy_polls.s.stream);
		st->policy_polls.s.stream = NULL;
		MemoryContextReset(batch_context);
	} while (n == POLL_BATCH);
	MemoryContextDelete(batch_context);
	return done;
}

/* The current store's polls back from as_of: from the index, or under its policies. */
static void
read_listed_polls(ComputeState *st)
{
	WindowStop ws;

	if (st->policy.applies[SM_POLICY_POLLS])
	{
		read_policy_polls(st);
		return;
	}
	window_stop_init(&ws, st);
	seek_within(st);
	while (sm_next_entry(&st->within, BackwardScanDirection) &&
	       poll_needed(&ws, DatumGetTimestampTz(st->within.values[POLL_TIME])))
		add_index_poll(st, &st->within);
}

/* Move a merged scan back to just after the current store, for a listed store. */
static void
merge_restart(MergedScan *m, text *store)
{
	ScanKeyData key;

	sm_key_store(&key, BTLessEqualStrategyNumber, F_TEXT_LE, store);
	index_rescan(m->s.scan, &key, 1, NULL, 0);
	m->has_entry = false;
	m->at_end = false;
}

/* An id for a message: quoted, and cut after 60 bytes, so a huge one is not echoed whole. */
static void
append_shown_id(StringInfo buf, const text *id)
{
	int len = VARSIZE_ANY_EXHDR(id);
	int cut = len > 60 ? pg_mbcliplen(VARDATA_ANY(id), len, 60) : len;
	char *shown = quote_literal_cstr(pnstrdup(VARDATA_ANY(id), cut));

	appendStringInfo(buf, "%s%s%s", buf->len > 0 ? ", " : "", shown, cut < len ? "..." : "");
}

/*
 * The listed stores, last id first: one descent of the poll index per
 * store, reading back from as_of as read_stores does, and one of each of
 * the hours and zone indexes.  Ids without a poll at or before as_of are
 * collected for the caller's notice.
 */
static int64
read_listed_stores(ComputeState *st, const SmStoreSink *sink, StringInfo missing, int *nmissing)
{
	int64 done = 0;

	for (int i = st->req->nstore_ids - 1; i >= 0; i--)
	{
		CHECK_FOR_INTERRUPTS();
		set_store(st, PointerGetDatum(st->req->store_ids[i]));
		read_listed_polls(st);
		/* a stream under row security lists the same stores in the same order */
		if (st->hours.s.stream == NULL)
			merge_restart(&st->hours, st->store);
		if (st->zones.s.stream == NULL)
			merge_restart(&st->zones, st->store);
		if (finish_store(st, sink) == 1)
			done++;
		else if (++(*nmissing) <= 10)
			append_shown_id(missing, st->req->store_ids[i]);
	}
	return done;
}

/*
 * The planner's estimate of the number of stores, for progress: exact
 * counting would cost another pass over the index.
 */
static int64
estimate_stores(Relation status)
{
	HeapTuple tuple = SearchSysCache3(STATRELATTINH, ObjectIdGetDatum(RelationGetRelid(status)),
	                                  Int16GetDatum(1), BoolGetDatum(false));
	double distinct = 0;

	if (HeapTupleIsValid(tuple))
	{
		distinct = ((Form_pg_statistic)GETSTRUCT(tuple))->stadistinct;
		ReleaseSysCache(tuple);
	}
	if (distinct < 0)
		distinct = -distinct * Max(status->rd_rel->reltuples, 0);
	return (int64)distinct;
}

/* Listed stores in the order they are read: descending. */
static text **
listed_descending(const SmComputeRequest *req)
{
	text **ids = palloc(sizeof(text *) * Max(req->nstore_ids, 1));

	for (int i = 0; i < req->nstore_ids; i++)
		ids[i] = req->store_ids[req->nstore_ids - 1 - i];
	return ids;
}

/* Tables under row security are read from streams instead of their indexes. */
static void
open_policy_streams(ComputeState *st)
{
	const SmComputeRequest *req = st->req;
	text **ids = req->store_ids != NULL ? listed_descending(req) : NULL;
	int n = req->store_ids != NULL ? req->nstore_ids : 0;

	st->policy_polls.s.columns = st->below.columns;
	st->policy_polls.s.entry_context =
	    AllocSetContextCreate(CurrentMemoryContext, "storemon policy entry", ALLOCSET_SMALL_SIZES);
	if (st->policy.applies[SM_POLICY_POLLS] && n > 0)
		open_policy_polls(st, ids, n);
	if (st->policy.applies[SM_POLICY_HOURS] && (ids == NULL || n > 0))
		st->hours.s.stream = sm_policy_stream_open(&st->policy, SM_POLICY_HOURS, ids, n, 0, 0);
	if (st->policy.applies[SM_POLICY_ZONES] && (ids == NULL || n > 0))
		st->zones.s.stream = sm_policy_stream_open(&st->policy, SM_POLICY_ZONES, ids, n, 0, 0);
}

static void
close_policy_streams(ComputeState *st)
{
	SmPolicyStream *streams[3] = {st->policy_polls.s.stream, st->hours.s.stream,
	                              st->zones.s.stream};

	for (int i = 0; i < lengthof(streams); i++)
		if (streams[i] != NULL)
			sm_policy_stream_close(streams[i]);
	sm_policy_reads_end(&st->policy);
}

void
sm_compute_stores(const SmComputeRequest *req, const SmStoreSink *sink)
{
	SmCatalog cat;
	ComputeState st = {0};
	Snapshot snapshot = GetActiveSnapshot();
	MemoryContext cxt =
	    AllocSetContextCreate(CurrentMemoryContext, "storemon compute", ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	int64 total = 0;
	int64 done;
	int merge_keys;
	StringInfoData missing;
	int nmissing = 0;
	bool under_policies;

	sm_check_as_of(req->as_of);
	sm_catalog_lookup(&cat);
	sm_check_read_privileges(&cat, GetUserId(), false);
	sm_core_alloc_in(cxt);
	st.as_of = req->as_of;
	st.req = req;
	initStringInfo(&missing);
	sm_scan_open(&st.below, cat.store_status, cat.store_status_store_time_idx, 3, 1, snapshot);
	sm_scan_open(&st.within, cat.store_status, cat.store_status_store_time_idx, 3, 2, snapshot);
	/*
	 * Both poll scans meet the same stale pages: one cache
	 * (page_visibility.h).  It pays when a page is met by many stores; a
	 * few listed stores meet each page once, and fetch.
	 */
	if (st.below.heap_am && (req->store_ids == NULL || req->nstore_ids > SM_LISTED_STORES_CACHED))
		st.below.stale_pages = st.within.stale_pages =
		    sm_page_visibility_create(st.below.heap, snapshot);
	/*
	 * Every store: hours and zones are one pass each, from the end.  Listed
	 * stores: a descent each to the store (merge_restart), whose key the
	 * scan must be opened for: a rescan ignores keys beyond those.
	 */
	merge_keys = req->store_ids != NULL ? 1 : 0;
	sm_scan_open(&st.hours.s, cat.menu_hours, cat.menu_hours_store_idx, 4, merge_keys, snapshot);
	sm_scan_open(&st.zones.s, cat.timezones, cat.timezones_pkey, 2, merge_keys, snapshot);
	if (merge_keys == 0)
	{
		index_rescan(st.hours.s.scan, NULL, 0, NULL, 0);
		index_rescan(st.zones.s.scan, NULL, 0, NULL, 0);
	}
	(void)sm_zone_default(); /* load the zone list before the loop */
	under_policies = sm_policy_reads_begin(&cat, &st.policy);
	if (under_policies)
		open_policy_streams(&st);

	/* the statistics hold store ids: not a total for a role under row security */
	if (sink->progress != NULL)
	{
		total = req->store_ids != NULL ? req->nstore_ids
		        : under_policies       ? 0
		                               : estimate_stores(st.below.heap);
		sink->progress(sink->arg, 0, total);
	}
	if (req->store_ids != NULL)
		done = read_listed_stores(&st, sink, &missing, &nmissing);
	else if (st.policy.applies[SM_POLICY_POLLS])
		done = read_stores_under_policies(&st, sink);
	else
		done = read_stores(&st, sink, total);
	if (under_policies)
		close_policy_streams(&st);
	if (sink->progress != NULL)
		sink->progress(sink->arg, done, done);
	if (nmissing > 0)
		ereport(NOTICE, (errmsg("storemon: %d of the stores asked for have no poll at or before %s",
		                        nmissing, timestamptz_to_str(req->as_of)),
		                 nmissing > 10 ? errdetail("Not reported: %s and %d more.", missing.data,
		                                           nmissing - 10)
		                               : errdetail("Not reported: %s.", missing.data)));

	sm_scan_close(&st.zones.s);
	sm_scan_close(&st.hours.s);
	sm_scan_close(&st.within);
	sm_scan_close(&st.below);
	sm_core_alloc_in(NULL);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
}

bool
sm_default_as_of(TimestampTz *as_of)
{
	SmCatalog cat;
	IndexedScan s;
	bool found;

	sm_catalog_lookup(&cat);
	sm_check_read_privileges(&cat, GetUserId(), true);
	if (sm_table_under_policies(cat.store_status))
		return sm_policy_default_as_of(as_of);
	sm_scan_open(&s, cat.store_status, cat.store_status_time_idx, 1, 0, GetActiveSnapshot());
	index_rescan(s.scan, NULL, 0, NULL, 0);
	found = sm_next_entry(&s, BackwardScanDirection);
	if (found)
		*as_of = DatumGetTimestampTz(s.values[0]);
	sm_scan_close(&s);
	return found;
}
