/*
 * worker.c — launcher and per-database report workers (see worker.h).
 *
 * The per-database loop follows worker_spi: a transaction, a snapshot and
 * SPI per unit of work, pgstat_report_activity to say what it does,
 * CHECK_FOR_INTERRUPTS, SIGTERM handled by die() and SIGHUP by a config
 * reload.  Each report is computed in one REPEATABLE READ transaction that
 * also writes its rows and Complete, so polls arriving meanwhile never leak
 * into it and a crash leaves either nothing or the whole report.  A request
 * left Running by a worker that died is found by its recorded pid and start
 * time and queued again (queue.c).
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "tcop/tcopprot.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "compute.h"
#include "queue.h"
#include "worker.h"

#define SM_MAX_SLOTS 64

/* ---- starting workers ---- */

static bool
start_db_worker(Oid dboid, BackgroundWorkerHandle **handle)
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
	w.bgw_main_arg = ObjectIdGetDatum(dboid);
	w.bgw_notify_pid = handle != NULL ? MyProcPid : 0;
	return RegisterDynamicBackgroundWorker(&w, handle);
}

void
sm_launcher_register(void)
{
	BackgroundWorker w;

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = 10;
	strlcpy(w.bgw_library_name, "storemon", BGW_MAXLEN);
	strlcpy(w.bgw_function_name, "storemon_launcher_main", BGW_MAXLEN);
	strlcpy(w.bgw_name, "storemon launcher", BGW_MAXLEN);
	strlcpy(w.bgw_type, "storemon launcher", BGW_MAXLEN);
	RegisterBackgroundWorker(&w);
}

/* ---- waking workers from a session ---- */

static bool wake_pending = false;
static bool wake_callback_registered = false;
static int wake_npids = 0;
static int wake_pids[SM_MAX_SLOTS];

static void
wake_at_commit(XactEvent event, void *arg)
{
	if (!wake_pending)
		return;
	if (event == XACT_EVENT_COMMIT)
	{
		for (int i = 0; i < wake_npids; i++)
		{
			PGPROC *proc = BackendPidGetProc(wake_pids[i]);

			if (proc != NULL)
				SetLatch(&proc->procLatch);
		}
		for (int i = wake_npids; i < sm_max_parallel_reports; i++)
			if (!start_db_worker(MyDatabaseId, NULL))
			{
				ereport(WARNING, (errmsg("storemon: no background worker slot is free to "
				                         "compute reports; requests stay queued"),
				                  errhint("Raise max_worker_processes.")));
				break;
			}
	}
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
	    event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT)
		wake_pending = false;
}

void
sm_worker_wake_at_commit(void)
{
	Oid types[2] = {OIDOID, OIDOID};
	Datum values[2] = {ObjectIdGetDatum(MyDatabaseId), ObjectIdGetDatum(SM_SLOT_LOCK_KEY)};

	SPI_connect();
	if (SPI_execute_with_args("SELECT pid FROM pg_catalog.pg_locks WHERE locktype = 'advisory' "
	                          "AND database = $1 AND classid = $2 AND objsubid = 2 AND granted",
	                          2, types, values, NULL, true, SM_MAX_SLOTS) != SPI_OK_SELECT)
		elog(ERROR, "storemon: cannot read pg_locks");
	wake_npids = 0;
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool isnull;

		wake_pids[wake_npids++] =
		    DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
	}
	SPI_finish();
	if (!wake_callback_registered)
	{
		RegisterXactCallback(wake_at_commit, NULL);
		wake_callback_registered = true;
	}
	wake_pending = true;
}

/* ---- the launcher ---- */

typedef struct LaunchedDb
{
	Oid dboid;
	BackgroundWorkerHandle *handle;
	TimestampTz started;
} LaunchedDb;

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

/*
 * Start a worker in every database that has none running: it stays if the
 * extension is there and leaves at once if not.  A database is tried again
 * after storemon.launcher_naptime; sessions start workers themselves too.
 */
static void
launch_for_all(LaunchedDb *launched, int *nlaunched, int cap)
{
	List *dbs = connectable_databases();
	ListCell *lc;
	TimestampTz now = GetCurrentTimestamp();

	foreach (lc, dbs)
	{
		Oid dboid = lfirst_oid(lc);
		LaunchedDb *entry = NULL;
		pid_t pid;

		for (int i = 0; i < *nlaunched; i++)
			if (launched[i].dboid == dboid)
				entry = &launched[i];
		if (entry == NULL && *nlaunched < cap)
		{
			entry = &launched[(*nlaunched)++];
			entry->dboid = dboid;
			entry->handle = NULL;
		}
		if (entry == NULL)
			continue;
		if (entry->handle != NULL &&
		    (GetBackgroundWorkerPid(entry->handle, &pid) != BGWH_STOPPED ||
		     !TimestampDifferenceExceeds(entry->started, now, sm_launcher_naptime_s * 1000)))
			continue;
		if (start_db_worker(dboid, &entry->handle))
			entry->started = now;
		else
			entry->handle = NULL;
	}
	list_free(dbs);
}

