/*
 * worker.c — the per-database report worker (see worker.h).
 *
 * The loop follows worker_spi: a transaction, a snapshot and SPI per unit
 * of work, pgstat_report_activity to say what it does, CHECK_FOR_INTERRUPTS,
 * SIGTERM handled by die() and SIGHUP by a config reload.  Each report is
 * computed in one REPEATABLE READ transaction that also writes its rows and
 * Complete, so polls arriving meanwhile never leak into it and a crash
 * leaves either nothing or the whole report.  A request left Running by a
 * worker that died is one no live worker's slot shows, and is queued again
 * (queue.h has a report's whole life).
 *
 * The worker runs as the bootstrap superuser, like autovacuum, but nothing
 * a non-superuser can create or change runs in it: search_path is fixed to
 * pg_catalog, pg_temp whatever ALTER DATABASE ... SET says, every statement
 * names storemon's objects (owned by the superuser who installed it) with
 * their schema, and a report is computed as the role that asked for it
 * (requester.h).
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lock.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"

#include "server/catalog.h"
#include "server/store_walk.h"
#include "worker/fixed_settings.h"
#include "worker/queue.h"
#include "worker/requester.h"
#include "worker/shared_memory.h"
#include "worker/worker.h"

static SmWorkerSlot *my_slot = NULL;

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

/* The report being computed, for pg_stat_activity and the error context. */
static const SmClaim *current_claim = NULL;
static char *current_report = NULL;

static void
report_progress(void *arg, int64 done, int64 total)
{
	sm_slot_progress(my_slot, done, total);
	pgstat_report_activity(STATE_RUNNING,
	                       total > 0
	                           ? psprintf("storemon: computing report %s: " INT64_FORMAT
	                                      "/" INT64_FORMAT " stores",
	                                      current_report, done, total)
	                           : psprintf("storemon: computing report %s: " INT64_FORMAT " stores",
	                                      current_report, done));
}

/* Every error raised while computing names the report and who asked for it. */
static void
report_error_context(void *arg)
{
	errcontext("storemon worker computing report %s requested by %s", current_report,
	           current_claim->requested_by);
}

/*
 * The whole error in the server log, as autovacuum reports its errors;
 * returns message, detail and hint for the report's error column.
 */
static char *
log_failure(void)
{
	ErrorData *edata;
	char *stored;

	EmitErrorReport();
	edata = CopyErrorData();
	FlushErrorState();
	stored = psprintf("%s%s%s%s%s", edata->message, edata->detail ? "\nDETAIL: " : "",
	                  edata->detail ? edata->detail : "", edata->hint ? "\nHINT: " : "",
	                  edata->hint ? edata->hint : "");
	FreeErrorData(edata);
	return stored;
}

/*
 * storemon.report_timeout: a report computed for longer is stopped (its
 * requester's policies could otherwise hold its database's queue).  The
 * stop is a query cancel, which plpgsql code may trap by name: a report
 * still running as long again after it ends its worker, and is Failed.
 */
static TimeoutId report_timeout_id;
static TimeoutId report_kill_id;
static volatile sig_atomic_t report_timed_out = false;
static volatile sig_atomic_t report_killed = false;

static void
report_timeout_handler(void)
{
	report_timed_out = true;
	QueryCancelPending = true;
	InterruptPending = true;
	SetLatch(MyLatch);
}

/* The cancel was trapped: end the worker as SIGTERM would (record_killed_report follows). */
static void
report_kill_handler(void)
{
	report_killed = true;
	ProcDiePending = true;
	InterruptPending = true;
	SetLatch(MyLatch);
}

static void
start_report_timeout(void)
{
	report_timed_out = false;
	report_killed = false;
	if (sm_report_timeout_ms > 0)
	{
		enable_timeout_after(report_timeout_id, sm_report_timeout_ms);
		enable_timeout_at(
		    report_kill_id,
		    TimestampTzPlusMilliseconds(GetCurrentTimestamp(), 2 * (int64)sm_report_timeout_ms));
	}
}

static void
stop_report_timeout(void)
{
	if (sm_report_timeout_ms > 0)
	{
		disable_timeout(report_timeout_id, false);
		disable_timeout(report_kill_id, false);
	}
}

static char *
timeout_message(void)
{
	return psprintf("storemon: the report was stopped after storemon.report_timeout (%d s)",
	                sm_report_timeout_ms / 1000);
}

