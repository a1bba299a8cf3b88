/*
 * worker.h — report workers: a launcher (launcher.c), started through
 * shared_preload_libraries, and per-database workers (worker.c) that serve
 * the reports queue.  They meet sessions in shared memory (shared_memory.h).
 */
#ifndef SM_WORKER_H
#define SM_WORKER_H

#include "postgres.h"

/* GUCs (defined in storemon.c). */
extern int sm_max_parallel_reports;
extern int sm_max_attempts;
extern int sm_naptime_ms;
extern int sm_worker_idle_timeout_ms;
extern int sm_max_queued_reports_per_role;
extern int sm_report_timeout_ms;

/* From _PG_init: the launcher, a static background worker. */
extern void sm_launcher_register(void);

PGDLLEXPORT void storemon_launcher_main(Datum arg);
PGDLLEXPORT void storemon_db_worker_main(Datum arg);

#endif /* SM_WORKER_H */
