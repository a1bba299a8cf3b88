/*
 * storemon-load — load the three CSV feeds into storemon, all or nothing.
 *
 *   storemon-load [--status FILE] [--hours FILE] [--zones FILE] [--allow-empty]
 *                 [-- [-d DB|CONNINFO] [-h HOST] [-p PORT] [-U USER]]
 *
 * A libpq client, so that no file name or file content is ever turned into
 * SQL or a psql script: each file is read here once, as a stream, and its
 * records go to the server with COPY FROM STDIN, straight into the table
 * while they are clean (direct_status.c, direct_hours.c), otherwise into a
 * temporary staging table, each record prefixed with the physical line it
 * starts on; the file names and header fields reach
 * storemon.storemon_load_staged() as bound parameters.  That function
 * validates and loads in the same transaction (sql/storemon.sql);
 * the first bad row stops everything with the file, line and value.
 *
 * The CSV is split here only to find where records end (a quoted field may
 * hold newlines) and to count fields; the server's COPY parses the values.
 *
 * After the commit the loaded tables are vacuumed and analyzed (unless
 * --no-vacuum), so that the first report reads the polls from the index
 * alone, as every later one does, and the planner knows the stores.
 *
 * Pointed at a coordinator, it loads the shards instead (sharded_load.c).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "feed.h"
#include "sharded_load.h"
#include "staged.h"

static void
usage(void)
{
	fputs("usage: storemon-load [--status FILE] [--hours FILE] [--zones FILE] [--allow-empty]\n"
	      "                     [--no-vacuum]\n"
	      "                     [-- [-d DBNAME|CONNINFO] [-h HOST] [-p PORT] [-U USER]]\n"
	      "                     [--shards N,M]   (a coordinator: only these shards)\n"
	      "Polls are appended; hours and zones replace what is there (a file without data\n"
	      "rows is refused unless --allow-empty).  All or nothing, in one transaction;\n"
	      "then the loaded tables are vacuumed and analyzed (not with --no-vacuum).\n"
	      "Each file is read once, from the start: pipes and /dev/stdin work.\n"
	      "On a coordinator (storemon_coordinator) each record goes to its store's shard;\n"
	      "no shard commits before every shard has loaded.\n",
	      stderr);
	exit(2);
}

static void
parse_args(int argc, char **argv, Options *o)
{
	static const char *const flags[][2] = {
	    {"-d", "dbname"}, {"-h", "host"}, {"-p", "port"}, {"-U", "user"}};
	int i = 1;

	for (; i < argc && strcmp(argv[i], "--") != 0; i++)
	{
		int k = strcmp(argv[i], "--status") == 0  ? FEED_STATUS
		        : strcmp(argv[i], "--hours") == 0 ? FEED_HOURS
		        : strcmp(argv[i], "--zones") == 0 ? FEED_ZONES
		                                          : -1;

		if (strcmp(argv[i], "--allow-empty") == 0)
			o->allow_empty = true;
		else if (strcmp(argv[i], "--shards") == 0 && i + 1 < argc)
			o->shards = argv[++i];
		else if (strcmp(argv[i], "--no-vacuum") == 0)
			o->vacuum = false;
		else if (k >= 0 && i + 1 < argc)
			o->feeds[k].file = argv[++i];
		else
			usage();
	}
	for (i++; i < argc; i += 2)
	{
		int k = -1;

		for (int j = 0; j < 4; j++)
			if (strcmp(argv[i], flags[j][0]) == 0)
				k = j;
		if (k < 0 || i + 1 >= argc || o->nkeys >= 4)
			usage();
		o->keys[o->nkeys] = flags[k][1];
		o->vals[o->nkeys++] = argv[i + 1];
	}
	if (!o->feeds[0].file && !o->feeds[1].file && !o->feeds[2].file)
		usage();
	o->keys[o->nkeys] = "fallback_application_name"; /* how a server's log and views name us */
	o->vals[o->nkeys++] = "storemon-load";
	if (getenv("PGCLIENTENCODING") == NULL)
	{
		o->keys[o->nkeys] = "client_encoding"; /* the feeds are UTF-8 CSV */
		o->vals[o->nkeys++] = "UTF8";
	}
}

static void
to_the_one_target(void *arg, Feed *feed, const CsvRecord *r)
{
	feed_record(arg, feed, r);
}

/* One database: every feed in turn, then the staged ones loaded, in one transaction. */
static void
load_one(Loader *l, PGconn *conn)
{
	Options *o = l->options;
	Target *t = loader_realloc(l, NULL, sizeof(Target));
	bool all[NFEEDS] = {true, true, true};
	FeedSink sink = {to_the_one_target, NULL, t, &t, 1};

	target_init(t, l, conn, "");
	exec_ok(l, conn, LOAD_BEGIN, PGRES_COMMAND_OK);
	for (int k = 0; k < NFEEDS; k++)
		if (o->feeds[k].file != NULL)
			read_feed(l, &o->feeds[k], &sink, utf8_client(conn));
	staged_load(t, o->feeds, o->allow_empty, all);
	exec_ok(l, conn, "COMMIT", PGRES_COMMAND_OK);
	if (o->vacuum)
		vacuum_loaded(t, o->feeds);
	free(t);
}

int
main(int argc, char **argv)
{
	Options o = {.feeds = {{.kind = FEED_STATUS, .name = "status"},
	                       {.kind = FEED_HOURS, .name = "hours"},
	                       {.kind = FEED_ZONES, .name = "zones"}},
	             .vacuum = true};
	Loader l = {.options = &o};
	PGconn *conn;
	PGresult *res;

	parse_args(argc, argv, &o);
	conn = loader_connect(&l, o.keys, o.vals);
	if (PQstatus(conn) != CONNECTION_OK)
		loader_fail(&l, "%s", PQerrorMessage(conn));
	res = PQexec(conn, "SELECT 1 FROM pg_catalog.pg_extension "
	                   "WHERE extname OPERATOR(pg_catalog.=) 'storemon'");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		loader_fail(&l, "the storemon extension is not installed in this database");
	PQclear(res);
	res = PQexec(conn, "SELECT 1 FROM pg_catalog.pg_extension "
	                   "WHERE extname OPERATOR(pg_catalog.=) 'storemon_coordinator'");
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
	{
		PQclear(res);
		load_sharded(&l, conn);
		loader_exit(&l, 0);
	}
	PQclear(res);
	if (o.shards != NULL)
		loader_fail(&l, "--shards is for a coordinator (storemon_coordinator); this database is "
		                "not one");
	load_one(&l, conn);
	loader_exit(&l, 0);
}
