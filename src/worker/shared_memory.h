/*
 * shared_memory.h — shared memory: which databases want a report worker, which
 * workers run where, and what each is computing.
 *
 * storemon is loaded through shared_preload_libraries, so one small struct
 * in shared memory, under one LWLock, is where sessions, the launcher and
 * the workers meet:
 *
 *   - a session that queued a request marks its database "pending" and
 *     wakes the launcher and the database's workers (at commit);
 *   - the launcher starts a worker for every pending database that has
 *     fewer than storemon.max_parallel_reports, as slots allow, and after a
 *     worker that did not leave by itself (terminated, crashed) it marks
 *     the database pending again, so the request is picked up in seconds;
 *   - a worker clears "pending" before each look at the queue and leaves
 *     once it has been idle for storemon.worker_idle_timeout, unless a
 *     request came in meanwhile;
 *   - a backend running DROP DATABASE, ALTER DATABASE ... RENAME,
 *     CREATE DATABASE ... TEMPLATE or DROP EXTENSION storemon "blocks" the
 *     database until its transaction ends: its workers are told to leave
 *     and none is started (dbguard.c).
 */
#ifndef SM_SHARED_MEMORY_H
#define SM_SHARED_MEMORY_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "utils/uuid.h"

#define SM_MAX_WORKERS 64 /* workers at once, all databases */

typedef struct SmWorkerSlot
{
	bool in_use;     /* registered by the launcher, not yet reaped */
	bool clean_exit; /* the worker left by itself: nothing to redo */
	bool probe;      /* started to look, not for a request: leave if idle */
	bool yield;      /* another database waits for a slot: leave when idle */
	bool orphan;     /* registered by an earlier launcher: the worker frees the slot */
	Oid dboid;
	pid_t pid; /* 0 until the worker runs */
	Latch *latch;
	bool computing; /* report, done, total are valid */
	pg_uuid_t report;
	int64 done;
	int64 total;
} SmWorkerSlot;

typedef struct SmDatabase
{
	Oid dboid;              /* InvalidOid: a free entry */
	bool pending;           /* requests may be waiting */
	bool probe;             /* pending only to look (launcher start), no request seen */
	pid_t blocker;          /* a backend running a command that needs the database alone */
	TimestampTz not_before; /* after a worker failed: start the next one no earlier */
} SmDatabase;

typedef struct SmShared
{
	LWLock *lock;
	Latch *launcher_latch; /* NULL while no launcher runs */
	bool overflowed;       /* a database found no place in dbs: look in every one once */
	SmWorkerSlot workers[SM_MAX_WORKERS];
	SmDatabase dbs[FLEXIBLE_ARRAY_MEMBER]; /* storemon.max_databases of them */
} SmShared;

extern SmShared *sm_shared;

/* storemon.max_databases (storemon.c): places in dbs, fixed at server start. */
extern int sm_max_databases;

/* From _PG_init: ask for the shared memory and install the hooks that set it up. */
extern void sm_registry_init(void);

/* The database's entry, added if absent (NULL when the table is full); lock held. */
extern SmDatabase *sm_database_entry(Oid dboid, bool add);

/*
 * Mark dboid pending and wake the launcher and its workers (no lock held).
 * False when dbs has no place for it: then the launcher is told, and once
 * places free it takes one look in every database (launcher.c).
 */
extern bool sm_registry_wake(Oid dboid, bool probe);

/* Number of in-use worker slots of dboid; lock held. */
extern int sm_database_workers(Oid dboid);

/* Is the blocker of db still running?  Clears a stale one.  Lock held exclusively. */
extern bool sm_database_blocked(SmDatabase *db);

/*
 * What a worker's slot says it computes: the one place that knows which
 * worker runs which report (queue.h).  Each takes the lock.
 */
extern void sm_slot_computing(SmWorkerSlot *slot, const pg_uuid_t *report);
extern void sm_slot_progress(SmWorkerSlot *slot, int64 done, int64 total);
extern void sm_slot_done(SmWorkerSlot *slot);

/* The reports live workers of dboid compute, up to max, into ids; how many. */
extern int sm_reports_computed(Oid dboid, pg_uuid_t *ids, int max);

/*
 * What the worker computing report in this database is doing ("1000/14000
 * stores done", "waiting for a lock ..."), palloc'd; NULL when none does.
 */
extern char *sm_report_progress(const pg_uuid_t *report);

#endif /* SM_SHARED_MEMORY_H */
