/*
 * registry.c — the shared state of launcher, workers and sessions (see
 * registry.h).
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/shmem.h"
#include "utils/timestamp.h"

#include "registry.h"

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
