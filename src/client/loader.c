/*
 * loader.c — a run of storemon-load (loader.h): how it ends on an error,
 * its connections, and how it shows names.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader.h"

void
loader_exit(Loader *l, int code)
{
	void (*on_error)(void *) = l->on_error;

	l->on_error = NULL; /* once, even if it fails itself */
	if (code != 0 && on_error != NULL)
		on_error(l->on_error_arg);
	while (l->nconns > 0)
		PQfinish(l->conns[--l->nconns]);
	exit(code);
}

void
loader_fail(Loader *l, const char *fmt, ...)
{
	va_list ap;

	fputs("storemon-load: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	loader_exit(l, 1);
}

void *
loader_realloc(Loader *l, void *p, size_t size)
{
	if ((p = realloc(p, size)) == NULL)
		loader_fail(l, "out of memory");
	return p;
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
loader_fail_with(Loader *l, PGconn *conn, PGresult *res, const char *where)
{
	print_error(conn, res, where, false);
	loader_exit(l, 1);
}

void
loader_fail_feed(Loader *l, PGconn *conn, PGresult *res, const Feed *feed)
{
	char *shown = shown_name(l, feed->file);
	size_t size = strlen(shown) + 16;
	char *prefix = loader_realloc(l, NULL, size);

	snprintf(prefix, size, "storemon: %s: ", shown);
	/* the context says where the COPY was, in the server's words */
	print_error(conn, res, prefix, true);
	loader_exit(l, 1);
}

bool
result_is(PGresult *res, ExecStatusType expected)
{
	bool good = PQresultStatus(res) == expected;

	PQclear(res);
	return good;
}

bool
ask_true(PGconn *conn, const char *sql, const char *param)
{
	PGresult *res = PQexecParams(conn, sql, param != NULL, NULL, &param, NULL, NULL, 0);
	bool yes = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
	           strcmp(PQgetvalue(res, 0, 0), "t") == 0;

	PQclear(res);
	return yes;
}

PGconn *
loader_connect(Loader *l, const char *const *keys, const char *const *vals)
{
	PGconn *c = PQconnectdbParams(keys, vals, 1);

	if (l->nconns == LOADER_MAX_CONNS)
		loader_fail(l, "more than %d connections", LOADER_MAX_CONNS);
	l->conns[l->nconns++] = c;
	/* What a database or role setting put on search_path is gone before anything else runs. */
	if (PQstatus(c) == CONNECTION_OK &&
	    !result_is(PQexec(c, "SELECT pg_catalog.set_config('search_path', '', false)"),
	               PGRES_TUPLES_OK))
		loader_fail(l, "cannot set an empty search_path: %s", PQerrorMessage(c));
	return c;
}

void
exec_ok(Loader *l, PGconn *conn, const char *sql, ExecStatusType expected)
{
	PGresult *res = PQexec(conn, sql);

	if (PQresultStatus(res) != expected)
		loader_fail(l, "%s", PQerrorMessage(conn));
	PQclear(res);
}

bool
utf8_client(PGconn *conn)
{
	return strcmp(pg_encoding_to_char(PQclientEncoding(conn)), "UTF8") == 0;
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

/*
 * The file name as messages show it: any path is accepted, but the server
 * takes only valid text, so control characters and bytes that are not
 * UTF-8 are written as \xNN.  The name is never part of any SQL.
 */
char *
shown_name(Loader *l, const char *name)
{
	char *out = loader_realloc(l, NULL, 4 * strlen(name) + 1);
	char *o = out;

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
