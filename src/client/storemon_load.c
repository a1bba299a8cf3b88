/*
 * storemon-load — load the three CSV feeds into storemon, all or nothing.
 *
 *   storemon-load [--status FILE] [--hours FILE] [--zones FILE] [--allow-empty]
 *                 [-- [-d DB|CONNINFO] [-h HOST] [-p PORT] [-U USER]]
 *
 * A libpq client, so that no file name or file content is ever turned into
 * SQL or a psql script: each file is read here, its records streamed to
 * the server with COPY FROM STDIN into a temporary staging table, each
 * record prefixed with the physical line it starts on, and the file names
 * and header fields reach storemon.storemon_load_staged() as bound
 * parameters.  That function validates and loads in one transaction
 * (sql/storemon--1.0.sql); the first bad row stops everything with the
 * file, line and value.
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

PGconn *conn = NULL;
void (*load_cleanup)(void) = NULL;
const char *output_prefix = "";

void
load_exit(int code)
{
	void (*cleanup)(void) = load_cleanup;

	load_cleanup = NULL; /* once, even if it fails itself */
	if (cleanup != NULL)
		cleanup();
	if (conn != NULL)
		PQfinish(conn);
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

static void
append(Record *r, int c)
{
	if (r->len + 1 >= r->cap)
	{
		r->cap = r->cap ? 2 * r->cap : 4096;
		r->text = realloc(r->text, r->cap);
		if (r->text == NULL)
			fail("out of memory");
	}
	r->text[r->len++] = (char)c;
	r->text[r->len] = '\0';
}

/*
 * Read the next record of f into r; *line is the physical line the reader
 * is on.  Returns false at the end of the file.  Blank lines are skipped.
 */
bool
next_record(FILE *f, Record *r, long *line, const char *file)
{
	bool quoted = false;
	int c;

	for (;;)
	{
		r->len = 0;
		r->fields = 1;
		r->line = *line;
		if (r->text)
			r->text[0] = '\0';
		while ((c = getc_unlocked(f)) != EOF) /* one thread: no lock per character */
		{
			if (c == '\n')
			{
				(*line)++;
				if (!quoted)
					break;
			}
			else if (c == '"')
				quoted = !quoted;
			else if (c == ',' && !quoted)
				r->fields++;
			append(r, c);
		}
		if (ferror(f))
			fail("%s: cannot read: %s", file, strerror(errno));
		if (quoted)
			fail("%s: line %ld: a quoted field is not closed before the end of the file", file,
			     r->line);
		if (r->len > 0 && r->text[r->len - 1] == '\r')
			r->text[--r->len] = '\0'; /* CRLF line ends */
		if (r->len > 0)
			return true;
		if (c == EOF)
			return false;
	}
}

