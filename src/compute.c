/*
 * compute.c — the report over the tables (see compute.h).
 *
 * Reads, per store, only what the report needs: a skip over the
 * (store_id, timestamp_utc) index finds the next store, then one backward
 * index scan reads its polls from as_of down to the last poll at or before
 * the start of the week window.  Older history is never touched, so the
 * cost follows the stores and the week, not the size of the table.  Hours
 * and zone come from one index probe each.  All of a store's memory is
 * reused for the next store.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/visibilitymap.h"
#include "storage/bufmgr.h"
#include "access/itup.h"
#include "access/tableam.h"
#include "catalog/pg_collation_d.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "catalog.h"
#include "compute.h"
#include "zone.h"

/* One relation read through one of its indexes. */
typedef struct IndexedScan
{
	Relation heap;
	Relation index;
	IndexScanDesc scan;
	TupleTableSlot *slot;
	Buffer vmbuffer; /* visibility map page, for index-only reads */
} IndexedScan;

/* One entry of the (store_id, timestamp_utc) INCLUDE (status) index. */
typedef struct PollEntry
{
	Datum store; /* valid until the scan moves */
	TimestampTz at;
	bool active;
} PollEntry;

typedef struct ComputeState
{
	TimestampTz as_of;
	SmMode mode;
	IndexedScan next_store; /* store_status by (store_id, time): the next store */
	IndexedScan polls;      /* the same index, backward through one store */
	IndexedScan hours;      /* menu_hours by store_id */
	IndexedScan zone;       /* timezones by store_id */
	text *store;            /* the current store id */
	TimestampTz first_poll; /* its earliest poll */
	SmPoll *poll_buf;
	int poll_cap;
	SmHoursRow *hours_buf;
	int hours_cap;
	SmOffsetSpan *span_buf;
	int span_cap;
	SmScratch scratch;
} ComputeState;

/* Column numbers, fixed by storemon--1.0.sql. */
#define STATUS_STORE 1
#define STATUS_TIME  2
#define STATUS_VALUE 3
#define HOURS_DAY    2
#define HOURS_START  3
#define HOURS_END    4
#define ZONE_NAME    2

void (*sm_progress_hook)(void *arg, int64 done, int64 total) = NULL;

/* sm_grow (sm_time.h) allocates here: the context of the running computation. */
static MemoryContext grow_context = NULL;

void *
sm_grow(void *ptr, size_t nbytes)
{
	if (ptr == NULL)
		return MemoryContextAlloc(grow_context, nbytes);
	return repalloc(ptr, nbytes);
}

SmMode
sm_parse_mode(text *mode)
{
	char *name;

	if (mode == NULL)
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
		                errmsg("storemon: interpolation mode must not be NULL"),
		                errhint("Accepted modes: nearest, previous.")));
	name = text_to_cstring(mode);
	if (strcmp(name, "nearest") == 0)
		return SM_NEAREST;
	if (strcmp(name, "previous") == 0)
		return SM_PREVIOUS;
	ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
	                errmsg("storemon: unknown interpolation mode \"%s\"", name),
	                errhint("Accepted modes: nearest, previous.")));
	return SM_NEAREST; /* not reached */
}

const char *
sm_mode_name(SmMode mode)
{
	return mode == SM_PREVIOUS ? "previous" : "nearest";
}

void
sm_check_as_of(TimestampTz as_of)
{
	if (TIMESTAMP_NOT_FINITE(as_of))
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("storemon: as_of must be a finite timestamp, not %s",
		                       TIMESTAMP_IS_NOBEGIN(as_of) ? "-infinity" : "infinity"),
		                errhint("Pass a timestamptz such as '2023-01-25 18:13:22 UTC', or NULL "
		                        "for the latest poll.")));
}

static void
scan_open(IndexedScan *s, Oid heap, Oid index, int nkeys, Snapshot snapshot)
{
	s->heap = table_open(heap, AccessShareLock);
	s->index = index_open(index, AccessShareLock);
	s->scan = index_beginscan(s->heap, s->index, snapshot, nkeys, 0);
	s->slot = table_slot_create(s->heap, NULL);
	s->vmbuffer = InvalidBuffer;
}

static void
scan_close(IndexedScan *s)
{
	if (BufferIsValid(s->vmbuffer))
		ReleaseBuffer(s->vmbuffer);
	index_endscan(s->scan);
	ExecDropSingleTupleTableSlot(s->slot);
	index_close(s->index, AccessShareLock);
	table_close(s->heap, AccessShareLock);
}

static void
key_store(ScanKey key, StrategyNumber strategy, RegProcedure proc, text *store)
{
	ScanKeyEntryInitialize(key, 0, 1, strategy, InvalidOid, C_COLLATION_OID, proc,
	                       PointerGetDatum(store));
}

static bool is_active(Datum status);

