/*
 * direct_load.c — what the direct ways share (direct_load.h): finding their
 * columns in a file's header as the staged load finds them; the store_id
 * check; emptying an empty table so that COPY may freeze its rows.
 */
#include <stdlib.h>
#include <string.h>

#include "direct_load.h"

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

	snprintf(sql, sizeof(sql), "SELECT NOT EXISTS (SELECT FROM ONLY %s)", table);
	return ask_true(conn, sql, NULL);
}

/* COPY FREEZE needs the table truncated in its own subtransaction (direct_load.h). */
bool
truncate_if_empty(Target *t, const char *table)
{
	PGconn *conn = t->conn;
	bool may = ask_true(conn,
	                    "SELECT pg_catalog.has_table_privilege(c.oid, 'TRUNCATE') "
	                    "AND pg_catalog.has_table_privilege(c.oid, 'SELECT') "
	                    "AND NOT c.relrowsecurity "
	                    "AND pg_catalog.current_setting('transaction_isolation') "
	                    "OPERATOR(pg_catalog.=) 'read committed' "
	                    "FROM pg_catalog.pg_class c "
	                    "WHERE c.oid OPERATOR(pg_catalog.=) $1::pg_catalog.regclass",
	                    table);
	bool empty = false;
	char sql[128];

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
		exec_ok(t->loader, conn, "RELEASE SAVEPOINT storemon_truncate", PGRES_COMMAND_OK);
		return true;
	}
	/* Not empty after all, or in use: let go of the lock at once. */
	exec_ok(t->loader, conn, "ROLLBACK TO SAVEPOINT storemon_truncate", PGRES_COMMAND_OK);
	exec_ok(t->loader, conn, "RELEASE SAVEPOINT storemon_truncate", PGRES_COMMAND_OK);
	return false;
}