/* Compute the report as its requester, then store it as storemon. */
static void
compute_and_store(const SmClaim *claim)
{
	SmComputed computed;

	start_report_timeout();
	sm_progress_hook = report_progress;
	sm_compute_as_requester(claim, &computed);
	sm_progress_hook = NULL;
	stop_report_timeout();
	/* a cancel the requester's code trapped still stops the report */
	if (report_timed_out)
		ereport(ERROR, (errcode(ERRCODE_QUERY_CANCELED), errmsg("%s", timeout_message())));
	sm_queue_complete(claim, computed.have_as_of ? &computed.as_of : NULL, computed.rows,
	                  computed.desc);
}

/*
 * Compute one claimed report; on an error, record it as Failed and go on.
 * As autovacuum does, the error path holds interrupts: a SIGTERM arriving
 * meanwhile ends the worker only once Failed is committed, so a report
 * that failed is never retried as if its worker had died.
 */
static void
compute_claimed(const SmClaim *claim, MemoryContext worker_context)
{
	ErrorContextCallback context = {.previous = error_context_stack,
	                                .callback = report_error_context};

	current_claim = claim;
	current_report = sm_uuid_text(&claim->id);
	PG_TRY();
	{
		begin_work(psprintf("storemon: computing report %s", current_report), true);
		error_context_stack = &context;
		compute_and_store(claim);
		error_context_stack = context.previous;
		end_work();
	}
	PG_CATCH();
	{
		char *message;

		HOLD_INTERRUPTS();
		stop_report_timeout();
		sm_progress_hook = NULL;
		MemoryContextSwitchTo(worker_context);
		message = log_failure();
		if (report_timed_out)
			message = timeout_message();
		AbortOutOfAnyTransaction(); /* and any subtransaction it was in */
		begin_work("storemon: recording a failed report", false);
		sm_queue_fail(&claim->id, message);
		end_work();
		RESUME_INTERRUPTS();
	}
	PG_END_TRY();
	/* session-level advisory locks the requester's code may have taken */
	LockReleaseSession(USER_LOCKMETHOD);
	sm_slot_done(my_slot);
	current_claim = NULL;
	MemoryContextSwitchTo(worker_context);
}

typedef enum ServeResult
{
	SERVE_NO_EXTENSION, /* storemon is not installed in this database */
	SERVE_IDLE,         /* nothing was queued */
	SERVE_WAITING,      /* requests are Queued, but locked by another session (stay) */
	SERVE_WORKED        /* at least one request was computed */
} ServeResult;

/* Serve requests until none is queued. */
static ServeResult
serve_queue(MemoryContext worker_context)
{
	ServeResult result = SERVE_IDLE;

	for (;;)
	{
		SmClaim claim;
		bool present;
		bool claimed = false;
		bool locked_out = false;

		CHECK_FOR_INTERRUPTS();
		begin_work("storemon: looking for queued reports", false);
		present = OidIsValid(get_extension_oid("storemon", true));
		if (present)
		{
			uint64 recovered;

			sm_queue_lock();
			recovered = sm_queue_recover(sm_max_attempts);
			if (recovered > 0)
				ereport(LOG, (errmsg("storemon: " UINT64_FORMAT " report(s) left Running by a "
				                     "stopped worker were requeued or failed",
				                     recovered)));
			claimed = sm_queue_claim(&claim, worker_context);
			/* a committed request another session holds locked: wait for it */
			locked_out = !claimed && sm_queue_waiting();
		}
		if (claimed)
			sm_slot_computing(my_slot, &claim.id); /* before the claim commits (queue.h) */
		end_work();
		MemoryContextSwitchTo(worker_context);
		if (!present)
			return SERVE_NO_EXTENSION;
		if (!claimed)
			return locked_out ? SERVE_WAITING : result;
		compute_claimed(&claim, worker_context);
		MemoryContextReset(worker_context);
		result = SERVE_WORKED;
	}
}

/* Clear this database's pending mark: the next look at the queue sees what it meant. */
static void
take_pending(void)
{
	SmDatabase *db;

	LWLockAcquire(sm_shared->lock, LW_EXCLUSIVE);
	db = sm_database_entry(MyDatabaseId, false);
	if (db != NULL)
		db->pending = false;
	LWLockRelease(sm_shared->lock);
}

