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
 * validates and loads in the same transaction (sql/storemon--1.0.sql);
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
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "load.h"

void (*load_cleanup)(void) = NULL;

/* Every connection opened, closed on the way out. */
static PGconn *open_conns[64];
static int nopen;

void
load_exit(int code)
{
	void (*cleanup)(void) = load_cleanup;

	load_cleanup = NULL; /* once, even if it fails itself */
	if (cleanup != NULL)
		cleanup();
	while (nopen > 0)
		PQfinish(open_conns[--nopen]);
	exit(code);
}

void
fail(const char *fmt, ...)
{
	va_list ap;

	fputs("storemon-load: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	load_exit(1);
}

/* The server's error: message, detail, hint, and the context when asked. */
static void
print_error(PGconn *conn, PGresult *res, const char *where, bool context)
{
	const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
	const char *hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
	const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	const char *ctx = context ? PQresultErrorField(res, PG_DIAG_CONTEXT) : NULL;

	fprintf(stderr, "ERROR:  %s%s\n", where ? where : "", msg ? msg : PQerrorMessage(conn));
	if (detail)
		fprintf(stderr, "DETAIL:  %s\n", detail);
	if (hint)
		fprintf(stderr, "HINT:  %s\n", hint);
	if (ctx)
		fprintf(stderr, "CONTEXT:  %s\n", ctx);
}

void
fail_with(PGconn *conn, PGresult *res, const char *where)
{
	print_error(conn, res, where, false);
	load_exit(1);
}

void
fail_feed(PGconn *conn, PGresult *res, const Feed *feed)
{
	char *shown = shown_name(feed->file);
	size_t size = strlen(shown) + 16;
	char *prefix = malloc(size);

	if (prefix == NULL)
		fail("out of memory");
	snprintf(prefix, size, "storemon: %s: ", shown);
	/* the context says where the COPY was, in the server's words */
	print_error(conn, res, prefix, true);
	load_exit(1);
}

bool
result_is(PGresult *res, ExecStatusType expected)
{
	bool good = PQresultStatus(res) == expected;

	PQclear(res);
	return good;
}

PGconn *
connect_db(const char *const *keys, const char *const *vals)
{
	PGconn *c = PQconnectdbParams(keys, vals, 1);

	if (nopen < (int)(sizeof(open_conns) / sizeof(open_conns[0])))
		open_conns[nopen++] = c;
	/* What a database or role setting put on search_path is gone before anything else runs. */
	if (PQstatus(c) == CONNECTION_OK &&
	    !result_is(PQexec(c, "SELECT pg_catalog.set_config('search_path', '', false)"),
	               PGRES_TUPLES_OK))
		fail("cannot set an empty search_path: %s", PQerrorMessage(c));
	return c;
}

void
exec_ok(PGconn *conn, const char *sql, ExecStatusType expected)
{
	PGresult *res = PQexec(conn, sql);

	if (PQresultStatus(res) != expected)
		fail("%s", PQerrorMessage(conn));
	PQclear(res);
}

void
target_init(Target *t, PGconn *conn, const char *prefix)
{
	PGresult *res =
	    PQexec(conn, "SELECT pg_catalog.to_regprocedure("
	                 "'storemon_internal.bulk_drop_indexes(pg_catalog.int8)') IS NOT NULL");

	memset(t, 0, sizeof(*t));
	t->conn = conn;
	t->prefix = prefix;
	/* storemon 1.0 lacks it: such a database is loaded the staged way only */
	t->can_direct = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
	                strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
}

/* Bytes the server's stage_column trims from a header name: white space, quotes, U+FEFF. */
static size_t
header_trim_at(const char *s, size_t len, bool at_end)
{
	if (len >= 3 && memcmp(at_end ? s + len - 3 : s, "\xEF\xBB\xBF", 3) == 0)
		return 3;
	if (len > 0 && strchr(" \t\r\n\"", at_end ? s[len - 1] : s[0]) != NULL)
		return 1;
	return 0;
}

bool
header_is(const char *field, const char *name)
{
	size_t len = strlen(field);
	size_t cut;

	while ((cut = header_trim_at(field, len, false)) > 0)
	{
		field += cut;
		len -= cut;
	}
	while ((cut = header_trim_at(field, len, true)) > 0)
		len -= cut;
	return strlen(name) == len && strncasecmp(field, name, len) == 0;
}

/* The header's fields as a text[] literal, quotes of the CSV removed. */
static char *
header_array(const CsvRecord *r, const CsvFields *f, int n)
{
	char *out = malloc(2 * r->len + 3 * (size_t)n + 3);
	char *o = out;

	if (out == NULL)
		fail("out of memory");
	*o++ = '{';
	for (int i = 0; i < n && i < MAX_COLUMNS; i++)
	{
		const char *v = f->field[i];

		if (i == 0 && strncmp(v, "\xEF\xBB\xBF", 3) == 0)
			v += 3; /* a UTF-8 byte order mark */
		if (i > 0)
			*o++ = ',';
		*o++ = '"';
		for (; *v; v++)
		{
			if (*v == '"' || *v == '\\')
				*o++ = '\\';
			*o++ = *v;
		}
		*o++ = '"';
	}
	*o++ = '}';
	*o = '\0';
	return out;
}

/*
 * The file name as messages show it: any path is accepted, but the server
 * takes only valid text, so control characters and bytes that are not
 * UTF-8 are written as \xNN.  The name is never part of any SQL.
 */
char *
shown_name(const char *name)
{
	char *out = malloc(4 * strlen(name) + 1);
	char *o = out;

	if (out == NULL)
		fail("out of memory");
	for (const unsigned char *p = (const unsigned char *)name; *p != '\0';)
	{
		int n = csv_utf8_length(p, strlen((const char *)p));

		if (n == 0 || *p < 0x20 || *p == 0x7F)
		{
			o += sprintf(o, "\\x%02X", *p++);
			continue;
		}
		memcpy(o, p, n);
		o += n;
		p += n;
	}
	*o = '\0';
	return out;
}

/* The header: the file's first record. */
static void
read_header(Feed *feed, CsvReader *reader, CsvRecord *r)
{
	int got = csv_read(reader, r);

	if (got < 0)
		fail("%s: %s", feed->file, reader->error);
	if (got == 0)
		fail("%s: line 1: no header (the file is empty)", feed->file);
	feed->ncols = r->fields;
	if (feed->ncols > MAX_COLUMNS)
		fail("%s: line %ld: the header has %d columns; at most %d", feed->file, r->line,
		     feed->ncols, MAX_COLUMNS);
	if (csv_split(r, &feed->columns) < 0)
		fail("out of memory");
	feed->header = header_array(r, &feed->columns, feed->ncols);
	if ((feed->header_raw = strdup(r->text)) == NULL)
		fail("out of memory");
}

void
read_feed(Feed *feed, const FeedSink *sink, bool check_utf8)
{
	FILE *f = fopen(feed->file, "rb");
	CsvReader *reader = malloc(sizeof(CsvReader));
	CsvRecord r = {0};
	int got;

	if (f == NULL)
		fail("%s: cannot read the file: %s", feed->file, strerror(errno));
	if (reader == NULL)
		fail("out of memory");
	csv_reader_init(reader, f, check_utf8);
	read_header(feed, reader, &r);
	for (int i = 0; i < sink->ntargets; i++)
		feed_begin(sink->targets[i], feed);
	while ((got = csv_read(reader, &r)) > 0)
	{
		feed->records++;
		sink->record(sink->arg, feed, &r);
	}
	if (got < 0)
		fail("%s: %s", feed->file, reader->error);
	if (sink->flush != NULL)
		sink->flush(sink->arg, feed);
	for (int i = 0; i < sink->ntargets; i++)
		feed_end(sink->targets[i], feed);
	fclose(f);
	csv_record_free(&r);
	free(reader);
}

void
stage_begin(Target *t, Feed *feed)
{
	char sql[256 + 24 * MAX_COLUMNS];

	snprintf(sql, sizeof(sql), "CREATE TEMP TABLE pg_temp.storemon_stage_%s (line pg_catalog.int8",
	         feed->name);
	for (int i = 1; i <= feed->ncols; i++)
		snprintf(sql + strlen(sql), sizeof(sql) - strlen(sql), ", c%d pg_catalog.text", i);
	strcat(sql, ") ON COMMIT DROP");
	exec_ok(t->conn, sql, PGRES_COMMAND_OK);
	snprintf(sql, sizeof(sql), "COPY pg_temp.storemon_stage_%s FROM STDIN (FORMAT csv)",
	         feed->name);
	exec_ok(t->conn, sql, PGRES_COPY_IN);
	t->out.len = 0;
	t->feeds[feed->kind].way = WAY_STAGED;
	t->feeds[feed->kind].staged = true;
}

void
stage_record(Target *t, Feed *feed, const CsvRecord *r)
{
	char prefix[24];
	int n;

	if (r->fields != feed->ncols)
	{
		PQputCopyEnd(t->conn, "wrong field count");
		PQclear(PQgetResult(t->conn));
		fail("%s: line %ld: %d fields, but the header has %d: %.200s", feed->file, r->line,
		     r->fields, feed->ncols, feed->header_raw);
	}
	n = snprintf(prefix, sizeof(prefix), "%ld,", r->line);
	copy_put(t, prefix, (size_t)n);
	copy_put(t, r->text, r->len);
	copy_put(t, "\n", 1);
	t->feeds[feed->kind].staged_records++;
}

void
feed_begin(Target *t, Feed *feed)
{
	bool direct = t->can_direct && ((feed->kind == FEED_STATUS && status_direct_begin(t, feed)) ||
	                                (feed->kind == FEED_HOURS && hours_direct_begin(t, feed)));

	if (direct)
		t->feeds[feed->kind].way = WAY_DIRECT;
	else
		stage_begin(t, feed);
}

void
feed_record(Target *t, Feed *feed, const CsvRecord *r)
{
	if (t->feeds[feed->kind].way == WAY_DIRECT)
	{
		bool taken = feed->kind == FEED_STATUS ? status_direct_record(t, feed, r)
		                                       : hours_direct_record(t, feed, r);

		if (taken)
			return;
		if (t->feeds[feed->kind].way != WAY_STAGED)
			stage_begin(t, feed);
	}
	stage_record(t, feed, r);
}

void
feed_end(Target *t, Feed *feed)
{
	FeedLoad *fl = &t->feeds[feed->kind];

	if (fl->way == WAY_DIRECT && feed->kind == FEED_STATUS)
		status_direct_end(t, feed);
	else if (fl->way == WAY_DIRECT)
		hours_direct_end(t, feed);
	if (fl->way == WAY_STAGED)
	{
		copy_end(t, feed);
		fl->way = WAY_DONE;
	}
}

/*
 * A replacement (DELETE, then COPY or INSERT) of hours or zones is ordered
 * after any other: SHARE ROW EXCLUSIVE conflicts with itself and with
 * writers but not with readers, and the DELETE grant allows it.  In READ
 * COMMITTED the DELETE's snapshot is taken after the lock is granted, so it
 * sees and deletes what an earlier load committed: the table ends as one
 * file, never the union of two.
 */
void
lock_for_replace(PGconn *conn, const char *table)
{
	char sql[128];
	PGresult *res;

	snprintf(sql, sizeof(sql), "LOCK TABLE ONLY %s IN SHARE ROW EXCLUSIVE MODE", table);
	res = PQexec(conn, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		fail_with(conn, res, "storemon: ");
	PQclear(res);
}

/* What the direct way of feed k did, as load_staged prints it. */
static void
print_direct(const Target *t, int k)
{
	const FeedLoad *fl = &t->feeds[k];

	if (k == FEED_STATUS)
		printf("%sstore_status: %ld rows appended%s\n", t->prefix, fl->direct_rows,
		       fl->rebuilt ? "; indexes rebuilt in bulk" : "");
	else
		printf("%smenu_hours: %ld rows replaced\n", t->prefix, fl->direct_rows);
}

/* A staged feed's row of storemon_load_staged, with what its direct way stored first. */
static void
print_staged(const Target *t, int k, PGresult *res, int row)
{
	const FeedLoad *fl = &t->feeds[k];
	const char *note = PQgetvalue(res, row, 2);
	bool add_rebuilt = fl->rebuilt && strstr(note, "indexes rebuilt") == NULL;

	printf("%s%s: %ld rows %s%s\n", t->prefix, PQgetvalue(res, row, 0),
	       atol(PQgetvalue(res, row, 1)) + fl->direct_rows, note,
	       add_rebuilt ? "; indexes rebuilt in bulk" : "");
}

void
load_staged(Target *t, Feed *feeds, bool allow_empty, const bool *include)
{
	const char *params[7];
	PGresult *res = NULL;
	bool any = false;

	for (int i = 0; i < NFEEDS; i++)
	{
		bool staged = feeds[i].file && t->feeds[i].staged && include[i];

		params[2 * i] = staged ? shown_name(feeds[i].file) : NULL;
		params[2 * i + 1] = feeds[i].header;
		any |= staged;
	}
	params[6] = allow_empty ? "true" : "false";
	if (params[2] != NULL)
		lock_for_replace(t->conn, "storemon.menu_hours");
	if (params[4] != NULL)
		lock_for_replace(t->conn, "storemon.timezones");
	if (any)
	{
		res =
		    PQexecParams(t->conn,
		                 "SELECT table_name, rows_loaded, note FROM storemon.storemon_load_staged("
		                 "$1, $2::pg_catalog.text[], $3, $4::pg_catalog.text[], $5, "
		                 "$6::pg_catalog.text[], $7::pg_catalog.bool)",
		                 7, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_TUPLES_OK)
			fail_with(t->conn, res, NULL);
	}
	/* The staged rows come in the feeds' order (status, hours, zones), as do the feeds. */
	for (int i = 0, row = 0; i < NFEEDS; i++)
		if (params[2 * i] != NULL && row < PQntuples(res))
			print_staged(t, i, res, row++);
		else if (feeds[i].file != NULL && !t->feeds[i].staged)
			print_direct(t, i);
	PQclear(res);
}

/* Notices and warnings of VACUUM and ANALYZE are the server's, shown as they come. */
static void
show_notice(void *arg, const PGresult *res)
{
	(void)arg;
	fputs(PQresultErrorMessage(res), stderr);
}

/*
 * May this role VACUUM and ANALYZE table?  The server's own rule, asked
 * before, so that no message of the server's has to be read: the table's
 * or the database's owner (a superuser is both), and from PostgreSQL 17 a
 * role with MAINTAIN on it.
 */
static bool
may_maintain(PGconn *conn, const char *table)
{
	const char *params[1] = {table};
	PGresult *res =
	    PQexecParams(conn,
	                 PQserverVersion(conn) >= 170000
	                     ? "SELECT pg_catalog.pg_has_role(c.relowner, 'USAGE') "
	                       "OR pg_catalog.pg_has_role(d.datdba, 'USAGE') "
	                       "OR pg_catalog.has_table_privilege(c.oid, 'MAINTAIN') "
	                       "FROM pg_catalog.pg_class c, pg_catalog.pg_database d "
	                       "WHERE c.oid OPERATOR(pg_catalog.=) $1::pg_catalog.regclass "
	                       "AND d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database()"
	                     : "SELECT pg_catalog.pg_has_role(c.relowner, 'USAGE') "
	                       "OR pg_catalog.pg_has_role(d.datdba, 'USAGE') "
	                       "FROM pg_catalog.pg_class c, pg_catalog.pg_database d "
	                       "WHERE c.oid OPERATOR(pg_catalog.=) $1::pg_catalog.regclass "
	                       "AND d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database()",
	                 1, NULL, params, NULL, NULL, 0);
	bool may = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
	           strcmp(PQgetvalue(res, 0, 0), "t") == 0;

	PQclear(res);
	return may;
}

/*
 * "VACUUM (ANALYZE) " or "ANALYZE " and the loaded tables frozen or not
 * that this role may maintain ("" for none); *refused: one it may not.
 */
static void
maintenance_sql(char *sql, const Target *t, const Feed *feeds, const char *command, bool frozen,
                bool *refused)
{
	static const char *const tables[NFEEDS] = {"storemon.store_status", "storemon.menu_hours",
	                                           "storemon.timezones"};
	bool first = true;

	sql[0] = '\0';
	for (int i = 0; i < NFEEDS; i++)
		if (feeds[i].file != NULL && (t->feeds[i].frozen && !t->feeds[i].staged) == frozen)
		{
			if (!may_maintain(t->conn, tables[i]))
			{
				*refused = true;
				continue;
			}
			strcat(sql, first ? command : ", ");
			strcat(sql, tables[i]);
			first = false;
		}
}

void
vacuum_loaded(Target *t, const Feed *feeds)
{
	char sql[160];
	bool refused = false;

	PQsetNoticeReceiver(t->conn, show_notice, NULL);
	/* A table loaded frozen is all-visible already: only its statistics are new. */
	maintenance_sql(sql, t, feeds, "ANALYZE ", true, &refused);
	if (sql[0] != '\0')
		exec_ok(t->conn, sql, PGRES_COMMAND_OK);
	maintenance_sql(sql, t, feeds, "VACUUM (ANALYZE) ", false, &refused);
	if (sql[0] != '\0')
		exec_ok(t->conn, sql, PGRES_COMMAND_OK);
	if (refused)
		fputs("storemon-load: note: this role does not own the tables, so they were not "
		      "vacuumed; reports read the new polls from the table until autovacuum has "
		      "passed (or run VACUUM (ANALYZE) on them as their owner)\n",
		      stderr);
}

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

/* Is the connection's client encoding UTF-8, which the reader then checks? */
static bool
utf8_client(PGconn *conn)
{
	return strcmp(pg_encoding_to_char(PQclientEncoding(conn)), "UTF8") == 0;
}

static void
to_the_one_target(void *arg, Feed *feed, const CsvRecord *r)
{
	feed_record(arg, feed, r);
}

/* One database: every feed in turn, then the staged ones loaded, in one transaction. */
static void
load_one(Options *o, PGconn *conn)
{
	Target *t = malloc(sizeof(Target));
	bool all[NFEEDS] = {true, true, true};
	FeedSink sink = {to_the_one_target, NULL, t, &t, 1};

	if (t == NULL)
		fail("out of memory");
	target_init(t, conn, "");
	exec_ok(conn, LOAD_BEGIN, PGRES_COMMAND_OK);
	for (int k = 0; k < NFEEDS; k++)
		if (o->feeds[k].file != NULL)
			read_feed(&o->feeds[k], &sink, utf8_client(conn));
	load_staged(t, o->feeds, o->allow_empty, all);
	exec_ok(conn, "COMMIT", PGRES_COMMAND_OK);
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
	PGconn *conn;
	PGresult *res;

	parse_args(argc, argv, &o);
	conn = connect_db(o.keys, o.vals);
	if (PQstatus(conn) != CONNECTION_OK)
		fail("%s", PQerrorMessage(conn));
	res = PQexec(conn, "SELECT 1 FROM pg_catalog.pg_extension "
	                   "WHERE extname OPERATOR(pg_catalog.=) 'storemon'");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		fail("the storemon extension is not installed in this database");
	PQclear(res);
	res = PQexec(conn, "SELECT 1 FROM pg_catalog.pg_extension "
	                   "WHERE extname OPERATOR(pg_catalog.=) 'storemon_coordinator'");
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
	{
		PQclear(res);
		load_sharded(&o, conn);
		load_exit(0);
	}
	PQclear(res);
	if (o.shards != NULL)
		fail("--shards is for a coordinator (storemon_coordinator); this database is not one");
	load_one(&o, conn);
	load_exit(0);
}
