/*
 * direct_load.c — what the loads by COPY share: COPY data written in 64 kB
 * blocks, as CSV fields or binary integers, and the end of a COPY;
 * finding columns in a file's header as the staged load finds them; the
 * store_id check; emptying an empty table so that COPY may freeze its rows.
 */
#include <stdlib.h>
#include <string.h>

#include "load.h"

void
copy_flush(Target *t)
{
	if (t->out.len > 0 && PQputCopyData(t->conn, t->out.data, (int)t->out.len) != 1)
		fail("%s", PQerrorMessage(t->conn));
	t->out.len = 0;
}

void
copy_put(Target *t, const void *bytes, size_t n)
{
	if (t->out.len + n > sizeof(t->out.data))
		copy_flush(t);
	if (n > sizeof(t->out.data))
	{
		/* a record longer than the block goes as it is */
		if (PQputCopyData(t->conn, bytes, (int)n) != 1)
			fail("%s", PQerrorMessage(t->conn));
		return;
	}
	memcpy(t->out.data + t->out.len, bytes, n);
	t->out.len += n;
}

long
copy_end(Target *t, const Feed *feed)
{
	PGresult *res;
	long rows;

	copy_flush(t);
	if (PQputCopyEnd(t->conn, NULL) != 1)
		fail("%s", PQerrorMessage(t->conn));
	res = PQgetResult(t->conn);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		fail_feed(t->conn, res, feed);
	rows = atol(PQcmdTuples(res));
	PQclear(res);
	/* COPY leaves a NULL result behind before the connection is free */
	while ((res = PQgetResult(t->conn)) != NULL)
		PQclear(res);
	return rows;
}

void
put_csv_field(Target *t, const char *v, char after)
{
	char quote = '"';

	copy_put(t, &quote, 1);
	for (const char *run = v;; v++)
		if (*v == '"' || *v == '\0')
		{
			copy_put(t, run, (size_t)(v - run));
			if (*v == '\0')
				break;
			copy_put(t, "\"\"", 2);
			run = v + 1;
		}
	copy_put(t, &quote, 1);
	copy_put(t, &after, 1);
}

void
put_be(Target *t, uint64_t v, int bytes)
{
	unsigned char b[8];

	for (int i = 0; i < bytes; i++)
		b[i] = (unsigned char)(v >> (8 * (bytes - 1 - i)));
	copy_put(t, b, (size_t)bytes);
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

bool
find_columns(const Feed *feed, const char *const *names, int want, int *col)
{
	for (int k = 0; k < want; k++)
	{
		col[k] = -1;
		for (int i = 0; i < feed->ncols && i < MAX_COLUMNS && col[k] < 0; i++)
			if (header_is_one_of(feed->columns.field[i], names))
				col[k] = i;
		if (col[k] < 0)
			return false;
		while (*names++ != NULL) /* past this column's names and their NULL */
			;
	}
	return true;
}

bool
clean_store_id(const char *id)
{
	size_t len = strlen(id);

	/* empty (or NULL), too long for the index, or to be trimmed */
	return len > 0 && len <= 1024 && id[0] != ' ' && id[len - 1] != ' ';
}

/* SELECT NOT EXISTS (SELECT FROM ONLY table): is it empty? */
static bool
is_empty(PGconn *conn, const char *table)
{
	char sql[128];
	PGresult *res;
	bool empty;

	snprintf(sql, sizeof(sql), "SELECT NOT EXISTS (SELECT FROM ONLY %s)", table);
	res = PQexec(conn, sql);
	empty = PQresultStatus(res) == PGRES_TUPLES_OK && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return empty;
}

/* COPY FREEZE needs the table truncated in its own subtransaction (load.h). */
bool
truncate_if_empty(PGconn *conn, const char *table)
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
	/* Before any lock: a table with rows is never locked here. */
	may = may && is_empty(conn, table);
	if (!may || !result_is(PQexec(conn, "SAVEPOINT storemon_truncate"), PGRES_COMMAND_OK))
		return false;
	snprintf(sql, sizeof(sql), "LOCK TABLE ONLY %s IN ACCESS EXCLUSIVE MODE NOWAIT", table);
	if (result_is(PQexec(conn, sql), PGRES_COMMAND_OK))
		empty = is_empty(conn, table);
	snprintf(sql, sizeof(sql), "TRUNCATE ONLY %s", table);
	if (empty && result_is(PQexec(conn, sql), PGRES_COMMAND_OK))
	{
		exec_ok(conn, "RELEASE SAVEPOINT storemon_truncate", PGRES_COMMAND_OK);
		return true;
	}
	/* Not empty after all, or in use: let go of the lock at once. */
	exec_ok(conn, "ROLLBACK TO SAVEPOINT storemon_truncate", PGRES_COMMAND_OK);
	exec_ok(conn, "RELEASE SAVEPOINT storemon_truncate", PGRES_COMMAND_OK);
	return false;
}