/* Leave, unless a request came in since the last look at the queue. */
static void
leave_if_quiet(void)
{
	SmDatabase *db;

	LWLockAcquire(sm_shared->lock, LW_EXCLUSIVE);
	db = sm_database_entry(MyDatabaseId, false);
	if (db != NULL && db->pending)
	{
		LWLockRelease(sm_shared->lock);
		return;
	}
	my_slot->clean_exit = true;
	LWLockRelease(sm_shared->lock);
	proc_exit(0);
}

/*
 * A worker ended by report_kill_handler records its report Failed before
 * its slot is freed (before_shmem_exit callbacks run last registered
 * first), so no other worker requeues it.
 */
static void
record_killed_report(int code, Datum arg)
{
	if (!report_killed || current_claim == NULL)
		return;
	ereport(LOG, (errmsg("storemon: report %s trapped the cancel of storemon.report_timeout; "
	                     "its worker ends",
	                     current_report)));
	AbortOutOfAnyTransaction();
	begin_work("storemon: recording a failed report", false);
	/* the FATAL skipped the requester part's PG_FINALLY: the worker's user again */
	SetSessionAuthorization(GetAuthenticatedUserId(), superuser_arg(GetAuthenticatedUserId()));
	sm_queue_fail(&current_claim->id, timeout_message());
	end_work();
}

static void
worker_detach(int code, Datum arg)
{
	LWLockAcquire(sm_shared->lock, LW_EXCLUSIVE);
	my_slot->pid = 0;
	my_slot->latch = NULL;
	my_slot->computing = false;
	if (my_slot->orphan)
	{
		/* no launcher knows this worker: free the slot, and ask for a successor if needed */
		SmDatabase *db = sm_database_entry(MyDatabaseId, false);

		if (db != NULL && !my_slot->clean_exit)
			db->pending = true;
		memset(my_slot, 0, sizeof(*my_slot));
		if (sm_shared->launcher_latch != NULL)
			SetLatch(sm_shared->launcher_latch);
	}
	LWLockRelease(sm_shared->lock);
}

/*
 * Take this worker's slot: say who it is, and leave at once if a command
 * that needs the database alone began while it started (dbguard.c).
 */
static void
attach_slot(int slot)
{
	SmDatabase *db;
	bool blocked;

	my_slot = &sm_shared->workers[slot];
	before_shmem_exit(worker_detach, (Datum)0);
	before_shmem_exit(record_killed_report, (Datum)0);
	LWLockAcquire(sm_shared->lock, LW_EXCLUSIVE);
	my_slot->pid = MyProcPid;
	my_slot->latch = MyLatch;
	db = sm_database_entry(MyDatabaseId, false);
	blocked = db != NULL && sm_database_blocked(db);
	LWLockRelease(sm_shared->lock);
	if (blocked)
		proc_exit(1); /* not a clean exit: the launcher serves the database later */
}

void
storemon_db_worker_main(Datum arg)
{
	MemoryContext worker_context;
	TimestampTz last_work;
	Oid dboid;
	SmSettings *server_settings;

	memcpy(&dboid, MyBgworkerEntry->bgw_extra, sizeof(Oid));
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	server_settings = sm_settings_before_connect();
	BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);
	sm_settings_after_connect(server_settings);
	report_timeout_id = RegisterTimeout(USER_TIMEOUT, report_timeout_handler);
	report_kill_id = RegisterTimeout(USER_TIMEOUT, report_kill_handler);
	pgstat_report_appname("storemon worker");
	attach_slot(DatumGetInt32(arg));

	worker_context =
	    AllocSetContextCreate(TopMemoryContext, "storemon worker", ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(worker_context);
	last_work = GetCurrentTimestamp();

	for (;;)
	{
		ServeResult served;
		long idle_ms;

		ResetLatch(MyLatch);
		take_pending();
		served = serve_queue(worker_context);
		if (served == SERVE_WORKED || served == SERVE_WAITING)
			last_work = GetCurrentTimestamp();
		idle_ms = TimestampDifferenceMilliseconds(last_work, GetCurrentTimestamp());
		if (served == SERVE_NO_EXTENSION ||
		    ((my_slot->probe || my_slot->yield) && served == SERVE_IDLE) ||
		    idle_ms >= (long)sm_worker_idle_timeout_ms)
			leave_if_quiet();
		(void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
		                Max(1, Min((long)sm_naptime_ms, sm_worker_idle_timeout_ms - idle_ms)),
		                PG_WAIT_EXTENSION);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
	}
}
