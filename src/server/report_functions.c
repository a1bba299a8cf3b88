/*
 * functions.c — SQL-callable entry points of the computation.
 *
 *   storemon_compute(as_of, interpolation, from_store, to_store, store_ids)
 *       the report, figures in minutes / hours, numeric(.2); the optional
 *       bounds restrict it to from_store <= store_id < to_store, the list
 *       to the stores named
 *   storemon_compute_exact(...)  the same in microseconds
 *   storemon_default_as_of()                      the as_of used when NULL
 *   storemon_internal.check_request, .progress   for the queue
 *   storemon_internal.is_feed_timestamp, .warm_indexes          for the loader
 *   storemon_internal.store_id_ok, .status_ok     store_status's CHECKs (1.2)
 *
 * Rows come back in store_id order with memory bounded by one store
 * (sql_call.h).
 */
#include "postgres.h"

#include "access/detoast.h"
#include "access/genam.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"
#include "utils/wait_event.h"

#include "catalog.h"
#include "compute.h"
#include "feed_format.h"
#include "parallel.h"
#include "registry.h"
#include "sql_call.h"

PG_FUNCTION_INFO_V1(storemon_compute);
PG_FUNCTION_INFO_V1(storemon_compute_exact);
PG_FUNCTION_INFO_V1(storemon_default_as_of);

/* Output column order of the CSV header in SPEC.md: uptimes, then downtimes. */
static const SmWindow window_order[SM_NWINDOWS] = {SM_LAST_HOUR, SM_LAST_DAY, SM_LAST_WEEK};

typedef struct ReportRows
{
	SmDescendingRows rows;
	bool exact;
} ReportRows;

static Datum
figure_datum(int64 us, SmWindow w, bool exact)
{
	if (exact)
		return Int64GetDatum(us);
	return sm_hundredths_numeric(us, w == SM_LAST_HOUR ? SM_USECS_PER_MIN : SM_USECS_PER_HOUR);
}

static void
put_report_row(void *arg, const SmStore *store)
{
	ReportRows *out = arg;
	MemoryContext old = MemoryContextSwitchTo(out->rows.row_context);
	Datum values[1 + 2 * SM_NWINDOWS];
	bool nulls[1 + 2 * SM_NWINDOWS] = {0};
	SmFigures figures;

	sm_window_figures(store->timeline.business, store->timeline.nbusiness, store->timeline.segments,
	                  store->timeline.nsegments, store->as_of, &figures);
	values[0] = PointerGetDatum(store->store_id);
	for (int i = 0; i < SM_NWINDOWS; i++)
	{
		SmWindow w = window_order[i];

		values[1 + i] = figure_datum(figures.up_us[w], w, out->exact);
		values[1 + SM_NWINDOWS + i] = figure_datum(figures.down_us[w], w, out->exact);
	}
	MemoryContextSwitchTo(old);
	sm_rows_put(&out->rows, values, nulls);
}

/* (as_of, interpolation, from_store, to_store, store_ids); 1.0 has no store_ids. */
static const SmCallArgs report_args = {0, 1, -1, 2, 3, 4};

static Datum
compute_report_rows(FunctionCallInfo fcinfo, bool exact)
{
	ReportRows out;
	SmReportSink sink = {put_report_row, sm_progress_hook, &out};
	SmComputeRequest req;

	if (!sm_request_from_call(fcinfo, &report_args, &req))
	{
		InitMaterializedSRF(fcinfo, 0);
		return (Datum)0; /* no polls at all: a complete report with no rows */
	}
	if (req.from == NULL && req.to == NULL && req.store_ids == NULL)
	{
		/* the parallel query writes straight into the function's result */
		InitMaterializedSRF(fcinfo, 0);
		if (sm_parallel_report(fcinfo, exact ? "storemon_compute_exact" : "storemon_compute",
		                       req.as_of, PG_GETARG_TEXT_PP(1)))
			return (Datum)0;
	}
	out.exact = exact;
	sm_rows_begin(fcinfo, &out.rows);
	sm_compute_report(&req, &sink);
	sm_rows_return(&out.rows);
	return (Datum)0;
}

Datum
storemon_compute(PG_FUNCTION_ARGS)
{
	return compute_report_rows(fcinfo, false);
}

Datum
storemon_compute_exact(PG_FUNCTION_ARGS)
{
	return compute_report_rows(fcinfo, true);
}

Datum
storemon_default_as_of(PG_FUNCTION_ARGS)
{
	TimestampTz as_of;

	if (!sm_default_as_of(&as_of))
		PG_RETURN_NULL();
	PG_RETURN_TIMESTAMPTZ(as_of);
}

/*
 * storemon_internal.progress(report_id): what the worker computing it is
 * doing, from shared memory; NULL when no live worker computes it, or when
 * the caller may not read that report (its grants and row security on
 * reports).  A worker waiting for a lock says so, with what kind of lock.
 */
