/*
 * queue.h — a report's life: the reports table as a work queue.
 *
 *   Queued --claim--> Running --complete--> Complete
 *                        |  \--fail--------> Failed
 *                        \--recover: its worker is gone--> Queued (retry),
 *                                           or Failed once max_attempts are used
 *
 * Every transition is one statement here, run through SPI inside the
 * transaction the worker (worker.c) has started.  Which worker computes a
 * Running report is known in one place, the worker's slot in shared memory
 * (shared_memory.h): a Running report no live worker computes is an orphan.
 * Only storemon sets anything but requested_as_of and interpolation
 * (queue_sql.c).
 */
#ifndef SM_QUEUE_H
#define SM_QUEUE_H

#include "postgres.h"

#include "access/tupdesc.h"
#include "datatype/timestamp.h"
#include "utils/tuplestore.h"
#include "utils/uuid.h"

typedef enum SmReportStatus
{
	SM_REPORT_QUEUED,
	SM_REPORT_RUNNING,
	SM_REPORT_COMPLETE,
	SM_REPORT_FAILED
} SmReportStatus;

/* The word stored in reports.status. */
extern const char *sm_report_status_name(SmReportStatus status);

/* What a worker claimed. */
typedef struct SmClaim
{
	pg_uuid_t id;
	bool as_of_given;
	TimestampTz as_of;
	char *interpolation; /* checked when queued since 1.3; parsed again when computed */
	int attempts;
	char *requested_by;
	Oid requested_by_role; /* InvalidOid for requests queued before 1.3 */
} SmClaim;

/*
 * Serialize queue upkeep (recover + claim) among a database's workers for
 * the rest of the transaction.  The lock is in a space of storemon's own:
 * no session can take it.
 */
extern void sm_queue_lock(void);

/*
 * Queued requests of role, counted as the table's owner (the role may not
 * read them), under a lock of the same private space held for the rest of
 * the transaction, so that concurrent sessions of one role count in turn.
 */
extern int64 sm_queued_requests_of(Oid role);

/*
 * Running requests no live worker computes (crash, kill, restart) go back
 * to Queued, or to Failed once they used max_attempts.  Returns how many.
 */
extern uint64 sm_queue_recover(int max_attempts);

/*
 * Claim the oldest Queued request (FOR UPDATE SKIP LOCKED); false if none.
 * Its text is copied into keep, which outlives the transaction.  The
 * caller shows it in its slot before the claim commits, so a Running
 * report always has a worker.
 */
extern bool sm_queue_claim(SmClaim *claim, MemoryContext keep);

/*
 * Is a request Queued that the claim skipped (another session holds its
 * row locked, as a DELETE that may roll back does)?  Then it is not gone.
 */
extern bool sm_queue_waiting(void);

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
