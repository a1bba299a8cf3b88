/*
 * page_visibility.h — which index entries of a heap page are visible,
 * decided once per page.
 *
 * The report reads store_status index-only; a page the visibility map does
 * not mark all-visible (polls newer than the last VACUUM) needs a check of
 * the heap.  Fetching the heap tuple for every index entry costs a buffer
 * lookup, pin and lock each time, and the report meets each such page once
 * per store that polled in it.  This cache decides a page once (every line
 * pointer, as a bitmap heap scan does) and answers the page's other
 * entries from the bitmap.
 */
#ifndef SM_PAGE_VISIBILITY_H
#define SM_PAGE_VISIBILITY_H

#include "postgres.h"

#include "storage/itemptr.h"
#include "utils/rel.h"
#include "utils/snapshot.h"

typedef struct SmPageVisibility SmPageVisibility;

/* A cache for reads of heap under snapshot, in the current memory context (freed with it). */
extern SmPageVisibility *sm_page_visibility_create(Relation heap, Snapshot snapshot);

/*
 * Does the index entry pointing at tid have a version visible to the
 * snapshot?  1 or 0; -1 when the cache has stopped answering (more pages
 * than it holds, read too few times each): the caller fetches the tuple.
 */
extern int sm_page_visible(SmPageVisibility *pv, ItemPointer tid);

#endif /* SM_PAGE_VISIBILITY_H */
