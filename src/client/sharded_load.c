/*
 * sharded_load.c — storemon-load pointed at a coordinator: each record goes
 * to the shard its store hashes to, and every shard commits or none does.
 *
 * 1. Route.  Each file is read once.  Its records wait in batches while
 *    the coordinator maps their store ids to shards with
 *    storemon_coordinator.shard_of(), the rule PL/Proxy routes queries by,
 *    so loads and queries agree (a bounded cache keeps the answers).
 * 2. Load.  Each record then goes to its shard's load, open on every shard
 *    at once: the usual direct or staged way (feed.c), with the
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

#include "feed.h"
#include "sharded_load.h"
#include "staged.h"

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

/* A load through the coordinator. */
typedef struct Sharding
{
	Loader *loader;
	PGconn *coord;
	Shard *shards;
	int nshards;
	IdSet cache; /* shards of the store ids seen */
	long routed; /* records routed */
} Sharding;

/* One feed's records on their way to the shards. */
typedef struct Router
{
	Sharding *s;
	int id_column; /* the header's store_id field; -1: none, -2: not looked at yet */
	CsvFields f;
	char *arena;
	size_t len, cap;
	Waiting *w;
	size_t n, wcap;
} Router;

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
idset_init(Loader *l, IdSet *set, size_t cap)
{
	*set = (IdSet){loader_realloc(l, NULL, cap * sizeof(char *)),
	               loader_realloc(l, NULL, cap * sizeof(int)), cap, 0, 0};
	memset(set->ids, 0, cap * sizeof(char *));
}

static void
idset_clear(Loader *l, IdSet *set)
{
	for (size_t k = 0; k < set->cap; k++)
		free(set->ids[k]);
	free(set->ids);
	free(set->shard);
	idset_init(l, set, 1024);
}

/* The slot of id, added with shard -1 when it is new. */
static size_t
idset_add(Loader *l, IdSet *set, const char *id)
{
	size_t i;

	if (2 * (set->count + 1) > set->cap)
	{
		IdSet bigger;

		idset_init(l, &bigger, 2 * set->cap);
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
		set->ids[i] = strcpy(loader_realloc(l, NULL, strlen(id) + 1), id);
		set->shard[i] = -1;
		set->count++;
		set->bytes += strlen(id) + 1;
	}
	return i;
}

static void
coord_ok(Sharding *s, PGresult *res, ExecStatusType expected, const char *what)
{
	if (PQresultStatus(res) != expected)
		loader_fail(s->loader, "coordinator: %s: %s", what, PQerrorMessage(s->coord));
}

