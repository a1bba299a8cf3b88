/*
 * row_security.c — the report's reads for a role under row security (see
 * row_security.h).
 *
 * Every query is fixed text naming storemon's tables with their schema,
 * prepared with search_path pinned, run read-only under the caller's
 * snapshot, so it sees what the index reads around it see.  Rows are
 * fetched from a cursor a block at a time: memory is one block.  A policy
 * is evaluated once per query, so a report asks for the polls of many
 * stores in one query (POLL_BATCH in store_walk.c), not one query a store.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/rls.h"
#include "utils/timestamp.h"

#include "server/row_security.h"

#define FETCH_ROWS 1000

struct SmPolicyStream
{
	Portal portal;
	SPITupleTable *rows; /* the block being read */
	uint64 next;
	bool done;
	bool polls;
	bool started;
	StringInfoData last_store; /* the previous row's, to check the order */
	TimestampTz last_at;
};

/*
 * The polls the report needs of each listed store, in the order given
 * ($1, descending) and newest first: a nested loop (the lateral subquery
 * is fenced by OFFSET 0) over the ids, each an index scan bounded below by
 * the store's last poll at or before $3 that the role may see, so it stops
 * where the index read would.  The bounds are parameters, which the
 * planner may use in the index condition under a policy; a COALESCE there
 * would count as leaky and be checked row by row instead.
 */
static const char listed_polls_sql[] =
    "SELECT s.store_id, s.timestamp_utc, s.status "
    "FROM pg_catalog.unnest($1::pg_catalog.text[]) AS k(id) "
    "CROSS JOIN LATERAL (SELECT p.store_id, p.timestamp_utc, p.status "
    "  FROM storemon.store_status p "
    "  WHERE p.store_id OPERATOR(pg_catalog.=) (k.id COLLATE pg_catalog.\"C\") "
    "    AND p.timestamp_utc OPERATOR(pg_catalog.<=) $2 "
    "    AND p.timestamp_utc OPERATOR(pg_catalog.>=) ("
    "      SELECT COALESCE(pg_catalog.max(q.timestamp_utc), '-infinity') "
    "      FROM storemon.store_status q "
    "      WHERE q.store_id OPERATOR(pg_catalog.=) (k.id COLLATE pg_catalog.\"C\") "
    "        AND q.timestamp_utc OPERATOR(pg_catalog.<=) $3) "
    "  ORDER BY p.timestamp_utc DESC OFFSET 0) s";

static const char *const every_store_sql[SM_POLICY_TABLES] = {
    NULL, /* polls are asked for by store */
    "SELECT h.store_id, h.day_of_week, h.start_time_local, h.end_time_local "
    "FROM storemon.menu_hours h ORDER BY h.store_id COLLATE pg_catalog.\"C\" DESC",
    "SELECT z.store_id, z.timezone_str FROM storemon.timezones z "
    "ORDER BY z.store_id COLLATE pg_catalog.\"C\" DESC",
};

static const char *const listed_sql[SM_POLICY_TABLES] = {
    listed_polls_sql,
    "SELECT h.store_id, h.day_of_week, h.start_time_local, h.end_time_local "
    "FROM storemon.menu_hours h WHERE h.store_id OPERATOR(pg_catalog.=) ANY ($1 COLLATE "
    "pg_catalog.\"C\") "
    "ORDER BY h.store_id COLLATE pg_catalog.\"C\" DESC",
    "SELECT z.store_id, z.timezone_str FROM storemon.timezones z "
    "WHERE z.store_id OPERATOR(pg_catalog.=) ANY ($1 COLLATE pg_catalog.\"C\") "
    "ORDER BY z.store_id COLLATE pg_catalog.\"C\" DESC",
};

bool
sm_table_under_policies(Oid relid)
{
	/* row_security = off makes this the error a SELECT would raise */
	return check_enable_rls(relid, InvalidOid, false) == RLS_ENABLED;
}

bool
sm_row_security_applies(const SmCatalog *cat)
{
	return sm_table_under_policies(cat->store_status) || sm_table_under_policies(cat->menu_hours) ||
	       sm_table_under_policies(cat->timezones);
}

bool
sm_policy_reads_begin(const SmCatalog *cat, SmPolicyReads *r)
{
	MemoryContext caller = CurrentMemoryContext;

	memset(r, 0, sizeof(*r));
	r->applies[SM_POLICY_POLLS] = sm_table_under_policies(cat->store_status);
	r->applies[SM_POLICY_HOURS] = sm_table_under_policies(cat->menu_hours);
	r->applies[SM_POLICY_ZONES] = sm_table_under_policies(cat->timezones);
	if (!r->applies[SM_POLICY_POLLS] && !r->applies[SM_POLICY_HOURS] &&
	    !r->applies[SM_POLICY_ZONES])
		return false;
	SPI_connect();
	MemoryContextSwitchTo(caller); /* SPI allocates in its own contexts; the report in its */
	return true;
}

void
sm_policy_reads_end(SmPolicyReads *r)
{
	MemoryContext caller = CurrentMemoryContext;

	SPI_finish();
	MemoryContextSwitchTo(caller);
}