/*
 * The next visible poll of a store_status index scan, read like an
 * index-only scan: the index holds every column the report needs, so the
 * heap is visited only for pages the visibility map does not mark
 * all-visible (recently written polls).  This is what keeps the read close
 * to the cost of walking the index once.
 */
static bool
next_poll(IndexedScan *s, ScanDirection dir, PollEntry *out)
{
	ItemPointer tid;

	while ((tid = index_getnext_tid(s->scan, dir)) != NULL)
	{
		bool isnull;

		if (!VM_ALL_VISIBLE(s->heap, ItemPointerGetBlockNumber(tid), &s->vmbuffer))
		{
			if (!index_fetch_heap(s->scan, s->slot))
				continue; /* not visible to our snapshot */
			out->store = slot_getattr(s->slot, STATUS_STORE, &isnull);
			out->at = DatumGetTimestampTz(slot_getattr(s->slot, STATUS_TIME, &isnull));
			out->active = is_active(slot_getattr(s->slot, STATUS_VALUE, &isnull));
			return true;
		}
		out->store = index_getattr(s->scan->xs_itup, 1, s->scan->xs_itupdesc, &isnull);
		out->at =
		    DatumGetTimestampTz(index_getattr(s->scan->xs_itup, 2, s->scan->xs_itupdesc, &isnull));
		out->active = is_active(index_getattr(s->scan->xs_itup, 3, s->scan->xs_itupdesc, &isnull));
		return true;
	}
	return false;
}

/* Position on the first store after the current one; false at the end. */
static bool
advance_store(ComputeState *st)
{
	static text *empty = NULL;
	ScanKeyData key;
	PollEntry entry;
	text *next;

	if (empty == NULL)
		empty = (text *)MemoryContextAllocZero(TopMemoryContext, VARHDRSZ);
	if (st->store == NULL)
	{
		SET_VARSIZE(empty, VARHDRSZ);
		key_store(&key, BTGreaterEqualStrategyNumber, F_TEXT_GE, empty);
	}
	else
		key_store(&key, BTGreaterStrategyNumber, F_TEXT_GT, st->store);
	index_rescan(st->next_store.scan, &key, 1, NULL, 0);
	if (!next_poll(&st->next_store, ForwardScanDirection, &entry))
		return false;
	next = DatumGetTextPCopy(entry.store);
	st->first_poll = entry.at;
	if (st->store != NULL)
		pfree(st->store);
	st->store = next;
	return true;
}

static void
reserve(void **arr, int *cap, int need, size_t elem)
{
	if (need <= *cap)
		return;
	*cap = Max(need, Max(2 * *cap, 64));
	*arr = sm_grow(*arr, (size_t)*cap * elem);
}

static bool
is_active(Datum status)
{
	text *t = DatumGetTextPP(status);

	return VARSIZE_ANY_EXHDR(t) == 6 && memcmp(VARDATA_ANY(t), "active", 6) == 0;
}

/*
 * The store's polls at or before as_of, back to the last one at or before
 * the week window (and any polls sharing its instant).  Returns the count,
 * sorted by time.
 */
static int
read_polls(ComputeState *st)
{
	ScanKeyData keys[2];
	TimestampTz window_start = st->as_of - SM_USECS_PER_WEEK;
	TimestampTz stop_at = 0;
	bool stopping = false;
	int n = 0;
	PollEntry entry;

	key_store(&keys[0], BTEqualStrategyNumber, F_TEXTEQ, st->store);
	ScanKeyEntryInitialize(&keys[1], 0, 2, BTLessEqualStrategyNumber, InvalidOid, InvalidOid,
	                       F_TIMESTAMPTZ_LE, TimestampTzGetDatum(st->as_of));
	index_rescan(st->polls.scan, keys, 2, NULL, 0);

	while (next_poll(&st->polls, BackwardScanDirection, &entry))
	{
		TimestampTz at = entry.at;

		if (stopping && at != stop_at)
			break;
		reserve((void **)&st->poll_buf, &st->poll_cap, n + 1, sizeof(SmPoll));
		st->poll_buf[n].at = at;
		st->poll_buf[n].active = entry.active;
		n++;
		if (!stopping && at <= window_start)
		{
			stopping = true;
			stop_at = at;
		}
	}
	for (int i = 0; i < n / 2; i++)
	{
		SmPoll tmp = st->poll_buf[i];

		st->poll_buf[i] = st->poll_buf[n - 1 - i];
		st->poll_buf[n - 1 - i] = tmp;
	}
	return n;
}

static int
read_hours(ComputeState *st)
{
	ScanKeyData key;
	int n = 0;

	key_store(&key, BTEqualStrategyNumber, F_TEXTEQ, st->store);
	index_rescan(st->hours.scan, &key, 1, NULL, 0);
	while (index_getnext_slot(st->hours.scan, ForwardScanDirection, st->hours.slot))
	{
		bool isnull;

		reserve((void **)&st->hours_buf, &st->hours_cap, n + 1, sizeof(SmHoursRow));
		st->hours_buf[n].day = DatumGetInt16(slot_getattr(st->hours.slot, HOURS_DAY, &isnull));
		st->hours_buf[n].start_us =
		    DatumGetTimeADT(slot_getattr(st->hours.slot, HOURS_START, &isnull));
		st->hours_buf[n].end_us = DatumGetTimeADT(slot_getattr(st->hours.slot, HOURS_END, &isnull));
		n++;
	}
	return n;
}