int
record_fields(const Record *r, char **buf, size_t *cap, char **out, int max)
{
	bool quoted = false;
	char *o;
	int n = 0;

	if (*cap < r->len + 1)
	{
		*cap = r->len + 1;
		if ((*buf = realloc(*buf, *cap)) == NULL)
			fail("out of memory");
	}
	o = *buf;
	out[0] = o;
	for (const char *p = r->text;; p++)
	{
		if (*p == '"')
		{
			if (quoted && p[1] == '"')
				p++; /* "" inside quotes: one quote */
			else
			{
				quoted = !quoted;
				continue;
			}
		}
		else if ((*p == ',' && !quoted) || *p == '\0')
		{
			if (n < max)
				*o++ = '\0';
			if (*p == '\0')
				return n + 1;
			if (++n < max)
				out[n] = o;
			continue;
		}
		if (n < max)
			*o++ = *p;
	}
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
header_array(const Record *r)
{
	char *buf = NULL;
	size_t cap = 0;
	char *fields[MAX_COLUMNS];
	int n = record_fields(r, &buf, &cap, fields, MAX_COLUMNS);
	char *out = malloc(2 * r->len + 3 * (size_t)n + 3);
	char *o = out;

	if (out == NULL)
		fail("out of memory");
	if (strncmp(fields[0], "\xEF\xBB\xBF", 3) == 0)
		fields[0] += 3; /* a UTF-8 byte order mark */
	*o++ = '{';
	for (int i = 0; i < n && i < MAX_COLUMNS; i++)
	{
		*o++ = i > 0 ? ',' : '"';
		if (i > 0)
			*o++ = '"';
		for (const char *p = fields[i]; *p; p++)
		{
			if (*p == '"' || *p == '\\')
				*o++ = '\\';
			*o++ = *p;
		}
		*o++ = '"';
	}
	*o++ = '}';
	*o = '\0';
	free(buf);
	return out;
}

/* Length of the valid UTF-8 sequence at p (1 to 4), or 0. */
static int
utf8_sequence(const unsigned char *p)
{
	int n = p[0] < 0x80             ? 1
	        : (p[0] & 0xE0) == 0xC0 ? 2
	        : (p[0] & 0xF0) == 0xE0 ? 3
	        : (p[0] & 0xF8) == 0xF0 ? 4
	                                : 0;

	if (n == 2 && p[0] < 0xC2)
		return 0; /* overlong */
	for (int i = 1; i < n; i++)
		if ((p[i] & 0xC0) != 0x80)
			return 0;
	return n;
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
		int n = utf8_sequence(p);

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

PGconn *
connect_db(const char *const *keys, const char *const *vals)
{
	PGconn *c = PQconnectdbParams(keys, vals, 1);

	/* What a database or role setting put on search_path is gone before anything else runs. */
	if (PQstatus(c) == CONNECTION_OK &&
	    !result_is(PQexec(c, "SELECT pg_catalog.set_config('search_path', '', false)"),
	               PGRES_TUPLES_OK))
		fail("cannot set an empty search_path: %s", PQerrorMessage(c));
	return c;
}

void
exec_ok(const char *sql, ExecStatusType expected)
{
	PGresult *res = PQexec(conn, sql);

	if (PQresultStatus(res) != expected)
		fail("%s", PQerrorMessage(conn));
	PQclear(res);
}

/* The server's error in full: message, detail, hint. */
static void
fail_with(PGresult *res, const char *where)
{
	const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
	const char *hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
	const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

	fprintf(stderr, "ERROR:  %s%s\n", where ? where : "", msg ? msg : PQerrorMessage(conn));
	if (detail)
		fprintf(stderr, "DETAIL:  %s\n", detail);
	if (hint)
		fprintf(stderr, "HINT:  %s\n", hint);
	load_exit(1);
}

/* The physical line of the n-th data record (1-based) of file. */
static long
line_of_record(const char *file, long n)
{
	FILE *f = fopen(file, "rb");
	Record r = {0};
	long line = 1;

	if (f == NULL)
		return 0;
	for (long i = 0; i <= n && next_record(f, &r, &line, file); i++)
		if (i == n)
			break;
	fclose(f);
	free(r.text);
	return r.line;
}

/* COPY refused a record: name the file and its physical line. */
static void
fail_copy(PGresult *res, const Feed *feed)
{
	const char *context = PQresultErrorField(res, PG_DIAG_CONTEXT);
	const char *at = context ? strstr(context, ", line ") : NULL;
	char where[64] = "";
	char *prefix;
	size_t size;

	if (at != NULL)
		snprintf(where, sizeof(where),
		         "line %ld: ", line_of_record(feed->file, strtol(at + 7, NULL, 10)));
	size = 4 * strlen(feed->file) + strlen(where) + 16;
	prefix = malloc(size);
	snprintf(prefix, size, "storemon: %s: %s", shown_name(feed->file), where);
	fail_with(res, prefix);
}

void
stage(Feed *feed, bool (*keep)(const Feed *feed, const Record *r))
{
	FILE *f = fopen(feed->file, "rb");
	Record r = {0};
	long line = 1;
	int ncols;
	char sql[256 + 24 * MAX_COLUMNS];
	char prefix[32];
	PGresult *res;

	if (f == NULL)
		fail("%s: cannot read the file: %s", feed->file, strerror(errno));
	if (!next_record(f, &r, &line, feed->file))
		fail("%s: line 1: no header (the file is empty)", feed->file);
	ncols = r.fields;
	if (ncols > MAX_COLUMNS)
		fail("%s: line 1: the header has %d columns; at most %d", feed->file, ncols, MAX_COLUMNS);
	feed->header = header_array(&r);
	feed->header_raw = strdup(r.text);

	snprintf(sql, sizeof(sql), "CREATE TEMP TABLE pg_temp.storemon_stage_%s (line pg_catalog.int8",
	         feed->kind);
	for (int i = 1; i <= ncols; i++)
		snprintf(sql + strlen(sql), sizeof(sql) - strlen(sql), ", c%d pg_catalog.text", i);
	strcat(sql, ") ON COMMIT DROP");
	exec_ok(sql, PGRES_COMMAND_OK);
	snprintf(sql, sizeof(sql), "COPY pg_temp.storemon_stage_%s FROM STDIN (FORMAT csv)",
	         feed->kind);
	exec_ok(sql, PGRES_COPY_IN);

	while (next_record(f, &r, &line, feed->file))
	{
		if (r.fields != ncols)
		{
			PQputCopyEnd(conn, "wrong field count");
			PQclear(PQgetResult(conn));
			fail("%s: line %ld: %d fields, but the header has %d: %.200s", feed->file, r.line,
			     r.fields, ncols, feed->header_raw);
		}
		if (keep != NULL && !keep(feed, &r))
			continue;
		snprintf(prefix, sizeof(prefix), "%ld,", r.line);
		if (PQputCopyData(conn, prefix, (int)strlen(prefix)) != 1 ||
		    PQputCopyData(conn, r.text, (int)r.len) != 1 || PQputCopyData(conn, "\n", 1) != 1)
			fail("%s", PQerrorMessage(conn));
	}
	fclose(f);
	free(r.text);
	if (PQputCopyEnd(conn, NULL) != 1)
		fail("%s", PQerrorMessage(conn));
	res = PQgetResult(conn);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		fail_copy(res, feed);
	PQclear(res);
}

void
load(Feed *feeds, bool allow_empty)
{
	const char *params[7];
	PGresult *res;

	for (int i = 0; i < 3; i++)
	{
		params[2 * i] = feeds[i].file && !feeds[i].direct ? shown_name(feeds[i].file) : NULL;
		params[2 * i + 1] = feeds[i].header;
	}
	params[6] = allow_empty ? "true" : "false";
	res = PQexecParams(
	    conn,
	    "SELECT table_name, rows_loaded, note FROM storemon.storemon_load_staged("
	    "$1, $2::pg_catalog.text[], $3, $4::pg_catalog.text[], $5, $6::pg_catalog.text[], "
	    "$7::pg_catalog.bool)",
	    7, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		fail_with(res, NULL);
	/* The staged rows come in the feeds' order (status, hours, zones), as do the feeds. */
	for (int i = 0, row = 0; i < 3; i++)
		if (feeds[i].file != NULL && feeds[i].direct)
			printf("%s%s\n", output_prefix, feeds[i].summary);
		else if (feeds[i].file != NULL && row < PQntuples(res))
		{
			printf("%s%s: %s rows %s\n", output_prefix, PQgetvalue(res, row, 0),
			       PQgetvalue(res, row, 1), PQgetvalue(res, row, 2));
			row++;
		}
	PQclear(res);
}

/* Notices of VACUUM: a role that does not own the tables may not vacuum them. */
static bool vacuum_skipped = false;

static void
vacuum_notice(void *arg, const PGresult *res)
{
	const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

	(void)arg;

	if (msg != NULL && strstr(msg, "skipping") != NULL)
		vacuum_skipped = true;
	else
		fputs(PQresultErrorMessage(res), stderr);
}

/* "VACUUM (ANALYZE) " or "ANALYZE " and the loaded tables frozen or not; "" for none. */
static void
maintenance_sql(char *sql, const Feed *feeds, const char *command, bool frozen)
{
	static const char *const tables[3] = {"storemon.store_status", "storemon.menu_hours",
	                                      "storemon.timezones"};
	bool first = true;

	sql[0] = '\0';
	for (int i = 0; i < 3; i++)
		if (feeds[i].file != NULL && feeds[i].frozen == frozen)
		{
			strcat(sql, first ? command : ", ");
			strcat(sql, tables[i]);
			first = false;
		}
}

void
vacuum_loaded(const Feed *feeds)
{
	char sql[160];

	PQsetNoticeReceiver(conn, vacuum_notice, NULL);
	/* A table loaded frozen is all-visible already: only its statistics are new. */
	maintenance_sql(sql, feeds, "ANALYZE ", true);
	if (sql[0] != '\0')
		exec_ok(sql, PGRES_COMMAND_OK);
	maintenance_sql(sql, feeds, "VACUUM (ANALYZE) ", false);
	if (sql[0] != '\0')
		exec_ok(sql, PGRES_COMMAND_OK);
	if (vacuum_skipped)
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
		int k = strcmp(argv[i], "--status") == 0  ? 0
		        : strcmp(argv[i], "--hours") == 0 ? 1
		        : strcmp(argv[i], "--zones") == 0 ? 2
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

int
main(int argc, char **argv)
{
	Options o = {{{"status", NULL, NULL, NULL, false, "", false},
	              {"hours", NULL, NULL, NULL, false, "", false},
	              {"zones", NULL, NULL, NULL, false, "", false}},
	             {NULL},
	             {NULL},
	             0,
	             false,
	             true,
	             NULL};
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
		load_sharded(&o);
		PQfinish(conn);
		return 0;
	}
	PQclear(res);
	if (o.shards != NULL)
		fail("--shards is for a coordinator (storemon_coordinator); this database is not one");
	exec_ok("BEGIN", PGRES_COMMAND_OK);
	o.feeds[0].direct = o.feeds[0].file != NULL && load_status_direct(&o.feeds[0], NULL);
	o.feeds[1].direct = o.feeds[1].file != NULL && load_hours_direct(&o.feeds[1], NULL);
	for (int k = 0; k < 3; k++)
		if (o.feeds[k].file != NULL && !o.feeds[k].direct)
			stage(&o.feeds[k], NULL);
	load(o.feeds, o.allow_empty);
	exec_ok("COMMIT", PGRES_COMMAND_OK);
	if (o.vacuum)
		vacuum_loaded(o.feeds);
	PQfinish(conn);
	return 0;
}