PG_FUNCTION_INFO_V1(storemon_progress);

/* May the current user read this request through storemon.reports? */
static bool
report_readable(pg_uuid_t *id)
{
	Oid reports = get_relname_relid("reports", sm_extension_schema());
	Oid types[1] = {UUIDOID};
	Datum values[1] = {UUIDPGetDatum(id)};
	int guc_level;
	bool found;

	if (!OidIsValid(reports) || pg_class_aclcheck(reports, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		return false;
	guc_level = sm_pin_search_path();
	SPI_connect();
	if (SPI_execute_with_args(
	        "SELECT 1 FROM storemon.reports r WHERE r.id OPERATOR(pg_catalog.=) $1", 1, types,
	        values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "storemon: looking up the report failed");
	found = SPI_processed == 1;
	SPI_finish();
	sm_unpin_search_path(guc_level);
	return found;
}

Datum
storemon_progress(PG_FUNCTION_ARGS)
{
	pg_uuid_t *id = PG_GETARG_UUID_P(0);
	char *text;

	if (!report_readable(id))
		PG_RETURN_NULL();
	text = sm_report_progress(id);
	if (text == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(text));
}

/*
 * storemon_internal.is_feed_timestamp(text): has the value the shape of a
 * feed timestamp (feed_format.h)?  The loader's INSERT casts only values
 * that do, at a tenth of the cost of the equivalent regular expression.
 */
PG_FUNCTION_INFO_V1(storemon_is_feed_timestamp);

Datum
storemon_is_feed_timestamp(PG_FUNCTION_ARGS)
{
	text *value = PG_GETARG_TEXT_PP(0);

	PG_RETURN_BOOL(sm_feed_timestamp_shape(VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value)));
}

/*
 * storemon_internal.store_id_ok(text) and status_ok(text): store_status's
 * CHECK constraints (1.2), one C call each per row instead of an
 * expression of four to five function calls.  A bulk COPY of two million
 * polls checks every row; the same rules: a store_id of 1 to 1024 bytes,
 * a status of exactly 'active' or 'inactive'.
 */
PG_FUNCTION_INFO_V1(storemon_store_id_ok);

Datum
storemon_store_id_ok(PG_FUNCTION_ARGS)
{
	Size len = toast_raw_datum_size(PG_GETARG_DATUM(0)) - VARHDRSZ;

	PG_RETURN_BOOL(len > 0 && len <= 1024);
}

PG_FUNCTION_INFO_V1(storemon_status_ok);

Datum
storemon_status_ok(PG_FUNCTION_ARGS)
{
	text *status = PG_GETARG_TEXT_PP(0);
	Size len = VARSIZE_ANY_EXHDR(status);
	const char *p = VARDATA_ANY(status);

	PG_RETURN_BOOL((len == 6 && memcmp(p, "active", 6) == 0) ||
	               (len == 8 && memcmp(p, "inactive", 8) == 0));
}

/*
 * storemon_internal.warm_indexes(): read store_status's indexes into shared
 * buffers.  A bulk-built btree is written straight to disk, past shared
 * buffers, so without this the first report after a bulk load reads its
 * index cold (2.4 times the warm time at Loop scale).  An index larger than
 * a quarter of shared buffers is left alone rather than evict the rest.
 * Returns the pages read.  Needs SELECT on store_status, like a report.
 */
PG_FUNCTION_INFO_V1(storemon_warm_indexes);

Datum
storemon_warm_indexes(PG_FUNCTION_ARGS)
{
	SmCatalog cat;
	Oid indexes[2];
	int64 pages = 0;

	sm_catalog_lookup(&cat);
	sm_check_read_privileges(&cat, GetUserId(), true);
	indexes[0] = cat.store_status_store_time_idx;
	indexes[1] = cat.store_status_time_idx;
	for (int i = 0; i < lengthof(indexes); i++)
	{
		Relation rel = index_open(indexes[i], AccessShareLock);
		BlockNumber nblocks = RelationGetNumberOfBlocks(rel);

		if (nblocks <= (BlockNumber)(NBuffers / 4))
			for (BlockNumber b = 0; b < nblocks; b++, pages++)
			{
				CHECK_FOR_INTERRUPTS();
				ReleaseBuffer(ReadBufferExtended(rel, MAIN_FORKNUM, b, RBM_NORMAL, NULL));
			}
		index_close(rel, AccessShareLock);
	}
	PG_RETURN_INT64(pages);
}

/* storemon_check_request(as_of, interpolation): the checks of a report request. */
PG_FUNCTION_INFO_V1(storemon_check_request);

Datum
storemon_check_request(PG_FUNCTION_ARGS)
{
	(void)sm_parse_mode(PG_ARGISNULL(1) ? NULL : PG_GETARG_TEXT_PP(1));
	if (!PG_ARGISNULL(0))
		sm_check_as_of(PG_GETARG_TIMESTAMPTZ(0));
	PG_RETURN_VOID();
}
