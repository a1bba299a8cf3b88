/*
 * launcher.c — the one process that starts report workers (see worker.h).
 *
 * Shaped like pg_cron's launcher and autovacuum's: a static background
 * worker registered in _PG_init, sleeping on its latch, woken by sessions
 * that queued a request and by the postmaster when a worker it started
 * stops.  It is the only process that registers workers, so slots are
 * counted in one place: a database whose worker cannot be started now
 * (no free background worker slot) stays pending and is retried every
 * second, and workers leave when idle, so no database waits for ever.
 *
 * At start (server start or after a crash) every database gets one look by
 * a "probe" worker, which leaves at once unless storemon is installed there
 * and has requests Queued or left Running by a worker that died.
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "worker/fixed_settings.h"
#include "worker/shared_memory.h"
#include "worker/worker.h"

#define RETRY_MS       1000  /* a pending database without a worker: try again after */
#define IDLE_WAKEUP_MS 60000 /* nothing pending: look anyway, for stale blockers */

/* This launcher's handles of the workers it registered, by slot. */
static BackgroundWorkerHandle *handles[SM_MAX_WORKERS];

void
sm_launcher_register(void)
{
	BackgroundWorker w;

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = 1;
	strlcpy(w.bgw_library_name, "storemon", BGW_MAXLEN);
	strlcpy(w.bgw_function_name, "storemon_launcher_main", BGW_MAXLEN);
	strlcpy(w.bgw_name, "storemon launcher", BGW_MAXLEN);
	strlcpy(w.bgw_type, "storemon launcher", BGW_MAXLEN);
	RegisterBackgroundWorker(&w);
}

/* The oids of the databases a worker can connect to (not templates). */
static List *
connectable_databases(void)
{
	List *dbs = NIL;
	Relation rel;
	TableScanDesc scan;
	HeapTuple tup;
	MemoryContext outer = CurrentMemoryContext;

	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Form_pg_database db = (Form_pg_database)GETSTRUCT(tup);

		if (db->datallowconn && !db->datistemplate)
		{
			MemoryContext old = MemoryContextSwitchTo(outer);

			dbs = lappend_oid(dbs, db->oid);
			MemoryContextSwitchTo(old);
		}
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	PopActiveSnapshot();
	CommitTransactionCommand();
	return dbs;
}

/* Forget pending databases that were dropped or no longer take connections. */
static void
forget_gone_databases(void)
{
	List *dbs = connectable_databases();

	LWLockAcquire(sm_shared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < sm_max_databases; i++)
	{
		SmDatabase *db = &sm_shared->dbs[i];

		if (db->dboid != InvalidOid && db->pending && !list_member_oid(dbs, db->dboid))
			db->pending = false;
	}
	LWLockRelease(sm_shared->lock);
	list_free(dbs);
}

/*
 * Free the slots of workers that stopped.  One that did not leave by itself
 * was terminated or failed: its database is pending again, so a request it
 * left Running is retried, not before a second from now.
 */
static void
reap_workers(void)
{
	TimestampTz retry_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), RETRY_MS);

	LWLockAcquire(sm_shared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < SM_MAX_WORKERS; i++)
	{
		SmWorkerSlot *w = &sm_shared->workers[i];
		pid_t pid;

		if (!w->in_use || w->orphan || handles[i] == NULL ||
		    GetBackgroundWorkerPid(handles[i], &pid) != BGWH_STOPPED)
			continue;
		if (!w->clean_exit)
		{
			SmDatabase *db = sm_database_entry(w->dboid, true);

			if (db != NULL)
			{
				db->pending = true;
				db->probe = false;
				db->not_before = retry_at;
			}
		}
		pfree(handles[i]);
		handles[i] = NULL;
		memset(w, 0, sizeof(*w));
	}
	/* entries with nothing left to do make room for other databases */
	for (int i = 0; i < sm_max_databases; i++)
	{
		SmDatabase *db = &sm_shared->dbs[i];

		if (db->dboid != InvalidOid && !db->pending && db->blocker == 0 &&
		    sm_database_workers(db->dboid) == 0)
			db->dboid = InvalidOid;
	}
	LWLockRelease(sm_shared->lock);
}

/*
 * No slot is free: ask workers that sit idle in databases with nothing
 * pending to leave now rather than after their idle timeout.  Lock held.
 */
static void
ask_idle_workers_to_yield(void)
{
	for (int i = 0; i < SM_MAX_WORKERS; i++)
	{
		SmWorkerSlot *w = &sm_shared->workers[i];
		SmDatabase *db;

		if (!w->in_use || w->computing || w->pid == 0 || w->latch == NULL)
			continue;
		db = sm_database_entry(w->dboid, false);
		if (db != NULL && db->pending)
			continue;
		w->yield = true;
		SetLatch(w->latch);
	}
}

static bool
register_worker(int slot, Oid dboid)
{
	BackgroundWorker w;

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	strlcpy(w.bgw_library_name, "storemon", BGW_MAXLEN);
	strlcpy(w.bgw_function_name, "storemon_db_worker_main", BGW_MAXLEN);
	snprintf(w.bgw_name, BGW_MAXLEN, "storemon worker for database %u", dboid);
	strlcpy(w.bgw_type, "storemon worker", BGW_MAXLEN);
	w.bgw_main_arg = Int32GetDatum(slot);
	memcpy(w.bgw_extra, &dboid, sizeof(Oid)); /* read before the slot may be */
	w.bgw_notify_pid = MyProcPid;
	return RegisterDynamicBackgroundWorker(&w, &handles[slot]);
}

