/*
 * parallel_report.c — one report computed by several processes at once (see
 * parallel_report.h).
 *
 * The work is split by store_id, which is how the computation reads: each
 * range is an independent walk of the same index.  The ranges come from
 * the histogram ANALYZE keeps for store_status.store_id, so they hold about
 * equal numbers of polls.  The query is
 *
 *   SELECT * FROM (SELECT * FROM storemon_compute($1, $2, NULL, 'b1')
 *       UNION ALL SELECT * FROM storemon_compute($1, $2, 'b1', 'b2') ...
 *   ) ranges ORDER BY store_id COLLATE pg_catalog."C"
 *
 * run through SPI with parallel query allowed and its rows sent straight
 * into the caller's tuplestore.  Nothing is shared by hand: the snapshot,
 * the transaction and error reporting are PostgreSQL's.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/parallel.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_db_role_setting.h"
#include "catalog/pg_statistic.h"
#include "executor/spi.h"
#include "executor/tstoreReceiver.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/params.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "compat.h"
#include "server/catalog.h"
#include "server/parallel_report.h"
#include "server/row_security.h"

int sm_parallel_workers = 0;

/*
 * Up to nparts - 1 ascending, distinct store ids splitting store_status into
 * parts of about equal polls; the count found (0 without a histogram).
 */
static int
range_bounds(Oid status, int nparts, char **bounds)
{
	HeapTuple stats = SearchSysCache3(STATRELATTINH, ObjectIdGetDatum(status), Int16GetDatum(1),
	                                  BoolGetDatum(false));
	AttStatsSlot slot;
	int n = 0;

	if (!HeapTupleIsValid(stats))
		return 0;
	if (get_attstatsslot(&slot, stats, STATISTIC_KIND_HISTOGRAM, InvalidOid, ATTSTATSSLOT_VALUES))
	{
		for (int i = 1; i < nparts && slot.nvalues > 2; i++)
		{
			char *b = TextDatumGetCString(slot.values[(int64)i * (slot.nvalues - 1) / nparts]);

			if (n == 0 || strcmp(b, bounds[n - 1]) > 0)
				bounds[n++] = b;
		}
		free_attstatsslot(&slot);
	}
	ReleaseSysCache(stats);
	return n;
}

