/*
 * page_visibility.c — which index entries of a heap page are visible (see
 * page_visibility.h): a direct-mapped table of pages: slot = block number modulo the table's
 * size, a power of two at least the heap's size up to a cap, so that a
 * heap that fits has no collisions at all.  Each slot holds one page's
 * bitmap of the line pointers whose HOT chain has a version visible to the
 * snapshot, found by heap_hot_search_buffer exactly as an index fetch
 * finds it (taking the same predicate locks).  Because every column the
 * report reads is in the index, and a HOT chain's versions share their
 * indexed columns, the index entry's values are the visible version's.
 *
 * Memory is bounded by work_mem, as a bitmap heap scan's page table is,
 * allocated at the first page that needs it.  When a heap has more stale pages than
 * that and the report keeps evicting pages it read only a few times,
 * deciding whole pages would cost more than fetching single tuples: the
 * cache then stops answering and the caller fetches as before.
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/bufpage.h"

#include "server/page_visibility.h"

#define SM_VIS_MIN_SLOTS 1024
#define SM_VIS_WORDS     ((MaxHeapTuplesPerPage + 64) / 64) /* bit per offset 1..max */

typedef struct PageSlot
{
	BlockNumber block; /* InvalidBlockNumber: empty */
	uint64 visible[SM_VIS_WORDS];
} PageSlot;

struct SmPageVisibility
{
	Relation heap;
	Snapshot snapshot;
	PageSlot *slots; /* NULL until the first stale page */
	uint32 mask;
	bool gave_up;
	uint64 answered;  /* lookups answered from a slot */
	uint64 decided;   /* pages decided */
	uint64 evictions; /* decided pages that replaced another */
};

SmPageVisibility *
sm_page_visibility_create(Relation heap, Snapshot snapshot)
{
	SmPageVisibility *pv = palloc0(sizeof(SmPageVisibility));

	pv->heap = heap;
	pv->snapshot = snapshot;
	return pv;
}

static void
allocate_slots(SmPageVisibility *pv)
{
	BlockNumber nblocks = RelationGetNumberOfBlocks(pv->heap);
	double budget = (double)work_mem * 1024 / sizeof(PageSlot);
	uint32 n = SM_VIS_MIN_SLOTS;

	while (n < nblocks && 2.0 * n <= budget && n < (UINT32_C(1) << 30))
		n *= 2;
	pv->slots = palloc_extended(sizeof(PageSlot) * n, MCXT_ALLOC_HUGE);
	for (uint32 i = 0; i < n; i++)
		pv->slots[i].block = InvalidBlockNumber;
	pv->mask = n - 1;
}

/* Decide every line pointer of block into slot. */
static void
decide_page(SmPageVisibility *pv, PageSlot *slot, BlockNumber block)
{
	Buffer buf = ReadBuffer(pv->heap, block);
	Page page;
	OffsetNumber maxoff;

	memset(slot->visible, 0, sizeof(slot->visible));
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	maxoff = PageGetMaxOffsetNumber(page);
	for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
	{
		ItemId lp = PageGetItemId(page, off);
		ItemPointerData tid;
		HeapTupleData tuple;

		/* Index entries point at chain roots: a normal or redirect line pointer. */
		if (!ItemIdIsNormal(lp) && !ItemIdIsRedirected(lp))
			continue;
		ItemPointerSet(&tid, block, off);
		if (heap_hot_search_buffer(&tid, pv->heap, buf, pv->snapshot, &tuple, NULL, true))
			slot->visible[off / 64] |= UINT64CONST(1) << (off % 64);
	}
	UnlockReleaseBuffer(buf);
	slot->block = block;
}

int
sm_page_visible(SmPageVisibility *pv, ItemPointer tid)
{
	BlockNumber block = ItemPointerGetBlockNumber(tid);
	OffsetNumber off = ItemPointerGetOffsetNumber(tid);
	PageSlot *slot;

	if (pv->gave_up)
		return -1;
	if (pv->slots == NULL)
		allocate_slots(pv);
	slot = &pv->slots[block & pv->mask];
	if (slot->block != block)
	{
		if (slot->block != InvalidBlockNumber)
			pv->evictions++;
		/* Thrashing: each page decided is asked about too rarely to pay. */
		if (pv->evictions > pv->mask && pv->answered < 8 * pv->decided)
		{
			pv->gave_up = true;
			ereport(DEBUG1, (errmsg_internal("storemon: \"%s\" has more pages not all-visible than "
			                                 "work_mem holds (%u); fetching tuples one by one",
			                                 RelationGetRelationName(pv->heap), pv->mask + 1)));
			return -1;
		}
		decide_page(pv, slot, block);
		pv->decided++;
	}
	else
		pv->answered++;
	return (slot->visible[off / 64] >> (off % 64)) & 1;
}