/* Log, at most once a minute, that a database waits for a slot. */
static void
complain_no_slot(TimestampTz now)
{
	static TimestampTz last_complaint = 0;

	if (!TimestampDifferenceExceeds(last_complaint, now, 60000))
		return;
	ereport(LOG, (errmsg("storemon: no background worker slot is free; "
	                     "report requests wait until one is"),
	              errhint("Raise max_worker_processes, or lower storemon.worker_idle_timeout.")));
	last_complaint = now;
}

/*
 * Start the workers one pending database may still have.  Returns false
 * when the server had no background worker slot left.  Lock held.
 */
static bool
start_for_database(SmDatabase *db, int *running)
{
	for (int s = 0; s < SM_MAX_WORKERS && *running < sm_max_parallel_reports; s++)
	{
		SmWorkerSlot *w = &sm_shared->workers[s];

		if (w->in_use)
			continue;
		if (!register_worker(s, db->dboid))
			return false;
		memset(w, 0, sizeof(*w));
		w->in_use = true;
		w->dboid = db->dboid;
		w->probe = db->probe;
		(*running)++;
		if (db->probe)
			break; /* one look is enough */
	}
	return true;
}

/*
 * Start workers for pending databases, as many as each may have.  Returns
 * false when some pending database got none (no free slot, or too soon
 * after a failure), so the caller comes back soon.
 */
static bool
start_workers(void)
{
	TimestampTz now = GetCurrentTimestamp();
	bool all_served = true;

	LWLockAcquire(sm_shared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < sm_max_databases; i++)
	{
		SmDatabase *db = &sm_shared->dbs[i];
		int running;

		if (db->dboid == InvalidOid || !db->pending || sm_database_blocked(db))
			continue;
		running = sm_database_workers(db->dboid);
		if (running >= (db->probe ? 1 : sm_max_parallel_reports))
			continue;
		if (now < db->not_before)
			all_served = false;
		else if (!start_for_database(db, &running))
		{
			ask_idle_workers_to_yield();
			complain_no_slot(now);
			all_served = false;
			break;
		}
		else if (running == 0)
			all_served = false; /* every slot of storemon's own table is taken */
	}
	LWLockRelease(sm_shared->lock);
	return all_served;
}

/*
 * Mark every database pending for one look by a probe worker: at start, for
 * requests a crash or restart left, and after a database found no place in
 * shared memory (shared_memory.h), for the requests it could not announce.
 */
static void
look_in_every_database(void)
{
	static int next = 0; /* where the last round found no place: start there */
	List *dbs = connectable_databases();
	int n = list_length(dbs);

	for (int k = 0; k < n; k++)
	{
		int i = (next + k) % n;

		if (!sm_registry_wake(list_nth_oid(dbs, i), true))
		{
			next = i; /* the table is full again: the next round goes on from here */
			break;
		}
	}
	list_free(dbs);
}

/*
 * Was a database left without a place, and is there one now?  Clears the
 * mark then; while every place is taken it stays, and nothing is probed.
 */
static bool
take_overflow(void)
{
	bool take = false;

	LWLockAcquire(sm_shared->lock, LW_EXCLUSIVE);
	if (sm_shared->overflowed && sm_database_entry(InvalidOid, false) != NULL /* a free place */)
	{
		sm_shared->overflowed = false;
		take = true;
	}
	else if (sm_shared->overflowed)
		ask_idle_workers_to_yield(); /* their databases' places free when they leave */
	LWLockRelease(sm_shared->lock);
	return take;
}

static void
launcher_detach(int code, Datum arg)
{
	LWLockAcquire(sm_shared->lock, LW_EXCLUSIVE);
	sm_shared->launcher_latch = NULL;
	LWLockRelease(sm_shared->lock);
}

void
storemon_launcher_main(Datum arg)
{
	SmSettings *server_settings;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	server_settings = sm_settings_before_connect();
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	sm_settings_after_connect(server_settings);
	pgstat_report_appname("storemon launcher");

	/*
	 * Slots still in use were registered by an earlier launcher (this one
	 * was restarted alone; after a server crash shared memory is new): this
	 * launcher has no handles for them, so their workers free them.
	 */
	LWLockAcquire(sm_shared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < SM_MAX_WORKERS; i++)
		sm_shared->workers[i].orphan = sm_shared->workers[i].in_use;
	sm_shared->launcher_latch = MyLatch;
	LWLockRelease(sm_shared->lock);
	before_shmem_exit(launcher_detach, (Datum)0);
	ereport(LOG, (errmsg("storemon launcher started")));

	look_in_every_database();

	for (;;)
	{
		bool served;

		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		reap_workers();
		if (take_overflow())
			look_in_every_database(); /* whichever database found no place is among them */
		served = start_workers() && !sm_shared->overflowed;
		if (!served)
			forget_gone_databases();
		(void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
		                served ? IDLE_WAKEUP_MS : RETRY_MS, PG_WAIT_EXTENSION);
	}
}
