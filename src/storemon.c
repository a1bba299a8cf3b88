/*
 * storemon.c — module entry: settings and, when preloaded, the launcher.
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "parallel.h"
#include "worker.h"

PG_MODULE_MAGIC;

int sm_max_parallel_reports = 1;
int sm_max_attempts = 3;
int sm_naptime_ms = 5000;
int sm_launcher_naptime_s = 300;

void _PG_init(void);

void
_PG_init(void)
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
	DefineCustomIntVariable("storemon.launcher_naptime",
	                        "How often the launcher looks for databases without a report worker.",
	                        NULL, &sm_launcher_naptime_s, 300, 1, 86400, PGC_SIGHUP, GUC_UNIT_S,
	                        NULL, NULL, NULL);
	DefineCustomIntVariable(
	    "storemon.parallel_workers", "Parallel workers for one report.",
	    "0 computes a report in one process.  N splits the stores into N + 1 ranges "
	    "by the store_id histogram of the last ANALYZE, computed at once as a Parallel Append; "
	    "limited by max_parallel_workers.",
	    &sm_parallel_workers, 0, 0, 64, PGC_USERSET, 0, NULL, NULL, NULL);
	MarkGUCPrefixReserved("storemon");

	if (process_shared_preload_libraries_in_progress)
		sm_launcher_register();
}
