/*
 * direct_load.c — what the direct loads (direct_status.c, direct_hours.c)
 * share: COPY data written in 64 kB blocks, as CSV fields or binary
 * integers; finding their columns in a file's header as the staged load
 * finds them; reading records as fields; the store_id check; emptying an
 * empty table so that COPY may freeze its rows.
 */
#include <stdlib.h>
#include <string.h>

#include "load.h"

void
flush_copy(CopyBuffer *b)
{
	if (b->len > 0 && PQputCopyData(conn, b->data, (int)b->len) != 1)
		fail("%s", PQerrorMessage(conn));
	b->len = 0;
}

void
put_csv_field(CopyBuffer *b, const char *v, char after)
{
	size_t worst = 2 * strlen(v) + 3;

	if (b->len + worst > sizeof(b->data))
		flush_copy(b);
	if (worst > sizeof(b->data))
		fail("a field of %zu bytes is too long", strlen(v));
	b->data[b->len++] = '"';
	for (; *v; v++)
	{
		if (*v == '"')
			b->data[b->len++] = '"';
		b->data[b->len++] = *v;
	}
	b->data[b->len++] = '"';
	b->data[b->len++] = after;
}

void
put_be(CopyBuffer *b, uint64_t v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--)
		b->data[b->len++] = (char)(v >> (8 * i));
}

bool
result_is(PGresult *res, ExecStatusType expected)
{
	bool good = PQresultStatus(res) == expected;

	PQclear(res);
	return good;
}

/* Is field one of the NULL-terminated names at *names? */
static bool
header_is_one_of(const char *field, const char *const *names)
{
	for (; *names != NULL; names++)
		if (header_is(field, *names))
			return true;
	return false;
}

int
read_header_columns(FILE *f, const Feed *feed, const char *const *names, int want, int *col)
{
	FieldReader fr = {.line = 1}; /* the header is the first record */
	int ncols = next_kept_fields(&fr, f, feed, NULL);

	for (int k = 0; k < want && ncols >= 0; k++)
	{
		col[k] = -1;
		for (int i = 0; i < ncols && i < MAX_COLUMNS && col[k] < 0; i++)
			if (header_is_one_of(fr.fields[i], names))
				col[k] = i;
		if (col[k] < 0)
			ncols = -1;
		while (*names++ != NULL) /* past this column's names and their NULL */
			;
	}
	field_reader_free(&fr);
	return ncols > MAX_COLUMNS ? -1 : ncols;
}

int
next_kept_fields(FieldReader *fr, FILE *f, const Feed *feed,
                 bool (*keep)(const Feed *, const Record *))
{
	while (next_record(f, &fr->r, &fr->line, feed->file))
		if (keep == NULL || keep(feed, &fr->r))
			return record_fields(&fr->r, &fr->buf, &fr->cap, fr->fields, MAX_COLUMNS);
	return -1;
}

void
field_reader_free(FieldReader *fr)
{
	free(fr->r.text);
	free(fr->buf);
}

bool
clean_store_id(const char *id)
{
	size_t len = strlen(id);

	/* empty (or NULL), too long for the index, or to be trimmed */
	return len > 0 && len <= 1024 && id[0] != ' ' && id[len - 1] != ' ';
}

/* COPY FREEZE needs the table truncated in its own subtransaction (load.h). */
bool
truncate_if_empty(const char *table)
{
	const char *params[1] = {table};
	PGresult *res = PQexecParams(conn,
	                             "SELECT pg_catalog.has_table_privilege(c.oid, 'TRUNCATE') "
	                             "AND pg_catalog.has_table_privilege(c.oid, 'SELECT') "
	                             "AND NOT c.relrowsecurity "
	                             "AND pg_catalog.current_setting('transaction_isolation') "
	                             "OPERATOR(pg_catalog.=) 'read committed' "
	                             "FROM pg_catalog.pg_class c "
	                             "WHERE c.oid OPERATOR(pg_catalog.=) $1::pg_catalog.regclass",
	                             1, NULL, params, NULL, NULL, 0);
	bool may = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
	           strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	bool empty = false;
	char sql[128];

	PQclear(res);
	if (may)
	{
		/* Before any lock: a table with rows is never locked here. */
		snprintf(sql, sizeof(sql), "SELECT NOT EXISTS (SELECT FROM ONLY %s)", table);
		res = PQexec(conn, sql);
		may = PQresultStatus(res) == PGRES_TUPLES_OK && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
		PQclear(res);
	}
	if (!may || !result_is(PQexec(conn, "SAVEPOINT storemon_truncate"), PGRES_COMMAND_OK))
		return false;
	snprintf(sql, sizeof(sql), "LOCK TABLE ONLY %s IN ACCESS EXCLUSIVE MODE NOWAIT", table);
	if (result_is(PQexec(conn, sql), PGRES_COMMAND_OK))
	{
		snprintf(sql, sizeof(sql), "SELECT NOT EXISTS (SELECT FROM ONLY %s)", table);
		res = PQexec(conn, sql);
		empty = PQresultStatus(res) == PGRES_TUPLES_OK && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
		PQclear(res);
	}
	snprintf(sql, sizeof(sql), "TRUNCATE ONLY %s", table);
	if (empty && result_is(PQexec(conn, sql), PGRES_COMMAND_OK))
	{
		exec_ok("RELEASE SAVEPOINT storemon_truncate", PGRES_COMMAND_OK);
		return true;
	}
	/* Not empty after all, or in use: let go of the lock at once. */
	exec_ok("ROLLBACK TO SAVEPOINT storemon_truncate", PGRES_COMMAND_OK);
	exec_ok("RELEASE SAVEPOINT storemon_truncate", PGRES_COMMAND_OK);
	return false;
}
