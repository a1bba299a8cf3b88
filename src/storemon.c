/*
 * storemon.c — module entry: settings, shared memory, hooks and the launcher.
 *
 * storemon must be in shared_preload_libraries: its launcher, its shared
 * memory and its DROP DATABASE guard exist only then.  Loading it any
 * other way (CREATE EXTENSION without it) is an error that says so, as
 * pg_cron does.
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "server/parallel_report.h"
#include "worker/dbguard.h"
#include "worker/shared_memory.h"
#include "worker/worker.h"

PG_MODULE_MAGIC;

int sm_max_parallel_reports = 1;
int sm_max_attempts = 3;
int sm_naptime_ms = 5000;
int sm_worker_idle_timeout_ms = 10000;
int sm_max_databases = 1024;
int sm_max_queued_reports_per_role = 20;
int sm_report_timeout_ms = 3600 * 1000;

void _PG_init(void);

static void
define_settings(void)
{
	DefineCustomIntVariable(
	    "storemon.max_parallel_reports", "Reports computed at once in one database.",
	    "Each runs in its own background worker; they take requests in queue order.",
	    &sm_max_parallel_reports, 1, 1, 64, PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable(
	    "storemon.max_attempts", "Times a report is started before it is marked Failed.",
	    "A report whose worker stopped (crash, kill, restart) is queued again until then.",
	    &sm_max_attempts, 3, 1, 100, PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable(
	    "storemon.naptime", "How long an idle report worker sleeps between looks at the queue.",
	    "New requests wake it at once; this bounds how late a request left "
	    "by a stopped worker is picked up again.",
	    &sm_naptime_ms, 5000, 100, 3600 * 1000, PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("storemon.worker_idle_timeout",
	                        "How long a report worker with nothing to do stays before it leaves.",
	                        "Leaving frees its background worker slot for other databases and its "
	                        "connection to the database; the next request starts a new worker.",
	                        &sm_worker_idle_timeout_ms, 10000, 0, 3600 * 1000, PGC_SIGHUP,
	                        GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable(
	    "storemon.max_databases", "Databases that can wait for a report worker at once.",
	    "Places in shared memory, a few dozen bytes each.  A request in a database that finds no "
	    "place is served once one frees: the launcher then looks in every database.",
	    &sm_max_databases, 1024, 1, 1000000, PGC_POSTMASTER, 0, NULL, NULL, NULL);
	DefineCustomIntVariable(
	    "storemon.max_queued_reports_per_role", "Queued report requests one role may have.",
	    "A request beyond them is refused, so that one role cannot delay every other role's "
	    "reports or fill the disk with report rows.  Superusers are not counted.",
	    &sm_max_queued_reports_per_role, 20, 1, 1000000, PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable(
	    "storemon.report_timeout", "How long the worker may compute one report before it stops it.",
	    "The report is then Failed, saying so.  0 is no limit.  A requester's row security "
	    "policies run while its report is computed, and could otherwise hold the queue.",
	    &sm_report_timeout_ms, 3600 * 1000, 0, INT_MAX, PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable(
	    "storemon.parallel_workers", "Parallel workers for one report.",
	    "0 computes a report in one process.  N splits the stores into N + 1 ranges "
	    "by the store_id histogram of the last ANALYZE, computed at once as a Parallel Append; "
	    "limited by max_parallel_workers.  Superuser-only, so a database owner cannot "
	    "make reports take worker slots other databases need.",
	    &sm_parallel_workers, 0, 0, 64, PGC_SUSET, 0, NULL, NULL, NULL);
	MarkGUCPrefixReserved("storemon");
}

void
_PG_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
		                errmsg("storemon must be loaded via shared_preload_libraries"),
		                errhint("Add storemon to shared_preload_libraries in postgresql.conf "
		                        "and restart the server, then CREATE EXTENSION storemon.")));
	define_settings();
	sm_registry_init();
	sm_dbguard_init();
	sm_launcher_register();
}
