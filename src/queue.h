/*
 * queue.h — the reports table as a work queue, as the worker sees it.
 *
 * Each call runs SQL through SPI with parameters, inside the transaction
 * the worker (worker.c) has started; the table lives in the extension's
 * schema.  A request is Queued, then Running (claimed by one worker, its
 * pid and start time recorded), then Complete or Failed.  Only storemon
 * sets anything but requested_as_of and interpolation (queue_guard.c).
 */
#ifndef SM_QUEUE_H
#define SM_QUEUE_H

#include "postgres.h"

#include "access/tupdesc.h"
#include "datatype/timestamp.h"
#include "utils/tuplestore.h"
#include "utils/uuid.h"

/* What a worker claimed. */
typedef struct SmClaim
{
	pg_uuid_t id;
	bool as_of_given;
	TimestampTz as_of;
	char *interpolation; /* checked when queued since 1.3; parsed again when computed */
	int attempts;
	char *requested_by;
} SmClaim;

/*
 * Serialize queue upkeep (recover + claim) among a database's workers for
 * the rest of the transaction, so that a worker never judges a request
 * another worker has just claimed by a stale view of pg_stat_activity.
 * The lock is in a space of storemon's own: no session can take it.
 */
extern void sm_queue_lock(void);

/* The same private space: lock (dboid, role) for the rest of the transaction. */
extern void sm_lock_role_queue(Oid role);

/*
 * Running requests whose worker is gone (crash, kill, restart) go back to
 * Queued, or to Failed once they used max_attempts.  Returns how many.
 */
extern uint64 sm_queue_recover(int max_attempts);

/*
 * Claim the oldest Queued request (FOR UPDATE SKIP LOCKED); false if none.
 * Its text is copied into keep, which outlives the transaction.
 */
extern bool sm_queue_claim(SmClaim *claim, MemoryContext keep);

/*
 * Store a claimed report's rows (computed by requester.h, store_id, then
 * the six figures) and mark it Complete as of as_of (NULL: no polls at
 * all).  The caller commits.
 */
extern void sm_queue_complete(const SmClaim *claim, const TimestampTz *as_of, Tuplestorestate *rows,
                              TupleDesc desc);

/* Mark the request Failed with message. */
extern void sm_queue_fail(const pg_uuid_t *id, const char *message);

/* "<uuid>" of id, palloc'd. */
extern char *sm_uuid_text(const pg_uuid_t *id);

#endif /* SM_QUEUE_H */
