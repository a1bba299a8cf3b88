/*
 * index_reads.c — a table read through one of its covering indexes (see
 * index_reads.h).
 */
#include "postgres.h"

#include "access/detoast.h"
#include "access/genam.h"
#include "access/itup.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/visibilitymap.h"
#include "catalog/pg_am_d.h"
#include "catalog/pg_collation_d.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/predicate.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "compat.h"
#include "server/index_reads.h"

void
sm_scan_open(IndexedScan *s, Oid heap, Oid index, int ncolumns, int nkeys, Snapshot snapshot)
{
	Assert(ncolumns <= MAX_INDEX_COLUMNS);
	s->heap = table_open(heap, AccessShareLock);
	s->index = index_open(index, AccessShareLock);
	if (RelationGetDescr(s->index)->natts != ncolumns)
		ereport(
		    ERROR,
		    (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
		     errmsg("storemon: index \"%s\" has %d columns, expected %d",
		            RelationGetRelationName(s->index), RelationGetDescr(s->index)->natts, ncolumns),
		     errhint("Recreate it as storemon--1.0.sql defines it, or reinstall the extension.")));
	s->scan = index_beginscan(s->heap, s->index, snapshot, NULL, nkeys, 0);
	s->scan->xs_want_itup = true; /* read by next_entry, index-only */
	s->slot = table_slot_create(s->heap, NULL);
	s->heap_am = s->heap->rd_rel->relam == HEAP_TABLE_AM_OID;
	s->vmbuffer = InvalidBuffer;
	s->stale_pages = NULL;
	s->entry_context =
	    AllocSetContextCreate(CurrentMemoryContext, "storemon index entry", ALLOCSET_SMALL_SIZES);
	s->columns = RelationGetDescr(s->index);
	s->stream = NULL;
}

void
sm_scan_close(IndexedScan *s)
{
	if (BufferIsValid(s->vmbuffer))
		ReleaseBuffer(s->vmbuffer);
	index_endscan(s->scan);
	ExecDropSingleTupleTableSlot(s->slot);
	index_close(s->index, AccessShareLock);
	table_close(s->heap, AccessShareLock);
}

void
sm_key_store(ScanKey key, StrategyNumber strategy, RegProcedure proc, text *store)
{
	ScanKeyEntryInitialize(key, 0, 1, strategy, InvalidOid, C_COLLATION_OID, proc,
	                       PointerGetDatum(store));
}

/*
 * A long store id may be stored compressed in the index (or the heap):
 * decompress each such value once per entry, not at every comparison, and
 * in memory freed when the scan moves on.
 */
static void
flatten_values(IndexedScan *s)
{
	for (int i = 0; i < s->columns->natts; i++)
	{
		struct varlena *v;

		if (s->isnull[i] || TupleDescAttr(s->columns, i)->attlen != -1)
			continue;
		v = (struct varlena *)DatumGetPointer(s->values[i]);
		if (VARATT_IS_COMPRESSED(v) || VARATT_IS_EXTERNAL(v))
		{
			MemoryContext old = MemoryContextSwitchTo(s->entry_context);

			s->values[i] = PointerGetDatum(detoast_attr(v));
			MemoryContextSwitchTo(old);
		}
	}
}

/* The current entry's columns from its heap tuple; false if none is visible. */
static bool
fetch_heap_values(IndexedScan *s)
{
	int natts = RelationGetDescr(s->index)->natts;

	if (!index_fetch_heap(s->scan, s->slot))
		return false;
	for (int i = 0; i < natts; i++)
		s->values[i] = slot_getattr(s->slot, s->index->rd_index->indkey.values[i], &s->isnull[i]);
	flatten_values(s);
	return true;
}

/*
 * The next visible entry of an index scan into s->values, read like an
 * index-only scan: the index holds every column the report needs, so the
 * heap is visited only for pages the visibility map does not mark
 * all-visible.  This is what keeps the read close to the cost of walking
 * the index once.
 */
bool
sm_next_entry(IndexedScan *s, ScanDirection dir)
{
	ItemPointer tid;

	MemoryContextReset(s->entry_context);
	if (s->stream != NULL)
	{
		if (!sm_policy_stream_next(s->stream, s->values, s->isnull))
			return false;
		flatten_values(s);
		return true;
	}
	while ((tid = index_getnext_tid(s->scan, dir)) != NULL)
	{
		CHECK_FOR_INTERRUPTS(); /* after a mass DELETE, many entries are skipped here */
		if (!s->heap_am)
		{
			if (fetch_heap_values(s))
				return true;
			continue;
		}
		if (!VM_ALL_VISIBLE(s->heap, ItemPointerGetBlockNumber(tid), &s->vmbuffer))
		{
			int visible = s->stale_pages != NULL ? sm_page_visible(s->stale_pages, tid) : -1;

			if (visible < 0) /* not cached: fetch the heap tuple */
			{
				if (fetch_heap_values(s))
					return true;
				continue;
			}
			if (visible == 0)
				continue; /* not visible to our snapshot */
			              /* Visible: the index entry holds the visible version's columns. */
		}
		else
		{
			/*
			 * Skipping the heap skips the heap's predicate lock: take it as
			 * the executor's index-only scan does, so SERIALIZABLE sees this
			 * read.  (A page decided above took its tuples' locks.)
			 */
			PredicateLockPage(s->heap, ItemPointerGetBlockNumber(tid), s->scan->xs_snapshot);
		}
		index_deform_tuple(s->scan->xs_itup, s->scan->xs_itupdesc, s->values, s->isnull);
		flatten_values(s);
		return true;
	}
	return false;
}