void
storemon_launcher_main(Datum arg)
{
	LaunchedDb launched[256];
	int nlaunched = 0;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	pgstat_report_appname("storemon launcher");
	ereport(LOG, (errmsg("storemon launcher started")));

	for (;;)
	{
		launch_for_all(launched, &nlaunched, lengthof(launched));
		(void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
		                sm_launcher_naptime_s * 1000L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
	}
}

/* ---- the per-database worker ---- */

static void
begin_work(const char *activity, bool repeatable_read)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (repeatable_read)
		XactIsoLevel = XACT_REPEATABLE_READ;
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, activity);
}

static void
end_work(void)
{
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_stat(false);
	pgstat_report_activity(STATE_IDLE, "storemon: waiting for report requests");
}

static bool
extension_present(void)
{
	return OidIsValid(get_extension_oid("storemon", true));
}

/* Take a free slot lock of this database; false if all are taken. */
static bool
take_slot(void)
{
	bool taken = false;

	begin_work("storemon: taking a worker slot", false);
	if (extension_present())
	{
		for (int slot = 0; slot < sm_max_parallel_reports && !taken; slot++)
		{
			Oid types[2] = {INT4OID, INT4OID};
			Datum values[2] = {Int32GetDatum(SM_SLOT_LOCK_KEY), Int32GetDatum(slot)};
			bool isnull;

			if (SPI_execute_with_args("SELECT pg_catalog.pg_try_advisory_lock($1, $2)", 2, types,
			                          values, NULL, false, 1) != SPI_OK_SELECT)
				elog(ERROR, "storemon: cannot take a worker slot");
			taken = DatumGetBool(
			    SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		}
	}
	end_work();
	return taken;
}

static char current_report[64];

static void
report_progress(void *arg, int64 done, int64 total)
{
	char activity[160];

	snprintf(activity, sizeof(activity),
	         "storemon: computing report %s: " INT64_FORMAT "/" INT64_FORMAT " stores",
	         current_report, done, total);
	pgstat_report_activity(STATE_RUNNING, activity);
}

/* Compute one claimed report; on an error, record it as Failed and go on. */
static void
compute_claimed(const SmClaim *claim, MemoryContext worker_context)
{
	strlcpy(current_report, sm_uuid_text(&claim->id), sizeof(current_report));
	PG_TRY();
	{
		begin_work(psprintf("storemon: computing report %s", current_report), true);
		sm_progress_hook = report_progress;
		sm_queue_complete(claim);
		sm_progress_hook = NULL;
		end_work();
	}
	PG_CATCH();
	{
		ErrorData *edata;

		sm_progress_hook = NULL;
		MemoryContextSwitchTo(worker_context);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		ereport(LOG, (errmsg("storemon: report %s failed: %s", current_report, edata->message)));
		begin_work("storemon: recording a failed report", false);
		sm_queue_fail(&claim->id, edata->message);
		end_work();
		FreeErrorData(edata);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(worker_context);
}

/* Serve requests until none is queued; false once the extension is gone. */
static bool
serve_queue(MemoryContext worker_context)
{
	for (;;)
	{
		SmClaim claim;
		bool present;
		bool claimed = false;

		CHECK_FOR_INTERRUPTS();
		begin_work("storemon: looking for queued reports", false);
		present = extension_present();
		if (present)
		{
			uint64 recovered;

			sm_queue_lock();
			recovered = sm_queue_recover(sm_max_attempts);

			if (recovered > 0)
				ereport(LOG, (errmsg("storemon: " UINT64_FORMAT " report(s) left Running by a "
				                     "stopped worker were requeued or failed",
				                     recovered)));
			claimed = sm_queue_claim(&claim);
		}
		end_work();
		MemoryContextSwitchTo(worker_context);
		if (!present)
			return false;
		if (!claimed)
			return true;
		compute_claimed(&claim, worker_context);
		MemoryContextReset(worker_context);
	}
}

void
storemon_db_worker_main(Datum arg)
{
	Oid dboid = DatumGetObjectId(arg);
	MemoryContext worker_context;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);
	pgstat_report_appname("storemon worker");
	worker_context =
	    AllocSetContextCreate(TopMemoryContext, "storemon worker", ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(worker_context);

	if (!take_slot())
		proc_exit(0); /* no extension here, or enough workers already */

	for (;;)
	{
		ResetLatch(MyLatch);
		if (!serve_queue(worker_context))
			proc_exit(0); /* DROP EXTENSION */
		(void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, sm_naptime_ms,
		                PG_WAIT_EXTENSION);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
	}
}
