/*
 * direct_status.c — the polls file straight into store_status.
 *
 * The staged load (storemon_load.c, storemon_load_staged) copies every
 * record into a temporary table of text and then INSERTs it with casts,
 * trims and checks: two passes over two million rows, most of the load's
 * time.  Most feeds are already exactly what that INSERT would store: ids
 * without surrounding spaces, statuses written "active" or "inactive",
 * timestamps of the feed's shape.  Such a file is sent with one COPY into
 * store_status itself, with the session's TimeZone UTC as the staged load
 * sets it, so the rows are the same.
 *
 * It is only a fast path.  At the first record that is not already clean
 * (a trim or lower-casing to do, a field missing, a bad value), or when the
 * COPY fails (a date that does not exist, an id too long for the index),
 * everything it did is rolled back to a savepoint and the file goes the
 * staged way, which loads what can be loaded and names the first bad row
 * with the messages it always gave.
 */
#include <stdlib.h>
#include <string.h>

#include "feed_format.h"
#include "load.h"

/* Is the record already what the staged INSERT would store? */
static bool
clean(char *const *f, const int *col)
{
	const char *id = f[col[0]];
	const char *status = f[col[1]];
	const char *ts = f[col[2]];
	size_t idlen = strlen(id);

	if (idlen == 0 || id[0] == ' ' || id[idlen - 1] == ' ')
		return false; /* empty (or NULL), or to be trimmed */
	if (strcmp(status, "active") != 0 && strcmp(status, "inactive") != 0)
		return false;
	return ts[0] != '\0' && sm_feed_timestamp_shape(ts, strlen(ts));
}

/*
 * COPY data collected in blocks: one PQputCopyData per 64 kB, not several
 * per field (a libpq call per field cost as much as the server's parse).
 */
typedef struct CopyBuffer
{
	char data[1 << 16];
	size_t len;
} CopyBuffer;

static void
flush_copy(CopyBuffer *b)
{
	if (b->len > 0 && PQputCopyData(conn, b->data, (int)b->len) != 1)
		fail("%s", PQerrorMessage(conn));
	b->len = 0;
}

/* A field as a quoted CSV value, quotes doubled, then the separator. */
static void
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

/* Lines in the file: an upper bound of its records, for the index decision. */
static long
count_lines(const char *file)
{
	FILE *f = fopen(file, "rb");
	char block[1 << 16];
	size_t n;
	long lines = 0;

	if (f == NULL)
		return 0;
	while ((n = fread(block, 1, sizeof(block), f)) > 0)
		for (char *p = block; (p = memchr(p, '\n', block + n - p)) != NULL; p++)
			lines++;
	fclose(f);
	return lines;
}

static bool
ok(PGresult *res, ExecStatusType expected)
{
	bool good = PQresultStatus(res) == expected;

	PQclear(res);
	return good;
}

/* Stream the clean records; false at the first one that is not. */
static bool
copy_clean_records(FILE *f, const Feed *feed, bool (*keep)(const Feed *, const Record *), int ncols,
                   const int *col)
{
	Record r = {0};
	long line = 2;
	char *buf = NULL;
	size_t cap = 0;
	char *fields[MAX_COLUMNS];
	bool all_clean = true;
	static CopyBuffer out;

	out.len = 0;
	while (all_clean && next_record(f, &r, &line, feed->file))
	{
		if (keep != NULL && !keep(feed, &r))
			continue;
		all_clean =
		    record_fields(&r, &buf, &cap, fields, MAX_COLUMNS) == ncols && clean(fields, col);
		if (all_clean)
		{
			put_csv_field(&out, fields[col[0]], ',');
			put_csv_field(&out, fields[col[2]], ',');
			put_csv_field(&out, fields[col[1]], '\n');
		}
	}
	if (all_clean)
		flush_copy(&out);
	free(r.text);
	free(buf);
	return all_clean;
}

/*
 * Read the header of f and find the three columns the staged load would
 * use, as it finds them (header_is).  Returns the header's field count, or
 * -1 when it has no header or lacks one of them.
 */
static int
read_header(FILE *f, const Feed *feed, int col[3])
{
	static const char *const names[3] = {"store_id", "status", "timestamp_utc"};
	Record header = {0};
	long line = 1;
	char *buf = NULL;
	size_t cap = 0;
	char *fields[MAX_COLUMNS];
	int ncols = -1;

	if (next_record(f, &header, &line, feed->file))
	{
		ncols = record_fields(&header, &buf, &cap, fields, MAX_COLUMNS);
		for (int k = 0; k < 3; k++)
		{
			col[k] = -1;
			for (int i = 0; i < ncols && i < MAX_COLUMNS && col[k] < 0; i++)
				if (header_is(fields[i], names[k]))
					col[k] = i;
			if (col[k] < 0)
				ncols = -1;
		}
	}
	free(header.text);
	free(buf);
	return ncols > MAX_COLUMNS ? -1 : ncols;
}

bool
load_status_direct(Feed *feed, bool (*keep)(const Feed *, const Record *))
{
	FILE *f = fopen(feed->file, "rb");
	int col[3];
	int ncols = f != NULL ? read_header(f, feed, col) : -1;
	char count[24];
	const char *params[1] = {count};
	PGresult *res;
	char *defs = NULL;
	bool loaded = false;
	long rows = 0;

	if (ncols < 0 || !ok(PQexec(conn, "SAVEPOINT storemon_direct"), PGRES_COMMAND_OK))
	{
		if (f != NULL)
			fclose(f);
		return false; /* the staged way says what is wrong */
	}

	snprintf(count, sizeof(count), "%ld", count_lines(feed->file));
	res = PQexecParams(conn, "SELECT storemon_internal.bulk_drop_indexes($1::bigint)", 1, NULL,
	                   params, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK && !PQgetisnull(res, 0, 0))
		defs = strdup(PQgetvalue(res, 0, 0));
	if (PQresultStatus(res) == PGRES_TUPLES_OK &&
	    ok(PQexec(conn, "SET LOCAL TimeZone = 'UTC'"), PGRES_COMMAND_OK) &&
	    ok(PQexec(conn, "COPY storemon.store_status (store_id, timestamp_utc, status) FROM STDIN "
	                    "(FORMAT csv)"),
	       PGRES_COPY_IN))
	{
		bool all_clean = copy_clean_records(f, feed, keep, ncols, col);
		PGresult *copied;

		PQputCopyEnd(conn, all_clean ? NULL : "a record to be cleaned: the staged load takes it");
		copied = PQgetResult(conn);
		loaded = all_clean && PQresultStatus(copied) == PGRES_COMMAND_OK;
		if (loaded)
			rows = atol(PQcmdTuples(copied));
		PQclear(copied);
	}
	PQclear(res);
	fclose(f);
	if (loaded && defs != NULL)
	{
		params[0] = defs;
		loaded = ok(PQexecParams(conn, "SELECT storemon_internal.stage_rebuild_indexes($1::text[])",
		                         1, NULL, params, NULL, NULL, 0),
		            PGRES_TUPLES_OK);
	}
	if (!loaded)
	{
		exec_ok("ROLLBACK TO SAVEPOINT storemon_direct", PGRES_COMMAND_OK);
		free(defs);
		return false;
	}
	exec_ok("RELEASE SAVEPOINT storemon_direct", PGRES_COMMAND_OK);
	printf("%sstore_status: %ld rows appended%s\n", output_prefix, rows,
	       defs != NULL ? "; indexes rebuilt in bulk" : "");
	free(defs);
	return true;
}
