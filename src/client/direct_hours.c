/*
 * direct_hours.c — the hours file straight into menu_hours.
 *
 * The staged load checks every hours row with three regular expressions
 * and then INSERTs it with casts: about 0.4 s of a Loop-scale load for
 * 87,000 rows.  A file whose records are already what that INSERT would
 * store (ids without surrounding spaces, a day written 0 to 6, times
 * h:mm[:ss[.ffffff]] with nothing around them) replaces menu_hours with one
 * DELETE and one COPY of the same text, which the server's own input
 * functions read as the cast would.
 *
 * Like direct_status.c it is only a fast path: at the first record that is
 * not clean, when the file has no data rows, or when the server refuses a
 * value (25:00), everything is rolled back to a savepoint and the file
 * goes the staged way with its messages.
 */
#include <stdlib.h>
#include <string.h>

#include "load.h"

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* d{1,2}:d{2}(:d{2}(.d{1,6})?)? and nothing else: the staged check's time without spaces. */
static bool
is_clean_time(const char *t)
{
	int n = 0;

	while (is_digit(*t) && n < 2)
		t++, n++;
	if (n == 0 || *t++ != ':' || !is_digit(t[0]) || !is_digit(t[1]))
		return false;
	t += 2;
	if (*t == '\0')
		return true;
	if (*t++ != ':' || !is_digit(t[0]) || !is_digit(t[1]))
		return false;
	t += 2;
	if (*t == '\0')
		return true;
	if (*t++ != '.')
		return false;
	for (n = 0; is_digit(*t) && n < 7; t++)
		n++;
	return *t == '\0' && n >= 1 && n <= 6;
}

/* Is the record what the staged INSERT would store, untrimmed? */
static bool
clean(char *const *f, const int *col)
{
	const char *id = f[col[0]];
	const char *day = f[col[1]];
	size_t idlen = strlen(id);

	return idlen > 0 && id[0] != ' ' && id[idlen - 1] != ' ' && day[0] >= '0' && day[0] <= '6' &&
	       day[1] == '\0' && is_clean_time(f[col[2]]) && is_clean_time(f[col[3]]);
}

/* Send the clean records; the count sent, or -1 at the first that is not. */
static long
copy_clean_hours(FILE *f, const Feed *feed, bool (*keep)(const Feed *, const Record *), int ncols,
                 const int *col)
{
	Record r = {0};
	long line = 2, sent = 0;
	char *buf = NULL;
	size_t cap = 0;
	char *fields[MAX_COLUMNS];
	static CopyBuffer out;

	out.len = 0;
	while (sent >= 0 && next_record(f, &r, &line, feed->file))
	{
		if (keep != NULL && !keep(feed, &r))
			continue;
		if (record_fields(&r, &buf, &cap, fields, MAX_COLUMNS) != ncols || !clean(fields, col))
			sent = -1;
		else
		{
			for (int k = 0; k < 4; k++)
				put_csv_field(&out, fields[col[k]], k < 3 ? ',' : '\n');
			sent++;
		}
	}
	if (sent > 0)
		flush_copy(&out);
	free(r.text);
	free(buf);
	return sent;
}

bool
load_hours_direct(Feed *feed, bool (*keep)(const Feed *, const Record *))
{
	static const char *const names[] = {
	    "store_id",         NULL, "day_of_week",    "dayofweek", "day", NULL,
	    "start_time_local", NULL, "end_time_local", NULL};
	FILE *f = fopen(feed->file, "rb");
	int col[4];
	int ncols = f != NULL ? read_header_columns(f, feed, names, 4, col) : -1;
	long sent = -1;
	bool loaded = false;
	PGresult *copied;

	if (ncols < 0 || !result_is(PQexec(conn, "SAVEPOINT storemon_direct"), PGRES_COMMAND_OK))
	{
		if (f != NULL)
			fclose(f);
		return false; /* the staged way says what is wrong */
	}
	if (result_is(PQexec(conn, "DELETE FROM storemon.menu_hours"), PGRES_COMMAND_OK) &&
	    result_is(PQexec(conn, "COPY storemon.menu_hours (store_id, day_of_week, start_time_local, "
	                           "end_time_local) FROM STDIN (FORMAT csv)"),
	              PGRES_COPY_IN))
	{
		sent = copy_clean_hours(f, feed, keep, ncols, col);
		PQputCopyEnd(conn, sent > 0 ? NULL : "a record for the staged way");
		copied = PQgetResult(conn);
		loaded = sent > 0 && PQresultStatus(copied) == PGRES_COMMAND_OK;
		PQclear(copied);
	}
	fclose(f);
	if (!loaded)
	{
		exec_ok("ROLLBACK TO SAVEPOINT storemon_direct", PGRES_COMMAND_OK);
		exec_ok("RELEASE SAVEPOINT storemon_direct", PGRES_COMMAND_OK);
		return false;
	}
	exec_ok("RELEASE SAVEPOINT storemon_direct", PGRES_COMMAND_OK);
	snprintf(feed->summary, sizeof(feed->summary), "menu_hours: %ld rows replaced", sent);
	return true;
}