/* The plan of sql, made once per report; a plan keeps the search_path it was made under. */
static SPIPlanPtr
plan_of(SPIPlanPtr *plan, const char *sql, int nargs)
{
	Oid types[3] = {TEXTARRAYOID, TIMESTAMPTZOID, TIMESTAMPTZOID};

	if (*plan == NULL)
	{
		int guc_level = sm_pin_search_path();

		/*
		 * A plan for the ids at hand each time: a generic one cannot know
		 * how many there are, and may scan the table instead of each store.
		 */
		*plan = SPI_prepare_cursor(sql, nargs, types, CURSOR_OPT_CUSTOM_PLAN);
		if (*plan == NULL)
			elog(ERROR, "storemon: preparing a read under row security failed: %s",
			     SPI_result_code_string(SPI_result));
		sm_unpin_search_path(guc_level);
	}
	return *plan;
}

SmPolicyStream *
sm_policy_stream_open(SmPolicyReads *r, SmPolicyTable table, text **ids, int nids,
                      TimestampTz as_of, TimestampTz since)
{
	MemoryContext caller = CurrentMemoryContext;
	SmPolicyStream *s = palloc0(sizeof(SmPolicyStream));
	Datum values[3] = {(Datum)0, TimestampTzGetDatum(as_of), TimestampTzGetDatum(since)};
	SPIPlanPtr plan;
	int guc_level;

	if (nids > 0)
	{
		values[0] =
		    PointerGetDatum(construct_array((Datum *)ids, nids, TEXTOID, -1, false, TYPALIGN_INT));
		plan = plan_of(&r->listed[table], listed_sql[table], table == SM_POLICY_POLLS ? 3 : 1);
	}
	else
		plan = plan_of(&r->every_store[table], every_store_sql[table], 0);
	/*
	 * Without JIT: these plans are costed high (a policy's subquery for
	 * every store) but run in milliseconds, less than compiling them takes.
	 */
	guc_level = NewGUCNestLevel();
	(void)set_config_option("jit", "off", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
	                        false);
	s->portal = SPI_cursor_open(NULL, plan, values, NULL, true);
	AtEOXact_GUC(true, guc_level);
	MemoryContextSwitchTo(caller);
	s->polls = table == SM_POLICY_POLLS;
	initStringInfo(&s->last_store);
	return s;
}

/*
 * The report merges these rows with its walk of the stores, so a row out
 * of order would be skipped: refuse it instead (the plans above keep it).
 */
static void
check_order(SmPolicyStream *s, const Datum *values)
{
	text *store = DatumGetTextPP(values[0]);
	int len = VARSIZE_ANY_EXHDR(store);
	int c = memcmp(VARDATA_ANY(store), s->last_store.data, Min(len, s->last_store.len));
	TimestampTz at = s->polls ? DatumGetTimestampTz(values[1]) : 0;

	if (c == 0)
		c = (len > s->last_store.len) - (len < s->last_store.len);
	if (s->started && (c > 0 || (c == 0 && s->polls && at > s->last_at)))
		ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
		                errmsg("storemon: a read under row security returned rows out of order")));
	resetStringInfo(&s->last_store);
	appendBinaryStringInfo(&s->last_store, VARDATA_ANY(store), len);
	s->last_at = at;
	s->started = true;
}

bool
sm_policy_stream_next(SmPolicyStream *s, Datum *values, bool *isnull)
{
	MemoryContext caller = CurrentMemoryContext;
	HeapTuple row;

	if (s->rows == NULL || s->next == s->rows->numvals)
	{
		if (s->rows != NULL)
			SPI_freetuptable(s->rows);
		s->rows = NULL;
		if (s->done)
			return false;
		SPI_cursor_fetch(s->portal, true, FETCH_ROWS);
		MemoryContextSwitchTo(caller);
		s->rows = SPI_tuptable;
		s->next = 0;
		s->done = SPI_processed < FETCH_ROWS;
		if (SPI_processed == 0)
			return false;
	}
	row = s->rows->vals[s->next++];
	heap_deform_tuple(row, s->rows->tupdesc, values, isnull);
	check_order(s, values);
	return true;
}

void
sm_policy_stream_close(SmPolicyStream *s)
{
	MemoryContext caller = CurrentMemoryContext;

	if (s->rows != NULL)
		SPI_freetuptable(s->rows);
	SPI_cursor_close(s->portal);
	MemoryContextSwitchTo(caller);
	pfree(s);
}

bool
sm_policy_default_as_of(TimestampTz *as_of)
{
	MemoryContext caller = CurrentMemoryContext;
	bool isnull = true;
	Datum d;
	int guc_level = sm_pin_search_path();

	SPI_connect();
	if (SPI_execute("SELECT pg_catalog.max(s.timestamp_utc) FROM storemon.store_status s", true,
	                1) != SPI_OK_SELECT)
		elog(ERROR, "storemon: reading the latest poll under row security failed");
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	SPI_finish();
	sm_unpin_search_path(guc_level);
	MemoryContextSwitchTo(caller);
	if (!isnull)
		*as_of = DatumGetTimestampTz(d);
	return !isnull;
}