/* The coordinator's shards. */
static void
list_shards(Sharding *s)
{
	PGresult *res = PQexec(s->coord, "SELECT shard, connstr FROM storemon_coordinator.shards()");

	coord_ok(s, res, PGRES_TUPLES_OK, "listing the shards");
	s->nshards = PQntuples(res);
	if (s->nshards == 0)
		loader_fail(s->loader,
		            "coordinator: the cluster storemon_shards has no partitions (p0, p1, ...)");
	s->shards = loader_realloc(s->loader, NULL, s->nshards * sizeof(Shard));
	memset(s->shards, 0, s->nshards * sizeof(Shard));
	for (int i = 0; i < s->nshards; i++)
	{
		const char *connstr = PQgetvalue(res, i, 1);

		s->shards[i].number = atoi(PQgetvalue(res, i, 0));
		s->shards[i].connstr =
		    strcpy(loader_realloc(s->loader, NULL, strlen(connstr) + 1), connstr);
		if (s->shards[i].number != i)
			loader_fail(s->loader,
			            "coordinator: the partitions of storemon_shards are not p0 to p%d",
			            s->nshards - 1);
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
id_array(Loader *l, char *const *ids, size_t n)
{
	size_t size = 3;
	char *out, *o;

	for (size_t i = 0; i < n; i++)
		size += 2 * strlen(ids[i]) + 3;
	out = o = loader_realloc(l, NULL, size);
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
ask_shards(Sharding *s, char **ids, size_t n)
{
	char nshards_text[16];
	char *array = id_array(s->loader, ids, n);
	const char *params[2] = {array, nshards_text};
	PGresult *res;

	snprintf(nshards_text, sizeof(nshards_text), "%d", s->nshards);
	res = PQexecParams(s->coord,
	                   "SELECT storemon_coordinator.shard_of(u.id, $2::pg_catalog.int4) "
	                   "FROM pg_catalog.unnest($1::pg_catalog.text[]) WITH ORDINALITY AS u (id, n) "
	                   "ORDER BY u.n",
	                   2, NULL, params, NULL, NULL, 0);
	coord_ok(s, res, PGRES_TUPLES_OK, "routing");
	if ((size_t)PQntuples(res) != n)
		loader_fail(s->loader, "coordinator: routing: %zu store ids asked, %d answered", n,
		            PQntuples(res));
	for (size_t i = 0; i < n; i++)
		s->cache.shard[idset_slot(&s->cache, ids[i])] = atoi(PQgetvalue(res, (int)i, 0));
	PQclear(res);
	free(array);
}

static void
to_shard(Sharding *s, int shard, Feed *feed, const CsvRecord *r)
{
	if (shard >= 0 && shard < s->nshards && s->shards[shard].wanted)
		feed_record(&s->shards[shard].target, feed, r);
}

/* Route the waiting records: their ids' shards asked for once, then each record loaded. */
static void
route_waiting(void *arg, Feed *feed)
{
	Router *rt = arg;
	Sharding *s = rt->s;
	char **unknown = loader_realloc(s->loader, NULL, (rt->n + 1) * sizeof(char *));
	size_t nunknown = 0;

	if (s->cache.bytes > ROUTE_CACHE_BYTES)
		idset_clear(s->loader, &s->cache);
	for (size_t i = 0; i < rt->n; i++)
	{
		size_t slot = idset_add(s->loader, &s->cache, rt->arena + rt->w[i].id);

		if (s->cache.shard[slot] == -1)
		{
			s->cache.shard[slot] = -2; /* asked for below */
			unknown[nunknown++] = s->cache.ids[slot];
		}
	}
	if (nunknown > 0)
		ask_shards(s, unknown, nunknown);
	for (size_t i = 0; i < rt->n; i++)
	{
		CsvRecord r = {rt->arena + rt->w[i].raw, rt->w[i].raw_len, 0, rt->w[i].line,
		               rt->w[i].fields,          rt->w[i].plain};

		to_shard(s, s->cache.shard[idset_slot(&s->cache, rt->arena + rt->w[i].id)], feed, &r);
	}
	s->routed += (long)rt->n;
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
		rt->arena = loader_realloc(rt->s->loader, rt->arena, rt->cap);
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
		to_shard(rt->s, 0, feed, r); /* shard 0's load refuses the header, as one node does */
		rt->s->routed++;
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
		rt->w = loader_realloc(rt->s->loader, rt->w, rt->wcap * sizeof(Waiting));
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
report_shards(void *arg)
{
	const Sharding *s = arg;
	const Shard *shards = s->shards;
	int nshards = s->nshards;
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
connect_shard(Loader *l, const Shard *s)
{
	const Options *o = l->options;
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
	c = loader_connect(l, keys, vals);
	if (PQstatus(c) != CONNECTION_OK)
		loader_fail(l, "shard %d (%s): %s", s->number, s->connstr, PQerrorMessage(c));
	return c;
}

/* --shards 1,2: only those shards; NULL: all. */
static void
choose_shards(Sharding *s, const char *list)
{
	for (int i = 0; i < s->nshards; i++)
		s->shards[i].wanted = list == NULL;
	for (const char *p = list; p != NULL && *p != '\0';)
	{
		char *end;
		long n = strtol(p, &end, 10);

		if (end == p || n < 0 || n >= s->nshards || (*end != ',' && *end != '\0'))
			loader_fail(s->loader,
			            "--shards %s: give shard numbers from 0 to %d, separated by commas", list,
			            s->nshards - 1);
		s->shards[n].wanted = true;
		p = *end == ',' ? end + 1 : end;
	}
}

/*
 * A hours or zones file without data rows is refused, as on one node: the
 * first shard loaded is given that file (and what it has of the others),
 * without --allow-empty, and its load says so.
 */
static void
refuse_empty_files(Loader *l, Target *first)
{
	Options *o = l->options;
	bool include[NFEEDS] = {true, false, false};
	bool any = false;

	for (int k = FEED_HOURS; k < NFEEDS; k++)
		if (o->feeds[k].file != NULL && o->feeds[k].records == 0)
			include[k] = any = true;
	if (!any || o->allow_empty)
		return;
	for (int k = FEED_HOURS; k < NFEEDS; k++)
		include[k] = include[k] || first->feeds[k].staged_records > 0;
	staged_load(first, o->feeds, false, include);
	loader_fail(l, "a file without data rows was not refused");
}

void
load_sharded(Loader *l, PGconn *coord)
{
	Options *o = l->options;
	Sharding s = {.loader = l, .coord = coord};
	Target **targets;
	int ntargets = 0, loaded = 0;
	bool all[NFEEDS] = {true, true, true};

	coord_ok(&s, PQexec(coord, "SELECT " LOAD_LOCK), PGRES_TUPLES_OK, "waiting for other loads");
	list_shards(&s);
	choose_shards(&s, o->shards);
	idset_init(l, &s.cache, 1024);
	l->on_error = report_shards;
	l->on_error_arg = &s;
	targets = loader_realloc(l, NULL, s.nshards * sizeof(Target *));
	for (int i = 0; i < s.nshards; i++)
		if (s.shards[i].wanted)
		{
			Shard *shard = &s.shards[i];

			snprintf(shard->prefix, sizeof(shard->prefix), "shard %d: ", i);
			target_init(&shard->target, l, connect_shard(l, shard), shard->prefix);
			exec_ok(l, shard->target.conn, LOAD_BEGIN, PGRES_COMMAND_OK);
			targets[ntargets++] = &shard->target;
		}
	for (int k = 0; k < NFEEDS; k++)
		if (o->feeds[k].file != NULL)
		{
			Router rt = {.s = &s, .id_column = -2};
			FeedSink sink = {route_record, route_waiting, &rt, targets, ntargets};

			read_feed(l, &o->feeds[k], &sink, utf8_client(coord));
			free(rt.arena);
			free(rt.w);
			csv_fields_free(&rt.f);
		}
	if (ntargets > 0)
		refuse_empty_files(l, targets[0]);
	/* A shard may hold none of the hours or zones of a file that has some. */
	for (int i = 0; i < ntargets; i++)
		staged_load(targets[i], o->feeds, true, all);
	for (int i = 0; i < s.nshards; i++)
		if (s.shards[i].wanted)
		{
			exec_ok(l, s.shards[i].target.conn, "COMMIT", PGRES_COMMAND_OK);
			s.shards[i].committed = true;
		}
	l->on_error = NULL;
	for (int i = 0; i < s.nshards; i++)
		loaded += s.shards[i].committed;
	printf("loaded into %d of %d shards, each committed (%ld records routed)\n", loaded, s.nshards,
	       s.routed);
	for (int i = 0; i < ntargets && o->vacuum; i++)
		vacuum_loaded(targets[i], o->feeds);
	free(targets);
}
