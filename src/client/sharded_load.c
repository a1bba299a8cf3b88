/*
 * sharded_load.c — storemon-load pointed at a coordinator: each record goes
 * to the shard its store hashes to, and every shard commits or none does.
 *
 * 1. Route.  The files are read once to collect their store ids; the
 *    coordinator maps them to shards with storemon_coordinator.shard_of(),
 *    the rule PL/Proxy routes queries by, so loads and queries agree.
 * 2. Load.  Each shard, in turn, gets the usual load of its own records
 *    (stage, validate, insert: storemon_load.c), with the records' physical
 *    lines, so an error still names the file, line and value.  Its
 *    transaction is left open.
 * 3. Commit.  Only when every shard has loaded does any commit; then they
 *    commit one after another.  So any bad row, refused file or unreachable
 *    shard leaves every shard as it was.  The one window left is the
 *    commits themselves: if a shard is lost between the first commit and
 *    its own, the shards committed so far keep the load and the loader
 *    says which did not; running the same command with --shards naming
 *    those finishes it (the records are routed the same way).  Two-phase
 *    commit would close that window, but PostgreSQL cannot PREPARE a
 *    transaction that used temporary tables, which is how the load stages.
 *    Loads into one coordinator take turns (an advisory lock).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "load.h"

/* Advisory lock key (two int4) taken by loads on the coordinator. */
#define LOAD_LOCK "pg_catalog.pg_advisory_lock(1937007981, 2)"

typedef struct Shard
{
	int number;
	char *connstr;
	PGconn *conn;
	bool wanted; /* loaded by this run (--shards) */
	bool committed;
} Shard;

/* A set of store ids with the shard of each: open addressing, FNV-1a. */
typedef struct IdSet
{
	char **ids;
	int *shard;
	size_t cap; /* a power of 2 */
	size_t count;
} IdSet;

static PGconn *coord;
static Shard *shards;
static int nshards;
static IdSet stores;
static int store_column[3]; /* per feed: the store_id field, -1 when the header has none */
static long data_rows[3];   /* per feed: records after the header */
static bool all_to_shard0;  /* the load must fail: let shard 0 fail it as one node would */
static int loading_shard;
static const Options *options;

