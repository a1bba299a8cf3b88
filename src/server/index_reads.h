/*
 * index_reads.h — a table read through one of its covering indexes, as an
 * index-only scan reads it: the heap is visited only for pages the
 * visibility map does not mark all-visible, and those through a cache that
 * decides a page once (page_visibility.h).  Or, for a table under row
 * security, the same columns from a query under its policies
 * (row_security.h).
 */
#ifndef SM_INDEX_READS_H
#define SM_INDEX_READS_H

#include "postgres.h"

#include "access/genam.h"
#include "access/relscan.h"
#include "access/skey.h"
#include "executor/tuptable.h"
#include "storage/buf.h"
#include "utils/rel.h"
#include "utils/snapshot.h"

#include "server/page_visibility.h"
#include "server/row_security.h"

/* Most index columns read: menu_hours (store_id) INCLUDE (day, start, end). */
#define MAX_INDEX_COLUMNS 4

/* One relation read through one of its covering indexes. */
typedef struct IndexedScan
{
	Relation heap;
	Relation index;
	IndexScanDesc scan;
	TupleTableSlot *slot;
	bool heap_am;                  /* the visibility map is the heap's: others always fetch */
	Buffer vmbuffer;               /* visibility map page, for index-only reads */
	SmPageVisibility *stale_pages; /* pages not all-visible, decided once; NULL: fetch */
	MemoryContext entry_context;   /* the current entry's decompressed values; reset per entry */
	TupleDesc columns;             /* the index's columns, which a stream's rows have too */
	SmPolicyStream *stream;        /* not NULL: entries come from this query under row security */
	/* The current entry, in index column order; valid until the scan moves. */
	Datum values[MAX_INDEX_COLUMNS];
	bool isnull[MAX_INDEX_COLUMNS];
} IndexedScan;

/* Open a scan of heap through index, which must have ncolumns columns. */
extern void sm_scan_open(IndexedScan *s, Oid heap, Oid index, int ncolumns, int nkeys,
                         Snapshot snapshot);
extern void sm_scan_close(IndexedScan *s);

/* A scan key on the store_id column, in COLLATE "C". */
extern void sm_key_store(ScanKey key, StrategyNumber strategy, RegProcedure proc, text *store);

/* The next visible entry into s->values; false at the end. */
extern bool sm_next_entry(IndexedScan *s, ScanDirection dir);

#endif /* SM_INDEX_READS_H */
