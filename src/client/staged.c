/*
 * staged.c — the staged way (staged.h): each record into a temporary table
 * of text by COPY, prefixed with the physical line it starts on, then
 * storemon.storemon_load_staged(), which validates and loads in the same
 * transaction (sql/storemon.sql) and names the first bad row with its
 * file, line and value.  The file names and header fields reach it only as
 * bound parameters.
 */
#include <stdlib.h>
#include <string.h>

#include "staged.h"

void
staged_begin(Target *t, Feed *feed)
{
	char sql[256 + 24 * MAX_COLUMNS];

	snprintf(sql, sizeof(sql), "CREATE TEMP TABLE pg_temp.storemon_stage_%s (line pg_catalog.int8",
	         feed->name);
	for (int i = 1; i <= feed->ncols; i++)
		snprintf(sql + strlen(sql), sizeof(sql) - strlen(sql), ", c%d pg_catalog.text", i);
	strcat(sql, ") ON COMMIT DROP");
	exec_ok(t->loader, t->conn, sql, PGRES_COMMAND_OK);
	snprintf(sql, sizeof(sql), "COPY pg_temp.storemon_stage_%s FROM STDIN (FORMAT csv)",
	         feed->name);
	exec_ok(t->loader, t->conn, sql, PGRES_COPY_IN);
	t->out.len = 0;
	t->feeds[feed->kind].way = WAY_STAGED;
	t->feeds[feed->kind].staged = true;
}

void
staged_record(Target *t, Feed *feed, const CsvRecord *r)
{
	char prefix[24];
	int n;

	if (r->fields != feed->ncols)
	{
		PQputCopyEnd(t->conn, "wrong field count");
		PQclear(PQgetResult(t->conn));
		loader_fail(t->loader, "%s: line %ld: %d fields, but the header has %d: %.200s", feed->file,
		            r->line, r->fields, feed->ncols, feed->header_raw);
	}
	n = snprintf(prefix, sizeof(prefix), "%ld,", r->line);
	copy_put(t, prefix, (size_t)n);
	copy_put(t, r->text, r->len);
	copy_put(t, "\n", 1);
	t->feeds[feed->kind].staged_records++;
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
staged_load(Target *t, Feed *feeds, bool allow_empty, const bool *include)
{
	const char *params[7];
	PGresult *res = NULL;
	bool any = false;

	for (int i = 0; i < NFEEDS; i++)
	{
		bool staged = feeds[i].file && t->feeds[i].staged && include[i];

		params[2 * i] = staged ? shown_name(t->loader, feeds[i].file) : NULL;
		params[2 * i + 1] = feeds[i].header;
		any |= staged;
	}
	params[6] = allow_empty ? "true" : "false";
	if (params[2] != NULL)
		lock_for_replace(t, "storemon.menu_hours");
	if (params[4] != NULL)
		lock_for_replace(t, "storemon.timezones");
	if (any)
	{
		res =
		    PQexecParams(t->conn,
		                 "SELECT table_name, rows_loaded, note FROM storemon.storemon_load_staged("
		                 "$1, $2::pg_catalog.text[], $3, $4::pg_catalog.text[], $5, "
		                 "$6::pg_catalog.text[], $7::pg_catalog.bool)",
		                 7, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_TUPLES_OK)
			loader_fail_with(t->loader, t->conn, res, NULL);
	}
	/* The staged rows come in the feeds' order (status, hours, zones), as do the feeds. */
	for (int i = 0, row = 0; i < NFEEDS; i++)
		if (params[2 * i] != NULL && row < PQntuples(res))
			print_staged(t, i, res, row++);
		else if (feeds[i].file != NULL && !t->feeds[i].staged)
			print_direct(t, i);
	PQclear(res);
}
