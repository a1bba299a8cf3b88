/*
 * sharded_load.c — storemon-load pointed at a coordinator: each record goes
 * to the shard its store hashes to, and every shard commits or none does.
 *
 * 1. Route.  Each file is read once.  Its records wait in batches while
 *    the coordinator maps their store ids to shards with
 *    storemon_coordinator.shard_of(), the rule PL/Proxy routes queries by,
 *    so loads and queries agree (a bounded cache keeps the answers).
 * 2. Load.  Each record then goes to its shard's load, open on every shard
 *    at once: the usual direct or staged way (storemon_load.c), with the
 *    record's physical line, so an error still names the file, line and
 *    value.  Each shard's transaction is left open.
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
#include <unistd.h>

#include "load.h"

/* Advisory lock key (two int4) taken by loads on the coordinator. */
#define LOAD_LOCK "pg_catalog.pg_advisory_lock(1937007981, 2)"
/* Records waiting for their shards, at most. */
#define ROUTE_BATCH       8192
#define ROUTE_BATCH_BYTES (16 << 20)
/* The cache of store ids' shards is emptied past this many bytes of ids. */
#define ROUTE_CACHE_BYTES (64 << 20)

typedef struct Shard
{
	int number;
	char *connstr;
	bool wanted; /* loaded by this run (--shards) */
	bool committed;
	char prefix[32];
	Target target;
} Shard;

/* A set of store ids with the shard of each: open addressing, FNV-1a. */
typedef struct IdSet
{
	char **ids;
	int *shard;
	size_t cap; /* a power of 2 */
	size_t count;
	size_t bytes;
} IdSet;

/* A record waiting for its shard: offsets of its text and its store id in the arena. */
typedef struct Waiting
{
	size_t raw, raw_len, id;
	long line;
	int fields;
	bool plain;
} Waiting;

/* One feed's records on their way to the shards. */
typedef struct Router
{
	int id_column; /* the header's store_id field; -1: none, -2: not looked at yet */
	CsvFields f;
	char *arena;
	size_t len, cap;
	Waiting *w;
	size_t n, wcap;
} Router;

static PGconn *coord;
static Shard *shards;
static int nshards;
static IdSet cache;
static long routed;

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
idset_init(IdSet *set, size_t cap)
{
	*set = (IdSet){calloc(cap, sizeof(char *)), calloc(cap, sizeof(int)), cap, 0, 0};
	if (set->ids == NULL || set->shard == NULL)
		fail("out of memory");
}

static void
idset_clear(IdSet *set)
{
	for (size_t k = 0; k < set->cap; k++)
		free(set->ids[k]);
	free(set->ids);
	free(set->shard);
	idset_init(set, 1024);
}

/* The slot of id, added with shard -1 when it is new. */
static size_t
idset_add(IdSet *set, const char *id)
{
	size_t i;

	if (2 * (set->count + 1) > set->cap)
	{
		IdSet bigger;

		idset_init(&bigger, 2 * set->cap);
		for (size_t k = 0; k < set->cap; k++)
			if (set->ids[k] != NULL)
			{
				size_t j = idset_slot(&bigger, set->ids[k]);

				bigger.ids[j] = set->ids[k];
				bigger.shard[j] = set->shard[k];
			}
		bigger.count = set->count;
		bigger.bytes = set->bytes;
		free(set->ids);
		free(set->shard);
		*set = bigger;
	}
	i = idset_slot(set, id);
	if (set->ids[i] == NULL)
	{
		if ((set->ids[i] = strdup(id)) == NULL)
			fail("out of memory");
		set->shard[i] = -1;
		set->count++;
		set->bytes += strlen(id) + 1;
	}
	return i;
}

static void
coord_ok(PGresult *res, ExecStatusType expected, const char *what)
{
	if (PQresultStatus(res) != expected)
		fail("coordinator: %s: %s", what, PQerrorMessage(coord));
}

/* The coordinator's shards. */
static void
list_shards(void)
{
	PGresult *res = PQexec(coord, "SELECT shard, connstr FROM storemon_coordinator.shards()");

	coord_ok(res, PGRES_TUPLES_OK, "listing the shards");
	nshards = PQntuples(res);
	if (nshards == 0)
		fail("coordinator: the cluster storemon_shards has no partitions (p0, p1, ...)");
	shards = calloc(nshards, sizeof(Shard));
	if (shards == NULL)
		fail("out of memory");
	for (int i = 0; i < nshards; i++)
	{
		shards[i].number = atoi(PQgetvalue(res, i, 0));
		shards[i].connstr = strdup(PQgetvalue(res, i, 1));
		if (shards[i].number != i)
			fail("coordinator: the partitions of storemon_shards are not p0 to p%d", nshards - 1);
	}
	PQclear(res);
}

