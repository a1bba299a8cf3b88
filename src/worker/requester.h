/*
 * requester.h — a claimed report computed as the role that asked for it.
 *
 * The report worker runs as the bootstrap superuser, which reads every
 * row.  A report must hold only what its requester could read itself:
 * its grants and its row security.  So the worker computes it with the
 * requester's identity (as autovacuum runs an index's functions as the
 * table's owner, under a security-restricted operation) and stores the
 * rows as storemon afterwards (queue.h).  An extension that requires
 * storemon may provide the rows instead (requester.c: storemon_coordinator
 * computes them on its shards).
 */
#ifndef SM_REQUESTER_H
#define SM_REQUESTER_H

#include "postgres.h"

#include "access/tupdesc.h"
#include "utils/tuplestore.h"

#include "worker/queue.h"

typedef struct SmComputed
{
	bool have_as_of;       /* false: no poll at all, so no rows */
	TimestampTz as_of;     /* the T used */
	Tuplestorestate *rows; /* store_id and the six figures; NULL without as_of */
	TupleDesc desc;
} SmComputed;

/*
 * Compute claim's report as its requester into *out (in the current
 * memory context), under the active snapshot.  Errors if the role is gone
 * or may not read the feed.
 */
extern void sm_compute_as_requester(const SmClaim *claim, SmComputed *out);

#endif /* SM_REQUESTER_H */