static pg_tz *
read_zone(ComputeState *st)
{
	ScanKeyData key;
	pg_tz *tz = NULL;

	key_store(&key, BTEqualStrategyNumber, F_TEXTEQ, st->store);
	index_rescan(st->zone.scan, &key, 1, NULL, 0);
	if (index_getnext_slot(st->zone.scan, ForwardScanDirection, st->zone.slot))
	{
		bool isnull;
		Datum name = slot_getattr(st->zone.slot, ZONE_NAME, &isnull);

		if (!isnull)
		{
			text *t = DatumGetTextPP(name);

			tz = sm_zone_find(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
		}
	}
	return tz != NULL ? tz : sm_zone_default();
}

static int
read_spans(ComputeState *st, pg_tz *tz)
{
	SmInterval window = sm_week_window(st->as_of);
	int n = sm_zone_spans(tz, window, st->span_buf, st->span_cap);

	if (n > st->span_cap)
	{
		reserve((void **)&st->span_buf, &st->span_cap, n, sizeof(SmOffsetSpan));
		n = sm_zone_spans(tz, window, st->span_buf, st->span_cap);
	}
	return n;
}

static void
compute_store(ComputeState *st, const SmReportSink *sink)
{
	SmStoreInput in;
	SmFigures figures;

	in.npolls = read_polls(st);
	if (in.npolls == 0)
		return; /* every poll of this store is after as_of */
	in.polls = st->poll_buf;
	in.nhours = read_hours(st);
	in.hours = st->hours_buf;
	in.nspans = read_spans(st, read_zone(st));
	in.spans = st->span_buf;
	in.as_of = st->as_of;
	in.mode = st->mode;
	sm_store_figures(&in, &st->scratch, &figures);
	sink->row(sink->arg, st->store, &figures);
}

/* Stores with a poll at or before as_of: a cheap skip over the index. */
static int64
count_stores(ComputeState *st)
{
	int64 total = 0;

	while (advance_store(st))
	{
		CHECK_FOR_INTERRUPTS();
		if (st->first_poll <= st->as_of)
			total++;
	}
	pfree(st->store);
	st->store = NULL;
	return total;
}

void
sm_compute_report(TimestampTz as_of, SmMode mode, const SmReportSink *sink)
{
	SmCatalog cat;
	ComputeState st = {0};
	Snapshot snapshot = GetActiveSnapshot();
	MemoryContext cxt =
	    AllocSetContextCreate(CurrentMemoryContext, "storemon compute", ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	int64 done = 0;
	int64 total = 0;

	sm_check_as_of(as_of);
	sm_catalog_lookup(&cat);
	grow_context = cxt;
	st.as_of = as_of;
	st.mode = mode;
	scan_open(&st.next_store, cat.store_status, cat.store_status_store_time_idx, 1, snapshot);
	scan_open(&st.polls, cat.store_status, cat.store_status_store_time_idx, 2, snapshot);
	st.next_store.scan->xs_want_itup = true; /* read by next_poll, index-only */
	st.polls.scan->xs_want_itup = true;
	scan_open(&st.hours, cat.menu_hours, cat.menu_hours_store_idx, 1, snapshot);
	scan_open(&st.zone, cat.timezones, cat.timezones_pkey, 1, snapshot);
	(void)sm_zone_default(); /* load the zone list before the loop */

	if (sink->progress != NULL)
	{
		total = count_stores(&st);
		sink->progress(sink->arg, 0, total);
	}
	while (advance_store(&st))
	{
		CHECK_FOR_INTERRUPTS();
		if (st.first_poll > as_of)
			continue;
		compute_store(&st, sink);
		if (sink->progress != NULL && ++done % 1000 == 0)
			sink->progress(sink->arg, done, total);
	}
	if (sink->progress != NULL)
		sink->progress(sink->arg, done, total);

	scan_close(&st.zone);
	scan_close(&st.hours);
	scan_close(&st.polls);
	scan_close(&st.next_store);
	grow_context = NULL;
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
	scan_open(&s, cat.store_status, cat.store_status_time_idx, 0, GetActiveSnapshot());
	index_rescan(s.scan, NULL, 0, NULL, 0);
	found = index_getnext_slot(s.scan, BackwardScanDirection, s.slot);
	if (found)
	{
		bool isnull;

		*as_of = DatumGetTimestampTz(slot_getattr(s.slot, STATUS_TIME, &isnull));
	}
	scan_close(&s);
	return found;
}
