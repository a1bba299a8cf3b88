/*
 * shared_memory.c — the shared state of launcher, workers and sessions (see
 * shared_memory.h).
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/shmem.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "worker/shared_memory.h"

SmShared *sm_shared = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static Size
registry_size(void)
{
	return MAXALIGN(
	    add_size(offsetof(SmShared, dbs), mul_size(sm_max_databases, sizeof(SmDatabase))));
}

static void
registry_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(registry_size());
	RequestNamedLWLockTranche("storemon", 1);
}

static void
registry_startup(void)
{
	bool found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	sm_shared = ShmemInitStruct("storemon", registry_size(), &found);
	if (!found)
	{
		memset(sm_shared, 0, registry_size());
		sm_shared->lock = &(GetNamedLWLockTranche("storemon"))->lock;
	}
	LWLockRelease(AddinShmemInitLock);
}

void
sm_registry_init(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = registry_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = registry_startup;
}

SmDatabase *
sm_database_entry(Oid dboid, bool add)
{
	SmDatabase *free_entry = NULL;

	for (int i = 0; i < sm_max_databases; i++)
	{
		SmDatabase *db = &sm_shared->dbs[i];

		if (db->dboid == dboid)
			return db;
		if (free_entry == NULL && db->dboid == InvalidOid)
			free_entry = db;
	}
	if (!add || free_entry == NULL)
		return NULL;
	memset(free_entry, 0, sizeof(SmDatabase));
	free_entry->dboid = dboid;
	return free_entry;
}

int
sm_database_workers(Oid dboid)
{
	int n = 0;

	for (int i = 0; i < SM_MAX_WORKERS; i++)
		if (sm_shared->workers[i].in_use && sm_shared->workers[i].dboid == dboid)
			n++;
	return n;
}

bool
sm_database_blocked(SmDatabase *db)
{
	if (db->blocker != 0 && BackendPidGetProc(db->blocker) == NULL)
		db->blocker = 0; /* its backend is gone without cleaning up (crash) */
	return db->blocker != 0;
}

bool
sm_registry_wake(Oid dboid, bool probe)
{
	SmDatabase *db;

	LWLockAcquire(sm_shared->lock, LW_EXCLUSIVE);
	db = sm_database_entry(dboid, true);
	if (db == NULL)
	{
		sm_shared->overflowed = true;
		if (sm_shared->launcher_latch != NULL)
			SetLatch(sm_shared->launcher_latch);
		LWLockRelease(sm_shared->lock);
		return false;
	}
	if (!db->pending)
		db->probe = probe;
	else if (!probe)
		db->probe = false;
	db->pending = true;
	for (int i = 0; i < SM_MAX_WORKERS; i++)
	{
		SmWorkerSlot *w = &sm_shared->workers[i];

		if (w->in_use && w->dboid == dboid && w->latch != NULL)
			SetLatch(w->latch);
	}
	if (sm_shared->launcher_latch != NULL)
		SetLatch(sm_shared->launcher_latch);
	LWLockRelease(sm_shared->lock);
	return true;
}

void
sm_slot_computing(SmWorkerSlot *slot, const pg_uuid_t *report)
{
	LWLockAcquire(sm_shared->lock, LW_EXCLUSIVE);
	slot->report = *report;
	slot->done = slot->total = 0;
	slot->computing = true;
	LWLockRelease(sm_shared->lock);
}

void
sm_slot_progress(SmWorkerSlot *slot, int64 done, int64 total)
{
	LWLockAcquire(sm_shared->lock, LW_EXCLUSIVE);
	slot->done = done;
	slot->total = total;
	LWLockRelease(sm_shared->lock);
}

void
sm_slot_done(SmWorkerSlot *slot)
{
	LWLockAcquire(sm_shared->lock, LW_EXCLUSIVE);
	slot->computing = false;
	LWLockRelease(sm_shared->lock);
}

int
sm_reports_computed(Oid dboid, pg_uuid_t *ids, int max)
{
	int n = 0;

	LWLockAcquire(sm_shared->lock, LW_SHARED);
	for (int i = 0; i < SM_MAX_WORKERS && n < max; i++)
	{
		SmWorkerSlot *w = &sm_shared->workers[i];

		if (w->in_use && w->computing && w->pid != 0 && w->dboid == dboid)
			ids[n++] = w->report;
	}
	LWLockRelease(sm_shared->lock);
	return n;
}

/* The progress text of the worker computing report; lock held. */
static char *
slot_progress(const pg_uuid_t *report)
{
	for (int i = 0; i < SM_MAX_WORKERS; i++)
	{
		SmWorkerSlot *w = &sm_shared->workers[i];
		PGPROC *proc;
		uint32 wait;

		if (!w->in_use || !w->computing || w->pid == 0 || w->dboid != MyDatabaseId ||
		    memcmp(&w->report, report, sizeof(pg_uuid_t)) != 0)
			continue;
		proc = BackendPidGetProc(w->pid);
		wait = proc != NULL ? proc->wait_event_info : 0;
		if ((wait & 0xFF000000) == PG_WAIT_LOCK)
			return psprintf("waiting for a lock (%s) held by another session",
			                pgstat_get_wait_event(wait));
		if (w->total > 0)
			return psprintf(INT64_FORMAT "/" INT64_FORMAT " stores done", w->done, w->total);
		if (w->done > 0)
			return psprintf(INT64_FORMAT " stores done", w->done);
		return pstrdup("starting");
	}
	return NULL;
}

char *
sm_report_progress(const pg_uuid_t *report)
{
	char *text;

	LWLockAcquire(sm_shared->lock, LW_SHARED);
	text = slot_progress(report);
	LWLockRelease(sm_shared->lock);
	return text;
}