/* The store_id field of the header, found as the staged load finds it, or -1. */
static int
store_id_column(const Feed *feed)
{
	for (int k = 0; k < feed->ncols && k < MAX_COLUMNS; k++)
		if (header_is(feed->columns.field[k], "store_id"))
			return k;
	return -1;
}

/* The text[] literal of the ids of slots[0..n). */
static char *
id_array(char *const *ids, size_t n)
{
	size_t size = 3;
	char *out, *o;

	for (size_t i = 0; i < n; i++)
		size += 2 * strlen(ids[i]) + 3;
	if ((out = o = malloc(size)) == NULL)
		fail("out of memory");
	*o++ = '{';
	for (size_t i = 0; i < n; i++)
	{
		if (i > 0)
			*o++ = ',';
		*o++ = '"';
		for (const char *p = ids[i]; *p; p++)
		{
			if (*p == '"' || *p == '\\')
				*o++ = '\\';
			*o++ = *p;
		}
		*o++ = '"';
	}
	*o++ = '}';
	*o = '\0';
	return out;
}

/* Ask the coordinator for the shards of the n ids, and keep them in the cache. */
static void
ask_shards(char **ids, size_t n)
{
	char nshards_text[16];
	char *array = id_array(ids, n);
	const char *params[2] = {array, nshards_text};
	PGresult *res;

	snprintf(nshards_text, sizeof(nshards_text), "%d", nshards);
	res = PQexecParams(coord,
	                   "SELECT storemon_coordinator.shard_of(u.id, $2::pg_catalog.int4) "
	                   "FROM pg_catalog.unnest($1::pg_catalog.text[]) WITH ORDINALITY AS u (id, n) "
	                   "ORDER BY u.n",
	                   2, NULL, params, NULL, NULL, 0);
	coord_ok(res, PGRES_TUPLES_OK, "routing");
	if ((size_t)PQntuples(res) != n)
		fail("coordinator: routing: %zu store ids asked, %d answered", n, PQntuples(res));
	for (size_t i = 0; i < n; i++)
		cache.shard[idset_slot(&cache, ids[i])] = atoi(PQgetvalue(res, (int)i, 0));
	PQclear(res);
	free(array);
}

static void
to_shard(int shard, Feed *feed, const CsvRecord *r)
{
	if (shard >= 0 && shard < nshards && shards[shard].wanted)
		feed_record(&shards[shard].target, feed, r);
}

/* Route the waiting records: their ids' shards asked for once, then each record loaded. */
static void
route_waiting(void *arg, Feed *feed)
{
	Router *rt = arg;
	char **unknown = malloc((rt->n + 1) * sizeof(char *));
	size_t nunknown = 0;

	if (unknown == NULL)
		fail("out of memory");
	if (cache.bytes > ROUTE_CACHE_BYTES)
		idset_clear(&cache);
	for (size_t i = 0; i < rt->n; i++)
	{
		size_t slot = idset_add(&cache, rt->arena + rt->w[i].id);

		if (cache.shard[slot] == -1)
		{
			cache.shard[slot] = -2; /* asked for below */
			unknown[nunknown++] = cache.ids[slot];
		}
	}
	if (nunknown > 0)
		ask_shards(unknown, nunknown);
	for (size_t i = 0; i < rt->n; i++)
	{
		CsvRecord r = {rt->arena + rt->w[i].raw, rt->w[i].raw_len, 0, rt->w[i].line,
		               rt->w[i].fields,          rt->w[i].plain};

		to_shard(cache.shard[idset_slot(&cache, rt->arena + rt->w[i].id)], feed, &r);
	}
	routed += (long)rt->n;
	rt->n = rt->len = 0;
	free(unknown);
}

static size_t
arena_add(Router *rt, const char *bytes, size_t n)
{
	size_t at = rt->len;

	if (rt->len + n + 1 > rt->cap)
	{
		rt->cap = 2 * (rt->len + n + 1);
		if ((rt->arena = realloc(rt->arena, rt->cap)) == NULL)
			fail("out of memory");
	}
	memcpy(rt->arena + at, bytes, n);
	rt->arena[at + n] = '\0';
	rt->len += n + 1;
	return at;
}

/*
 * A record to route: its store id field, without surrounding spaces as the
 * load stores it ("" when the record has none), waits with it.
 */
