/*
 * queue.c — claim, complete and fail report requests (see queue.h).
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/lock.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/queryenvironment.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "server/catalog.h"
#include "worker/queue.h"
#include "worker/shared_memory.h"

/*
 * Advisory locks whose last key field is neither 1 nor 2: the SQL
 * functions pg_advisory_lock and friends can take only those, so no
 * session can take or hold one of these.
 */
#define SM_LOCK_SPACE       0x534d /* "SM" */
#define SM_LOCK_QUEUE       1
#define SM_LOCK_ROLE_QUEUED 2

/* "schema".table, quoted, for the statements below. */
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

const char *
sm_report_status_name(SmReportStatus status)
{
	static const char *const names[] = {"Queued", "Running", "Complete", "Failed"};

	return names[status];
}

static Datum
status_datum(SmReportStatus status)
{
	return CStringGetTextDatum(sm_report_status_name(status));
}

char *
sm_uuid_text(const pg_uuid_t *id)
{
	return DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(id)));
}

static void
lock_private(uint32 kind, uint32 key)
{
	LOCKTAG tag;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, kind, key, SM_LOCK_SPACE);
	(void)LockAcquire(&tag, ExclusiveLock, false, false);
}

void
sm_queue_lock(void)
{
	lock_private(SM_LOCK_QUEUE, 0);
}

static Oid
relation_owner(Oid relid)
{
	HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid owner;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "storemon: cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class)GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);
	return owner;
}

int64
sm_queued_requests_of(Oid role)
{
	Oid reports = get_relname_relid("reports", sm_extension_schema());
	Oid types[2] = {OIDOID, TEXTOID};
	Datum values[2] = {ObjectIdGetDatum(role), status_datum(SM_REPORT_QUEUED)};
	Oid saved_user;
	int saved_context;
	int guc_level;
	SPIPlanPtr plan;
	bool isnull;
	int64 n;

	lock_private(SM_LOCK_ROLE_QUEUED, role);
	GetUserIdAndSecContext(&saved_user, &saved_context);
	SetUserIdAndSecContext(relation_owner(reports), saved_context | SECURITY_LOCAL_USERID_CHANGE |
	                                                    SECURITY_RESTRICTED_OPERATION);
	guc_level = sm_pin_search_path();
	SPI_connect();
	/*
	 * A fresh snapshot after the rows this statement queued so far: it sees
	 * them, and every request of the role committed before this session
	 * got the lock, whatever the transaction's isolation.
	 */
	CommandCounterIncrement();
	plan = SPI_prepare(psprintf("SELECT pg_catalog.count(*) FROM %s r "
	                            "WHERE r.requested_by_role OPERATOR(pg_catalog.=) $1 "
	                            "AND r.status OPERATOR(pg_catalog.=) $2",
	                            reports_table("reports")),
	                   2, types);
	spi_check(SPI_execute_snapshot(plan, values, NULL, GetLatestSnapshot(), InvalidSnapshot, true,
	                               false, 1),
	          SPI_OK_SELECT, "counting queued reports");
	n = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	sm_unpin_search_path(guc_level);
	SetUserIdAndSecContext(saved_user, saved_context);
	return n;
}

/* The reports live workers of this database compute, as a uuid[]. */
static Datum
computed_reports(void)
{
	pg_uuid_t *ids = palloc(sizeof(pg_uuid_t) * SM_MAX_WORKERS);
	Datum *elems = palloc(sizeof(Datum) * SM_MAX_WORKERS);
	int n = sm_reports_computed(MyDatabaseId, ids, SM_MAX_WORKERS);

	for (int i = 0; i < n; i++)
		elems[i] = UUIDPGetDatum(&ids[i]);
	return PointerGetDatum(construct_array(elems, n, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR));
}

uint64
sm_queue_recover(int max_attempts)
{
	Oid types[5] = {INT4OID, UUIDARRAYOID, TEXTOID, TEXTOID, TEXTOID};
	Datum values[5] = {Int32GetDatum(max_attempts), computed_reports(),
	                   status_datum(SM_REPORT_RUNNING), status_datum(SM_REPORT_QUEUED),
	                   status_datum(SM_REPORT_FAILED)};
	char *sql = psprintf(
	    "UPDATE %s r SET "
	    "  status = CASE WHEN r.attempts OPERATOR(pg_catalog.>=) $1 THEN $5 ELSE $4 END, "
	    "  error = CASE WHEN r.attempts OPERATOR(pg_catalog.>=) $1 THEN pg_catalog.format('gave "
	    "up after %%s attempt(s): the worker computing it stopped (crash, kill or server "
	    "restart)', r.attempts) END, "
	    "  finished_at = CASE WHEN r.attempts OPERATOR(pg_catalog.>=) $1 "
	    "    THEN pg_catalog.clock_timestamp() END "
	    "WHERE r.status OPERATOR(pg_catalog.=) $3 AND r.id OPERATOR(pg_catalog.<>) ALL ($2)",
	    reports_table("reports"));

	spi_check(SPI_execute_with_args(sql, 5, types, values, NULL, false, 0), SPI_OK_UPDATE,
	          "recovering orphaned reports");
	return SPI_processed;
}

/* Has reports the requester's oid (1.3), or does this library serve an older version? */
static bool
has_requester_oid(void)
{
	Oid reports = get_relname_relid("reports", sm_extension_schema());

	return get_attnum(reports, "requested_by_role") != InvalidAttrNumber;
}

