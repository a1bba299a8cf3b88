/*
 * parallel_report.h — one report computed by several processes at once.
 *
 * With storemon.parallel_workers > 0, a whole-table storemon_compute call
 * splits the stores into ranges (from the ANALYZE histogram of store_id)
 * and runs one storemon_compute per range as the arms of a UNION ALL, which
 * PostgreSQL executes as a Parallel Append: each range in its own parallel
 * worker, all under the caller's snapshot, errors and cancels propagated
 * by the server's own parallel machinery.
 */
#ifndef SM_PARALLEL_REPORT_H
#define SM_PARALLEL_REPORT_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "fmgr.h"

/* The storemon.parallel_workers setting. */
extern int sm_parallel_workers;

/*
 * Fill the materialized result of fcinfo (an SRF set up with
 * InitMaterializedSRF) with the report, in parallel ranges.  Returns false,
 * having done nothing, when the report should run serially: the setting is
 * 0, this is already a parallel worker, the database or role sets a short
 * transaction_timeout (which would end the parallel workers as they start),
 * or store_status has no histogram.
 */
extern bool sm_parallel_report(FunctionCallInfo fcinfo, const char *function, TimestampTz as_of,
                               text *interpolation);

#endif /* SM_PARALLEL_REPORT_H */