static void
route_record(void *arg, Feed *feed, const CsvRecord *r)
{
	Router *rt = arg;
	const char *id = "";
	size_t idlen = 0;
	Waiting w = {0, r->len, 0, r->line, r->fields, r->plain};

	if (rt->id_column == -2)
		rt->id_column = store_id_column(feed);
	if (rt->id_column < 0)
	{
		to_shard(0, feed, r); /* shard 0's load refuses the header, as one node does */
		routed++;
		return;
	}
	if (csv_split(r, &rt->f) > rt->id_column)
	{
		id = rt->f.field[rt->id_column];
		while (*id == ' ')
			id++;
		for (idlen = strlen(id); idlen > 0 && id[idlen - 1] == ' '; idlen--)
			;
	}
	w.id = arena_add(rt, id, idlen);
	w.raw = arena_add(rt, r->text, r->len);
	if (rt->n == rt->wcap)
	{
		rt->wcap = rt->wcap ? 2 * rt->wcap : 1024;
		if ((rt->w = realloc(rt->w, rt->wcap * sizeof(Waiting))) == NULL)
			fail("out of memory");
	}
	rt->w[rt->n++] = w;
	if (rt->n >= ROUTE_BATCH || rt->len >= ROUTE_BATCH_BYTES)
		route_waiting(rt, feed);
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

/* The shard's connection string, with the user and encoding this load was given. */
static PGconn *
connect_shard(const Shard *s, const Options *o)
{
	const char *keys[6] = {"dbname", NULL};
	const char *vals[6] = {s->connstr, NULL};
	int n = 1;
	PGconn *c;

	for (int i = 0; i < o->nkeys; i++)
		if (strcmp(o->keys[i], "user") == 0 || strcmp(o->keys[i], "client_encoding") == 0 ||
		    strcmp(o->keys[i], "fallback_application_name") == 0)
		{
			keys[n] = o->keys[i];
			vals[n++] = o->vals[i];
		}
	keys[n] = vals[n] = NULL;
	c = connect_db(keys, vals);
	if (PQstatus(c) != CONNECTION_OK)
		fail("shard %d (%s): %s", s->number, s->connstr, PQerrorMessage(c));
	return c;
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

/*
 * A hours or zones file without data rows is refused, as on one node: the
 * first shard loaded is given that file (and what it has of the others),
 * without --allow-empty, and its load says so.
 */
static void
refuse_empty_files(Options *o, Target *first)
{
	bool include[NFEEDS] = {true, false, false};
	bool any = false;

	for (int k = FEED_HOURS; k < NFEEDS; k++)
		if (o->feeds[k].file != NULL && o->feeds[k].records == 0)
			include[k] = any = true;
	if (!any || o->allow_empty)
		return;
	for (int k = FEED_HOURS; k < NFEEDS; k++)
		include[k] = include[k] || first->feeds[k].staged_records > 0;
	load_staged(first, o->feeds, false, include);
	fail("a file without data rows was not refused");
}

int
load_sharded(Options *o, PGconn *coord_conn)
{
	Target **targets;
	int ntargets = 0, loaded = 0;
	bool all[NFEEDS] = {true, true, true};
	char point[32];

	coord = coord_conn;
	coord_ok(PQexec(coord, "SELECT " LOAD_LOCK), PGRES_TUPLES_OK, "waiting for other loads");
	list_shards();
	choose_shards(o->shards);
	idset_init(&cache, 1024);
	load_cleanup = report_shards;
	if ((targets = calloc(nshards, sizeof(Target *))) == NULL)
		fail("out of memory");
	for (int i = 0; i < nshards; i++)
		if (shards[i].wanted)
		{
			snprintf(shards[i].prefix, sizeof(shards[i].prefix), "shard %d: ", i);
			target_init(&shards[i].target, connect_shard(&shards[i], o), shards[i].prefix);
			exec_ok(shards[i].target.conn, LOAD_BEGIN, PGRES_COMMAND_OK);
			targets[ntargets++] = &shards[i].target;
		}
	for (int k = 0; k < NFEEDS; k++)
		if (o->feeds[k].file != NULL)
		{
			Router rt = {.id_column = -2};
			FeedSink sink = {route_record, route_waiting, &rt, targets, ntargets};

			read_feed(&o->feeds[k], &sink,
			          strcmp(pg_encoding_to_char(PQclientEncoding(coord)), "UTF8") == 0);
			free(rt.arena);
			free(rt.w);
			csv_fields_free(&rt.f);
		}
	if (ntargets > 0)
		refuse_empty_files(o, targets[0]);
	/* A shard may hold none of the hours or zones of a file that has some. */
	for (int i = 0; i < ntargets; i++)
		load_staged(targets[i], o->feeds, true, all);
	for (int i = 0; i < nshards; i++)
		if (shards[i].wanted)
		{
			exec_ok(shards[i].target.conn, "COMMIT", PGRES_COMMAND_OK);
			shards[i].committed = true;
			snprintf(point, sizeof(point), "commit-%d", i);
			maybe_cut(point);
		}
	load_cleanup = NULL;
	for (int i = 0; i < nshards; i++)
		loaded += shards[i].committed;
	printf("loaded into %d of %d shards, each committed (%ld records routed)\n", loaded, nshards,
	       routed);
	for (int i = 0; i < ntargets && o->vacuum; i++)
		vacuum_loaded(targets[i], o->feeds);
	free(targets);
	return 0;
}