bool
sm_queue_claim(SmClaim *claim, MemoryContext keep)
{
	Oid types[2] = {TEXTOID, TEXTOID};
	Datum values[2] = {status_datum(SM_REPORT_RUNNING), status_datum(SM_REPORT_QUEUED)};
	char *sql = psprintf(
	    "UPDATE %s r SET status = $1, started_at = pg_catalog.clock_timestamp(), "
	    "  attempts = r.attempts OPERATOR(pg_catalog.+) 1, error = NULL "
	    "WHERE r.id OPERATOR(pg_catalog.=) (SELECT q.id FROM %s q "
	    "  WHERE q.status OPERATOR(pg_catalog.=) $2 "
	    "  ORDER BY q.seq LIMIT 1 FOR UPDATE SKIP LOCKED) "
	    "RETURNING r.id, r.requested_as_of, r.interpolation, r.attempts, r.requested_by, %s",
	    reports_table("reports"), reports_table("reports"),
	    has_requester_oid() ? "r.requested_by_role" : "NULL::pg_catalog.oid");
	HeapTuple row;
	TupleDesc desc;
	bool isnull;

	spi_check(SPI_execute_with_args(sql, 2, types, values, NULL, false, 1), SPI_OK_UPDATE_RETURNING,
	          "claiming a report");
	if (SPI_processed == 0)
		return false;
	row = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	memcpy(&claim->id, DatumGetUUIDP(SPI_getbinval(row, desc, 1, &isnull)), sizeof(pg_uuid_t));
	claim->as_of = DatumGetTimestampTz(SPI_getbinval(row, desc, 2, &isnull));
	claim->as_of_given = !isnull;
	claim->interpolation = MemoryContextStrdup(keep, SPI_getvalue(row, desc, 3));
	claim->attempts = DatumGetInt32(SPI_getbinval(row, desc, 4, &isnull));
	claim->requested_by = MemoryContextStrdup(keep, SPI_getvalue(row, desc, 5));
	claim->requested_by_role = DatumGetObjectId(SPI_getbinval(row, desc, 6, &isnull));
	if (isnull)
		claim->requested_by_role = InvalidOid;
	return true;
}

bool
sm_queue_waiting(void)
{
	Oid types[1] = {TEXTOID};
	Datum values[1] = {status_datum(SM_REPORT_QUEUED)};

	spi_check(SPI_execute_with_args(psprintf("SELECT 1 FROM %s q WHERE q.status "
	                                         "OPERATOR(pg_catalog.=) $1 LIMIT 1",
	                                         reports_table("reports")),
	                                1, types, values, NULL, true, 1),
	          SPI_OK_SELECT, "looking for locked requests");
	return SPI_processed > 0;
}

/* Put the computed rows in a relation the next statement can read by name. */
static void
register_rows(Tuplestorestate *rows, TupleDesc desc)
{
	EphemeralNamedRelation enr = palloc0(sizeof(EphemeralNamedRelationData));

	enr->md.name = "storemon_computed_rows";
	enr->md.reliddesc = InvalidOid;
	enr->md.tupdesc = desc;
	enr->md.enrtype = ENR_NAMED_TUPLESTORE;
	enr->md.enrtuples = tuplestore_tuple_count(rows);
	enr->reldata = rows;
	spi_check(SPI_register_relation(enr), SPI_OK_REL_REGISTER, "registering the report rows");
}

void
sm_queue_complete(const SmClaim *claim, const TimestampTz *as_of, Tuplestorestate *rows,
                  TupleDesc desc)
{
	Oid types[4] = {UUIDOID, TIMESTAMPTZOID, INT8OID, TEXTOID};
	Datum values[4] = {UUIDPGetDatum(&claim->id), (Datum)0, (Datum)0,
	                   status_datum(SM_REPORT_COMPLETE)};
	char nulls[4] = {' ', as_of != NULL ? ' ' : 'n', ' ', ' '};
	uint64 stores = 0;

	if (rows != NULL)
	{
		register_rows(rows, desc);
		spi_check(SPI_execute_with_args(
		              psprintf("INSERT INTO %s SELECT $1, c.* FROM storemon_computed_rows c",
		                       reports_table("report_rows")),
		              1, types, values, NULL, false, 0),
		          SPI_OK_INSERT, "storing the report rows");
		stores = SPI_processed;
	}
	if (as_of != NULL)
		values[1] = TimestampTzGetDatum(*as_of);
	values[2] = Int64GetDatum((int64)stores);
	spi_check(SPI_execute_with_args(
	              psprintf("UPDATE %s SET status = $4, as_of = $2, "
	                       "finished_at = pg_catalog.clock_timestamp(), stores_done = $3, "
	                       "stores_total = $3 WHERE id OPERATOR(pg_catalog.=) $1",
	                       reports_table("reports")),
	              4, types, values, nulls, false, 0),
	          SPI_OK_UPDATE, "completing the report");
}

void
sm_queue_fail(const pg_uuid_t *id, const char *message)
{
	Oid types[3] = {UUIDOID, TEXTOID, TEXTOID};
	Datum values[3] = {UUIDPGetDatum(id), CStringGetTextDatum(message),
	                   status_datum(SM_REPORT_FAILED)};

	spi_check(SPI_execute_with_args(psprintf("UPDATE %s SET status = $3, error = $2, "
	                                         "finished_at = pg_catalog.clock_timestamp() "
	                                         "WHERE id OPERATOR(pg_catalog.=) $1",
	                                         reports_table("reports")),
	                                3, types, values, NULL, false, 0),
	          SPI_OK_UPDATE, "marking the report failed");
}
