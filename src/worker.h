/*
 * worker.h — the report worker: a launcher (with shared_preload_libraries)
 * and one worker per database and slot that serves the reports queue.
 *
 * A database's workers hold session advisory locks (SM_SLOT_LOCK_KEY, slot),
 * so anyone can see who serves a database in pg_locks, and the lock goes
 * away with the process whatever way it ends.
 */
#ifndef SM_WORKER_H
#define SM_WORKER_H

#include "postgres.h"

#define SM_SLOT_LOCK_KEY 1398033742 /* 'STMN': advisory lock class of worker slots */

/* GUCs (defined in storemon.c). */
extern int sm_max_parallel_reports;
extern int sm_max_attempts;
extern int sm_naptime_ms;
extern int sm_launcher_naptime_s;

/* From _PG_init, when preloaded: the launcher, a static background worker. */
extern void sm_launcher_register(void);

/*
 * From a session that queued a request: when its transaction commits, wake
 * the database's workers and start the missing ones (up to
 * storemon.max_parallel_reports).
 */
extern void sm_worker_wake_at_commit(void);

PGDLLEXPORT void storemon_launcher_main(Datum arg);
PGDLLEXPORT void storemon_db_worker_main(Datum arg);

#endif /* SM_WORKER_H */