static uint64_t
fnv1a(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static size_t
idset_slot(const IdSet *set, const char *id)
{
	size_t i = fnv1a(id) & (set->cap - 1);

	while (set->ids[i] != NULL && strcmp(set->ids[i], id) != 0)
		i = (i + 1) & (set->cap - 1);
	return i;
}

static void
idset_add(IdSet *set, const char *id)
{
	size_t i;

	if (2 * (set->count + 1) > set->cap)
	{
		IdSet bigger = {calloc(2 * set->cap, sizeof(char *)), NULL, 2 * set->cap, 0};

		if (bigger.ids == NULL)
			fail("out of memory");
		for (size_t k = 0; k < set->cap; k++)
			if (set->ids[k] != NULL)
			{
				bigger.ids[idset_slot(&bigger, set->ids[k])] = set->ids[k];
				bigger.count++;
			}
		free(set->ids);
		*set = bigger;
	}
	i = idset_slot(set, id);
	if (set->ids[i] == NULL)
	{
		if ((set->ids[i] = strdup(id)) == NULL)
			fail("out of memory");
		set->count++;
	}
}

/*
 * Field k (0-based) of a record, unquoted and with surrounding spaces
 * removed, as the load stores a store id (btrim); "" when there is none.
 */
static const char *
record_field(const Record *r, int k, char **buf, size_t *cap)
{
	char *fields[MAX_COLUMNS];
	char *v;
	size_t n;

	if (k >= record_fields(r, buf, cap, fields, MAX_COLUMNS) || k >= MAX_COLUMNS)
		return "";
	for (v = fields[k]; *v == ' '; v++)
		;
	for (n = strlen(v); n > 0 && v[n - 1] == ' '; n--)
		;
	v[n] = '\0';
	return v;
}

/* The store_id field of a header, found as the staged load finds it, or -1. */
static int
store_id_column(const Record *header)
{
	char *buf = NULL;
	size_t cap = 0;
	char *fields[MAX_COLUMNS];
	int n = record_fields(header, &buf, &cap, fields, MAX_COLUMNS);
	int found = -1;

	for (int k = 0; k < n && k < MAX_COLUMNS && found < 0; k++)
		if (header_is(fields[k], "store_id"))
			found = k;
	free(buf);
	return found;
}

/* Pass 1: every store id of the files, and where each file keeps it. */
static void
collect_store_ids(Feed *feeds)
{
	char *buf = NULL;
	size_t cap = 0;

	stores = (IdSet){calloc(1024, sizeof(char *)), NULL, 1024, 0};
	for (int k = 0; k < 3; k++)
	{
		FILE *f;
		Record r = {0};
		long line = 1;

		store_column[k] = -1;
		if (feeds[k].file == NULL)
			continue;
		if ((f = fopen(feeds[k].file, "rb")) == NULL)
			fail("%s: cannot read the file", shown_name(feeds[k].file));
		if (next_record(f, &r, &line, feeds[k].file))
			store_column[k] = store_id_column(&r);
		data_rows[k] = 0;
		while (next_record(f, &r, &line, feeds[k].file))
		{
			data_rows[k]++;
			if (store_column[k] >= 0)
				idset_add(&stores, record_field(&r, store_column[k], &buf, &cap));
		}
		fclose(f);
		free(r.text);
	}
	free(buf);
}

static void
coord_ok(PGresult *res, ExecStatusType expected, const char *what)
{
	if (PQresultStatus(res) != expected)
		fail("coordinator: %s: %s", what, PQerrorMessage(coord));
}

/* The coordinator's shards, and the shard of every store id collected. */
static void
route_store_ids(void)
{
	PGresult *res = PQexec(coord, "SELECT shard, connstr FROM storemon_coordinator.shards()");
	char nshards_text[16];
	const char *params[1] = {nshards_text};

	coord_ok(res, PGRES_TUPLES_OK, "listing the shards");
	nshards = PQntuples(res);
	if (nshards == 0)
		fail("coordinator: the cluster storemon_shards has no partitions (p0, p1, ...)");
	shards = calloc(nshards, sizeof(Shard));
	for (int i = 0; i < nshards; i++)
	{
		shards[i].number = atoi(PQgetvalue(res, i, 0));
		shards[i].connstr = strdup(PQgetvalue(res, i, 1));
		if (shards[i].number != i)
			fail("coordinator: the partitions of storemon_shards are not p0 to p%d", nshards - 1);
	}
	PQclear(res);

	coord_ok(PQexec(coord, "CREATE TEMP TABLE pg_temp.storemon_route (id pg_catalog.text)"),
	         PGRES_COMMAND_OK, "routing");
	coord_ok(PQexec(coord, "COPY pg_temp.storemon_route FROM STDIN"), PGRES_COPY_IN, "routing");
	for (size_t i = 0; i < stores.cap; i++)
		if (stores.ids[i] != NULL)
		{
			/* text format: escape backslash, tab, newline, carriage return */
			for (const char *p = stores.ids[i]; *p; p++)
			{
				const char *esc = *p == '\\'   ? "\\\\"
				                  : *p == '\t' ? "\\t"
				                  : *p == '\n' ? "\\n"
				                  : *p == '\r' ? "\\r"
				                               : NULL;

				if (PQputCopyData(coord, esc ? esc : p, esc ? 2 : 1) != 1)
					fail("coordinator: %s", PQerrorMessage(coord));
			}
			PQputCopyData(coord, "\n", 1);
		}
	PQputCopyEnd(coord, NULL);
	coord_ok(PQgetResult(coord), PGRES_COMMAND_OK, "routing");
	snprintf(nshards_text, sizeof(nshards_text), "%d", nshards);
	res = PQexecParams(coord,
	                   "SELECT id, storemon_coordinator.shard_of(id, $1::pg_catalog.int4) "
	                   "FROM pg_temp.storemon_route",
	                   1, NULL, params, NULL, NULL, 0);
	coord_ok(res, PGRES_TUPLES_OK, "routing");
	stores.shard = calloc(stores.cap, sizeof(int));
	for (int i = 0; i < PQntuples(res); i++)
		stores.shard[idset_slot(&stores, PQgetvalue(res, i, 0))] = atoi(PQgetvalue(res, i, 1));
	PQclear(res);
}

/* stage()'s filter: records of the shard being loaded. */
static bool
keep_for_shard(const Feed *feed, const Record *r)
{
	static char *buf = NULL;
	static size_t cap = 0;
	int k = (int)(feed - options->feeds);

	if (store_column[k] < 0 || all_to_shard0)
		return loading_shard == 0; /* shard 0's load refuses it, as on one node */
	return stores.shard[idset_slot(&stores, record_field(r, store_column[k], &buf, &cap))] ==
	       loading_shard;
}

/*
 * On an error: shards not committed roll back as their connections close.
 * Once commits have begun, say which shards have the load and which not.
 */
static void
report_shards(void)
{
	bool any_committed = false;

	for (int i = 0; i < nshards; i++)
		any_committed |= shards[i].committed;
	if (!any_committed)
	{
		if (nshards > 0)
			fprintf(stderr, "storemon-load: no shard was changed\n");
		return;
	}
	fprintf(stderr, "storemon-load: the load was committed on shard(s)");
	for (int i = 0; i < nshards; i++)
		if (shards[i].committed)
			fprintf(stderr, " %d", i);
	fprintf(stderr, " but not on");
	for (int i = 0; i < nshards; i++)
		if (shards[i].wanted && !shards[i].committed)
			fprintf(stderr, " %d", i);
	fprintf(stderr, "; to finish it, run the same command again with --shards");
	for (int i = 0, first = 1; i < nshards; i++)
		if (shards[i].wanted && !shards[i].committed)
		{
			fprintf(stderr, "%s%d", first ? " " : ",", i);
			first = 0;
		}
	fprintf(stderr, "\n");
}

static PGconn *
connect_shard(Shard *s)
{
	const char *keys[6] = {"dbname", NULL};
	const char *vals[6] = {s->connstr, NULL};
	int n = 1;

	/* the shard's connection string, with the user and encoding this load was given */
	for (int i = 0; i < options->nkeys; i++)
		if (strcmp(options->keys[i], "user") == 0 ||
		    strcmp(options->keys[i], "client_encoding") == 0 ||
		    strcmp(options->keys[i], "fallback_application_name") == 0)
		{
			keys[n] = options->keys[i];
			vals[n++] = options->vals[i];
		}
	keys[n] = vals[n] = NULL;
	s->conn = connect_db(keys, vals);
	if (PQstatus(s->conn) != CONNECTION_OK)
		fail("shard %d (%s): %s", s->number, s->connstr, PQerrorMessage(s->conn));
	return s->conn;
}

/* Stage, validate and load shard s's records, leaving its transaction open. */
static void
load_shard(Shard *s)
{
	Options *o = (Options *)options;
	static char prefix[32];

	conn = connect_shard(s);
	loading_shard = s->number;
	snprintf(prefix, sizeof(prefix), "shard %d: ", s->number);
	output_prefix = prefix;
	exec_ok("BEGIN", PGRES_COMMAND_OK);
	o->feeds[0].direct = o->feeds[0].file != NULL && !all_to_shard0 &&
	                     load_status_direct(&o->feeds[0], keep_for_shard);
	o->feeds[1].direct = o->feeds[1].file != NULL && !all_to_shard0 &&
	                     load_hours_direct(&o->feeds[1], keep_for_shard);
	for (int k = 0; k < 3; k++)
		if (o->feeds[k].file != NULL && !o->feeds[k].direct)
			stage(&o->feeds[k], keep_for_shard);
	/*
	 * A shard may hold none of the hours or zones of a file that has some;
	 * a file without any is refused as on one node (all_to_shard0).
	 */
	load(o->feeds, o->allow_empty || !all_to_shard0);
}

/* Test hook: STOREMON_LOAD_CUT_AFTER=commit-N ends the process after shard N commits. */
static void
maybe_cut(const char *point)
{
	const char *cut = getenv("STOREMON_LOAD_CUT_AFTER");

	if (cut != NULL && strcmp(cut, point) == 0)
	{
		fprintf(stderr, "storemon-load: cut off after %s (STOREMON_LOAD_CUT_AFTER)\n", point);
		_exit(3);
	}
}

/* --shards 1,2: only those shards; NULL: all. */
static void
choose_shards(const char *list)
{
	for (int i = 0; i < nshards; i++)
		shards[i].wanted = list == NULL;
	for (const char *p = list; p != NULL && *p != '\0';)
	{
		char *end;
		long n = strtol(p, &end, 10);

		if (end == p || n < 0 || n >= nshards || (*end != ',' && *end != '\0'))
			fail("--shards %s: give shard numbers from 0 to %d, separated by commas", list,
			     nshards - 1);
		shards[n].wanted = true;
		p = *end == ',' ? end + 1 : end;
	}
}

int
load_sharded(Options *o)
{
	char point[32];
	int loaded = 0;

	options = o;
	coord = conn;
	conn = NULL;
	coord_ok(PQexec(coord, "SELECT " LOAD_LOCK), PGRES_TUPLES_OK, "waiting for other loads");
	collect_store_ids(o->feeds);
	for (int k = 1; k < 3; k++)
		if (o->feeds[k].file != NULL && data_rows[k] == 0 && !o->allow_empty)
			all_to_shard0 = true;
	route_store_ids();
	choose_shards(o->shards);
	load_cleanup = report_shards;
	for (int i = 0; i < nshards; i++)
		if (shards[i].wanted)
			load_shard(&shards[i]);
	for (int i = 0; i < nshards; i++)
		if (shards[i].wanted)
		{
			conn = shards[i].conn;
			output_prefix = "";
			exec_ok("COMMIT", PGRES_COMMAND_OK);
			shards[i].committed = true;
			snprintf(point, sizeof(point), "commit-%d", i);
			maybe_cut(point);
		}
	load_cleanup = NULL;
	for (int i = 0; i < nshards; i++)
		loaded += shards[i].committed;
	printf("loaded into %d of %d shards, each committed (%zu stores in the files)\n", loaded,
	       nshards, stores.count);
	/* Whether a table went in frozen is known per shard only: vacuum them all. */
	for (int k = 0; k < 3; k++)
		o->feeds[k].frozen = false;
	for (int i = 0; i < nshards && o->vacuum; i++)
		if (shards[i].wanted)
		{
			conn = shards[i].conn;
			vacuum_loaded(o->feeds);
		}
	for (int i = 0; i < nshards; i++)
		if (shards[i].conn != NULL)
			PQfinish(shards[i].conn);
	conn = coord;
	return 0;
}
