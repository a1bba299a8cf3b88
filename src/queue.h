/*
 * queue.h — the reports table as a work queue, as the worker sees it.
 *
 * Each call runs SQL through SPI with parameters, inside the transaction
 * the worker (worker.c) has started; the table lives in the extension's
 * schema.  A request is Queued, then Running (claimed by one worker, its
 * pid and start time recorded), then Complete or Failed.
 */
#ifndef SM_QUEUE_H
#define SM_QUEUE_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/uuid.h"

/* Advisory lock class of queue upkeep ('STMN'). */
#define SM_QUEUE_LOCK_KEY 1398033742

typedef struct SmClaim
{
	pg_uuid_t id;
	bool as_of_given;
	TimestampTz as_of;
	char interpolation[16];
	int attempts;
	char requested_by[NAMEDATALEN];
} SmClaim;

/*
 * Serialize queue upkeep (recover + claim) among a database's workers for
 * the rest of the transaction, so that a worker never judges a request
 * another worker has just claimed by a stale view of pg_stat_activity.
 */
extern void sm_queue_lock(void);

/*
 * Running requests whose worker is gone (crash, kill, restart) go back to
 * Queued, or to Failed once they used max_attempts.  Returns how many.
 */
extern uint64 sm_queue_recover(int max_attempts);

/* Claim the oldest Queued request (FOR UPDATE SKIP LOCKED); false if none. */
extern bool sm_queue_claim(SmClaim *claim);

/*
 * Compute the claimed report under the transaction's snapshot and store
 * its rows and Complete.  The caller commits.
 */
extern void sm_queue_complete(const SmClaim *claim);

/* Mark the request Failed with message. */
extern void sm_queue_fail(const pg_uuid_t *id, const char *message);

/* "<uuid>" of id, palloc'd. */
extern char *sm_uuid_text(const pg_uuid_t *id);

#endif /* SM_QUEUE_H */
