/*
 * queue.c — claim, complete and fail report requests (see queue.h).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "catalog.h"
#include "compute.h"
#include "queue.h"

/* "schema".reports, quoted, for the statements below. */
static char *
reports_table(const char *table)
{
	return psprintf("%s.%s", quote_identifier(get_namespace_name(sm_extension_schema())), table);
}

static void
spi_check(int rc, int expected, const char *what)
{
	if (rc != expected)
		elog(ERROR, "storemon: %s failed: %s", what, SPI_result_code_string(rc));
}

char *
sm_uuid_text(const pg_uuid_t *id)
{
	return DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(id)));
}

void
sm_queue_lock(void)
{
	Oid types[2] = {INT4OID, INT4OID};
	Datum values[2] = {Int32GetDatum(SM_QUEUE_LOCK_KEY), Int32GetDatum(-1)};

	spi_check(SPI_execute_with_args("SELECT pg_catalog.pg_advisory_xact_lock($1, $2)", 2, types,
	                                values, NULL, false, 0),
	          SPI_OK_SELECT, "locking the queue");
}

uint64
sm_queue_recover(int max_attempts)
{
	Oid types[1] = {INT4OID};
	Datum values[1] = {Int32GetDatum(max_attempts)};
	char *sql = psprintf(
	    "UPDATE %s r SET "
	    "  status = CASE WHEN r.attempts >= $1 THEN 'Failed' ELSE 'Queued' END, "
	    "  error = CASE WHEN r.attempts >= $1 THEN format('gave up after %%s attempt(s): the "
	    "worker computing it stopped (crash, kill or server restart)', r.attempts) END, "
	    "  finished_at = CASE WHEN r.attempts >= $1 THEN clock_timestamp() END, "
	    "  worker_pid = NULL, worker_started = NULL "
	    "WHERE r.status = 'Running' AND NOT EXISTS ("
	    "  SELECT 1 FROM pg_catalog.pg_stat_activity a "
	    "  WHERE a.pid = r.worker_pid AND a.backend_start = r.worker_started)",
	    reports_table("reports"));

	spi_check(SPI_execute_with_args(sql, 1, types, values, NULL, false, 0), SPI_OK_UPDATE,
	          "recovering orphaned reports");
	return SPI_processed;
}

bool
sm_queue_claim(SmClaim *claim)
{
	Oid types[1] = {TIMESTAMPTZOID};
	Datum values[1] = {TimestampTzGetDatum(MyStartTimestamp)};
	char *sql =
	    psprintf("UPDATE %s r SET status = 'Running', started_at = clock_timestamp(), "
	             "  attempts = r.attempts + 1, worker_pid = pg_catalog.pg_backend_pid(), "
	             "  worker_started = $1, error = NULL "
	             "WHERE r.id = (SELECT q.id FROM %s q WHERE q.status = 'Queued' "
	             "              ORDER BY q.seq LIMIT 1 FOR UPDATE SKIP LOCKED) "
	             "RETURNING r.id, r.requested_as_of, r.interpolation, r.attempts, r.requested_by",
	             reports_table("reports"), reports_table("reports"));
	bool isnull;
	char *mode;

	spi_check(SPI_execute_with_args(sql, 1, types, values, NULL, false, 1), SPI_OK_UPDATE_RETURNING,
	          "claiming a report");
	if (SPI_processed == 0)
		return false;
	memcpy(&claim->id,
	       DatumGetUUIDP(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)),
	       sizeof(pg_uuid_t));
	claim->as_of = DatumGetTimestampTz(
	    SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	claim->as_of_given = !isnull;
	mode = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);
	strlcpy(claim->interpolation, mode, sizeof(claim->interpolation));
	claim->attempts =
	    DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4, &isnull));
	strlcpy(claim->requested_by, SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 5),
	        sizeof(claim->requested_by));
	return true;
}

/*
 * Is this database a coordinator over shards (storemon_coordinator)?  Then
 * its reports are gathered from the shards through PL/Proxy.
 */
static bool
is_coordinator(void)
{
	spi_check(SPI_execute("SELECT 1 FROM pg_catalog.pg_extension "
	                      "WHERE extname = 'storemon_coordinator'",
	                      true, 1),
	          SPI_OK_SELECT, "looking for storemon_coordinator");
	return SPI_processed == 1;
}

/* The latest poll across all shards, fixed before any shard computes. */
static bool
shards_default_as_of(TimestampTz *as_of)
{
	bool isnull;
	Datum d;

	spi_check(SPI_execute("SELECT storemon_coordinator.storemon_default_as_of()", true, 1),
	          SPI_OK_SELECT, "finding the latest poll on the shards");
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (!isnull)
		*as_of = DatumGetTimestampTz(d);
	return !isnull;
}

void
sm_queue_complete(const SmClaim *claim)
{
	TimestampTz as_of = claim->as_of;
	bool sharded = is_coordinator();
	bool have_as_of =
	    claim->as_of_given || (sharded ? shards_default_as_of(&as_of) : sm_default_as_of(&as_of));
	Oid types[3] = {UUIDOID, TIMESTAMPTZOID, TEXTOID};
	Datum values[3] = {UUIDPGetDatum(&claim->id), TimestampTzGetDatum(as_of),
	                   CStringGetTextDatum(claim->interpolation)};
	char nulls[3] = {' ', have_as_of ? ' ' : 'n', ' '};
	uint64 stores = 0;

	if (have_as_of)
	{
		/*
		 * One statement, so the rows come straight from the executor; on a
		 * coordinator from every shard at once, with the as_of fixed above.
		 */
		char *sql = psprintf(
		    "INSERT INTO %s SELECT $1, c.* FROM %s c", reports_table("report_rows"),
		    sharded ? "storemon_coordinator.compute_each($2, $3)"
		            : psprintf("%s.storemon_compute($2, $3)",
		                       quote_identifier(get_namespace_name(sm_extension_schema()))));

		spi_check(SPI_execute_with_args(sql, 3, types, values, nulls, false, 0), SPI_OK_INSERT,
		          "storing the report rows");
		stores = SPI_processed;
	}
	values[1] = TimestampTzGetDatum(as_of);
	values[2] = Int64GetDatum((int64)stores);
	types[2] = INT8OID;
	nulls[2] = ' ';
	spi_check(SPI_execute_with_args(
	              psprintf("UPDATE %s SET status = 'Complete', as_of = $2, "
	                       "finished_at = clock_timestamp(), stores_done = $3, stores_total = $3 "
	                       "WHERE id = $1",
	                       reports_table("reports")),
	              3, types, values, nulls, false, 0),
	          SPI_OK_UPDATE, "completing the report");
}

void
sm_queue_fail(const pg_uuid_t *id, const char *message)
{
	Oid types[2] = {UUIDOID, TEXTOID};
	Datum values[2] = {UUIDPGetDatum(id), CStringGetTextDatum(message)};

	spi_check(SPI_execute_with_args(psprintf("UPDATE %s SET status = 'Failed', error = $2, "
	                                         "finished_at = clock_timestamp() WHERE id = $1",
	                                         reports_table("reports")),
	                                2, types, values, NULL, false, 0),
	          SPI_OK_UPDATE, "marking the report failed");
}
