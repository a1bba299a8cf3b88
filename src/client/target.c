/*
 * target.c — one database being loaded (target.h): what it can take, COPY
 * data written in 64 kB blocks (as CSV fields or binary integers) and the
 * end of a COPY, the lock that orders replacements, and the vacuum after
 * the commit.
 */
#include <stdlib.h>
#include <string.h>

#include "target.h"

void
target_init(Target *t, Loader *l, PGconn *conn, const char *prefix)
{
	memset(t, 0, sizeof(*t));
	t->loader = l;
	t->conn = conn;
	t->prefix = prefix;
	/* storemon 1.0 lacks it: such a database is loaded the staged way only */
	t->can_direct = ask_true(conn,
	                         "SELECT pg_catalog.to_regprocedure("
	                         "'storemon_internal.bulk_drop_indexes(pg_catalog.int8)') IS NOT NULL",
	                         NULL);
	t->rebuild_own = ask_true(
	    conn,
	    "SELECT pg_catalog.to_regprocedure('storemon_internal.bulk_rebuild_indexes()') IS NOT NULL",
	    NULL);
}

void
copy_flush(Target *t)
{
	if (t->out.len > 0 && PQputCopyData(t->conn, t->out.data, (int)t->out.len) != 1)
		loader_fail(t->loader, "%s", PQerrorMessage(t->conn));
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
			loader_fail(t->loader, "%s", PQerrorMessage(t->conn));
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
		loader_fail(t->loader, "%s", PQerrorMessage(t->conn));
	res = PQgetResult(t->conn);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		loader_fail_feed(t->loader, t->conn, res, feed);
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

/*
 * A replacement (DELETE, then COPY or INSERT) of hours or zones is ordered
 * after any other: SHARE ROW EXCLUSIVE conflicts with itself and with
 * writers but not with readers, and the DELETE grant allows it.  In READ
 * COMMITTED the DELETE's snapshot is taken after the lock is granted, so it
 * sees and deletes what an earlier load committed: the table ends as one
 * file, never the union of two.
 */
void
lock_for_replace(Target *t, const char *table)
{
	char sql[128];
	PGresult *res;

	snprintf(sql, sizeof(sql), "LOCK TABLE ONLY %s IN SHARE ROW EXCLUSIVE MODE", table);
	res = PQexec(t->conn, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		loader_fail_with(t->loader, t->conn, res, "storemon: ");
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
	return ask_true(conn,
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
	                table);
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
		exec_ok(t->loader, t->conn, sql, PGRES_COMMAND_OK);
	maintenance_sql(sql, t, feeds, "VACUUM (ANALYZE) ", false, &refused);
	if (sql[0] != '\0')
		exec_ok(t->loader, t->conn, sql, PGRES_COMMAND_OK);
	if (refused)
		fputs("storemon-load: note: this role does not own the tables, so they were not "
		      "vacuumed; reports read the new polls from the table until autovacuum has "
		      "passed (or run VACUUM (ANALYZE) on them as their owner)\n",
		      stderr);
}