static char *
range_query(const char *function, char **bounds, int nbounds)
{
	StringInfoData sql;
	const char *schema = quote_identifier(get_namespace_name(sm_extension_schema()));

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT * FROM (");
	for (int i = 0; i <= nbounds; i++)
		appendStringInfo(&sql, "%sSELECT * FROM %s.%s($1, $2, %s, %s)", i == 0 ? "" : " UNION ALL ",
		                 schema, function, i == 0 ? "NULL" : quote_literal_cstr(bounds[i - 1]),
		                 i == nbounds ? "NULL" : quote_literal_cstr(bounds[i]));
	appendStringInfoString(&sql, ") ranges ORDER BY store_id COLLATE pg_catalog.\"C\"");
	return sql.data;
}

/* A timeout under this could end a parallel worker while it starts. */
#define SM_PARALLEL_STARTUP_MS (60 * 1000)

/* Whether one row of pg_db_role_setting sets name under a minute. */
static bool
sets_short_timeout(Relation settings, Oid database, Oid role, const char *name)
{
	ScanKeyData keys[2];
	SysScanDesc scan;
	HeapTuple row;
	bool found = false;

	ScanKeyInit(&keys[0], Anum_pg_db_role_setting_setdatabase, BTEqualStrategyNumber, F_OIDEQ,
	            ObjectIdGetDatum(database));
	ScanKeyInit(&keys[1], Anum_pg_db_role_setting_setrole, BTEqualStrategyNumber, F_OIDEQ,
	            ObjectIdGetDatum(role));
	scan = systable_beginscan(settings, DbRoleSettingDatidRolidIndexId, true, NULL, 2, keys);
	while (!found && HeapTupleIsValid(row = systable_getnext(scan)))
	{
		bool isnull;
		Datum config = heap_getattr(row, Anum_pg_db_role_setting_setconfig,
		                            RelationGetDescr(settings), &isnull);
		Datum *items;
		int n;

		if (isnull)
			continue;
		deconstruct_array(DatumGetArrayTypeP(config), TEXTOID, -1, false, TYPALIGN_INT, &items,
		                  NULL, &n);
		for (int i = 0; i < n && !found; i++)
		{
			char *item_name;
			char *value;
			int ms;

			ParseLongOption(TextDatumGetCString(items[i]), &item_name, &value);
			/* a value that does not parse is taken as short */
			found = value != NULL && pg_strcasecmp(item_name, name) == 0 &&
			        (!parse_int(value, &ms, GUC_UNIT_MS, NULL) ||
			         (ms > 0 && ms < SM_PARALLEL_STARTUP_MS));
		}
	}
	systable_endscan(scan);
	return found;
}

/*
 * Whether the database or the role this process logged in as sets a
 * timeout that acts in a parallel worker before it takes its leader's
 * settings (compat.h): a database owner's transaction_timeout of 1 ms
 * would end every parallel worker as it starts, whatever the leader set.
 */
static bool
settings_end_parallel_workers(void)
{
	const char *name = SM_PARALLEL_STARTUP_SETTING;
	const Oid databases[] = {MyDatabaseId, InvalidOid};
	const Oid roles[] = {InvalidOid, GetAuthenticatedUserId()};
	Relation settings;
	bool found = false;

	if (name == NULL)
		return false;
	settings = table_open(DbRoleSettingRelationId, AccessShareLock);
	for (int d = 0; d < lengthof(databases); d++)
		for (int r = 0; r < lengthof(roles); r++)
			found = found || sets_short_timeout(settings, databases[d], roles[r], name);
	table_close(settings, AccessShareLock);
	if (found)
		ereport(DEBUG1, (errmsg("storemon computes this report in one process: the database or "
		                        "role sets %s under a minute, which parallel workers apply "
		                        "before their leader's settings",
		                        name)));
	return found;
}

/* Settings for the query alone: every range a worker of its own. */
static void
set_local(const char *name, const char *value)
{
	(void)set_config_option(name, value, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
	                        false);
}

bool
sm_parallel_report(FunctionCallInfo fcinfo, const char *function, TimestampTz as_of,
                   text *interpolation)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *)fcinfo->resultinfo;
	SmCatalog cat;
	char **bounds;
	int nbounds;
	ParamListInfo params;
	SPIExecuteOptions options = {0};
	DestReceiver *dest;
	int guc_level;
	char workers[16];

	if (sm_parallel_workers <= 0 || IsParallelWorker() || IsInParallelMode() ||
	    settings_end_parallel_workers())
		return false;
	sm_catalog_lookup(&cat);
	/*
	 * The histogram holds store ids: read it only for a caller who may read
	 * them all (as pg_stats shows it), so not under row security.
	 */
	sm_check_read_privileges(&cat, GetUserId(), false);
	if (sm_row_security_applies(&cat))
		return false;
	bounds = palloc(sizeof(char *) * sm_parallel_workers);
	nbounds = range_bounds(cat.store_status, sm_parallel_workers + 1, bounds);
	if (nbounds == 0)
		return false;

	params = makeParamList(2);
	params->params[0] =
	    (ParamExternData){TimestampTzGetDatum(as_of), false, PARAM_FLAG_CONST, TIMESTAMPTZOID};
	params->params[1] =
	    (ParamExternData){PointerGetDatum(interpolation), false, PARAM_FLAG_CONST, TEXTOID};
	dest = CreateTuplestoreDestReceiver();
	SetTuplestoreDestReceiverParams(dest, rsinfo->setResult,
	                                rsinfo->econtext->ecxt_per_query_memory, false, NULL, NULL);
	options.params = params;
	options.read_only = true;
	options.dest = dest;

	guc_level = sm_pin_search_path();
	snprintf(workers, sizeof(workers), "%d", nbounds);
	set_local("max_parallel_workers_per_gather", workers);
	set_local("parallel_setup_cost", "0");
	set_local("parallel_tuple_cost", "0");
	set_local("enable_parallel_append", "on");
	SPI_connect();
	if (SPI_execute_extended(range_query(function, bounds, nbounds), &options) != SPI_OK_SELECT)
		elog(ERROR, "storemon: the parallel report query failed");
	SPI_finish();
	sm_unpin_search_path(guc_level);
	dest->rDestroy(dest);
	return true;
}
