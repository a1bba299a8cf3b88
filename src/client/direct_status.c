/*
 * direct_status.c — the polls file straight into store_status.
 *
 * The staged load (storemon_load.c, storemon_load_staged) copies every
 * record into a temporary table of text and then INSERTs it with casts,
 * trims and checks: two passes over two million rows, most of the load's
 * time.  Most feeds are already exactly what that INSERT would store: ids
 * without surrounding spaces, statuses written "active" or "inactive",
 * timestamps of the feed's shape.  Such a file is sent with one COPY into
 * store_status itself, so the rows are the same:
 *
 *  - in binary, the timestamps converted here (sm_feed_timestamp_us, the
 *    server's own value for the feed's shapes): the server parses no CSV
 *    and no timestamp, half the COPY's time;
 *  - as CSV with the session's TimeZone UTC, as the staged load sets it,
 *    when a timestamp has a shape left to the server (an offset, 24:00);
 *  - with FREEZE when store_status was empty and this role may truncate
 *    it: the rows are written frozen and all-visible, so the first report
 *    reads them from the index alone and VACUUM has nothing to do.
 *
 * It is only a fast path.  At the first record that is not already clean
 * (a trim or lower-casing to do, a field missing, a bad value), or when the
 * COPY fails (a date that does not exist, an id too long for the index),
 * everything it did is rolled back to a savepoint and the file goes the
 * staged way, which loads what can be loaded and names the first bad row
 * with the messages it always gave.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
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

	if (!clean_store_id(id))
		return false;
	if (strcmp(status, "active") != 0 && strcmp(status, "inactive") != 0)
		return false;
	return ts[0] != '\0' && sm_feed_timestamp_shape(ts, strlen(ts));
}

/* One record in COPY's binary format: id, timestamp, status. */
static void
put_binary_record(CopyBuffer *b, const char *id, int64_t us, const char *status)
{
	size_t idlen = strlen(id), stlen = strlen(status);
	size_t need = 2 + 4 + idlen + 4 + 8 + 4 + stlen;

	if (b->len + need > sizeof(b->data))
		flush_copy(b);
	if (need > sizeof(b->data))
		fail("a field of %zu bytes is too long", idlen);
	put_be(b, 3, 2);
	put_be(b, idlen, 4);
	memcpy(b->data + b->len, id, idlen);
	b->len += idlen;
	put_be(b, 8, 4);
	put_be(b, (uint64_t)us, 8);
	put_be(b, stlen, 4);
	memcpy(b->data + b->len, status, stlen);
	b->len += stlen;
}

/*
 * Lines in the file, counted up to limit + 1: an upper bound of its records
 * for the index decision, which only asks whether there are more than the
 * table holds (a first load reads a few hundred kilobytes, not the file).
 */
static long
count_lines(const char *file, long limit)
{
	FILE *f = fopen(file, "rb");
	char block[1 << 16];
	size_t n;
	long lines = 0;

	if (f == NULL)
		return 0;
	while (lines <= limit && (n = fread(block, 1, sizeof(block), f)) > 0)
		for (char *p = block; (p = memchr(p, '\n', block + n - p)) != NULL; p++)
			lines++;
	fclose(f);
	return lines;
}

/* The line count that decides as bulk_drop_indexes would on the whole file. */
static long
lines_for_index_decision(const char *file)
{
	PGresult *res =
	    PQexec(conn, "SELECT greatest(reltuples, 10000)::pg_catalog.int8 FROM pg_catalog.pg_class "
	                 "WHERE oid OPERATOR(pg_catalog.=) "
	                 "'storemon.store_status'::pg_catalog.regclass");
	long limit = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1
	                 ? atol(PQgetvalue(res, 0, 0))
	                 : -1;

	PQclear(res);
	return count_lines(file, limit < 0 ? LONG_MAX - 1 : limit);
}

/* How a COPY of the file ended on the client's side. */
typedef enum CopyOutcome
{
	SENT_ALL,  /* every record sent */
	NOT_CLEAN, /* a record for the staged way */
	NOT_BINARY /* a clean record whose timestamp only the server parses */
} CopyOutcome;

/* Stream the clean records, in binary or as CSV, until one is not. */
static CopyOutcome
copy_clean_records(FILE *f, const Feed *feed, bool (*keep)(const Feed *, const Record *), int ncols,
                   const int *col, bool binary)
{
	static const char binary_header[19] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";
	FieldReader fr = {.line = 2};
	char **fields = fr.fields;
	int n;
	CopyOutcome outcome = SENT_ALL;
	static CopyBuffer out;

	out.len = 0;
	if (binary)
	{
		memcpy(out.data, binary_header, sizeof(binary_header));
		out.len = sizeof(binary_header);
	}
	while (outcome == SENT_ALL && (n = next_kept_fields(&fr, f, feed, keep)) >= 0)
	{
		int64_t us;

		if (n != ncols || !clean(fields, col))
			outcome = NOT_CLEAN;
		else if (!binary)
		{
			put_csv_field(&out, fields[col[0]], ',');
			put_csv_field(&out, fields[col[2]], ',');
			put_csv_field(&out, fields[col[1]], '\n');
		}
		else if (sm_feed_timestamp_us(fields[col[2]], strlen(fields[col[2]]), &us))
			put_binary_record(&out, fields[col[0]], us, fields[col[1]]);
		else
			outcome = NOT_BINARY;
	}
	if (outcome == SENT_ALL)
	{
		if (binary)
			put_be(&out, 0xFFFF, 2); /* the trailer: a field count of -1 */
		flush_copy(&out);
	}
	field_reader_free(&fr);
	return outcome;
}

/* What one attempt at the direct load did. */
typedef struct Attempt
{
	CopyOutcome outcome; /* SENT_ALL: and the server took it all */
	bool refused;        /* the server refused a record, or a step failed */
	long rows;
	bool rebuilt; /* the indexes were dropped and built again in bulk */
	bool frozen;  /* COPY FREEZE into the emptied table */
} Attempt;

static bool
rebuild_indexes(const char *defs)
{
	const char *params[1] = {defs};

	return result_is(
	    PQexecParams(conn, "SELECT storemon_internal.stage_rebuild_indexes($1::pg_catalog.text[])",
	                 1, NULL, params, NULL, NULL, 0),
	    PGRES_TUPLES_OK);
}

/*
 * One COPY of the file from its first record, inside the savepoint
 * storemon_direct: truncate if empty, drop the indexes for a bulk load,
 * COPY, build them again.
 */
static Attempt
attempt(FILE *f, const Feed *feed, bool (*keep)(const Feed *, const Record *), int ncols,
        const int *col, bool binary, long lines)
{
	bool freeze = truncate_if_empty("storemon.store_status");
	Attempt a = {NOT_CLEAN, true, 0, false, freeze};
	char count[24], copy[160];
	const char *params[1] = {count};
	PGresult *res;
	char *defs = NULL;

	snprintf(count, sizeof(count), "%ld", lines);
	snprintf(copy, sizeof(copy),
	         "COPY storemon.store_status (store_id, timestamp_utc, status) FROM STDIN "
	         "(FORMAT %s%s)",
	         binary ? "binary" : "csv", freeze ? ", FREEZE" : "");
	res = PQexecParams(conn, "SELECT storemon_internal.bulk_drop_indexes($1::pg_catalog.int8)", 1,
	                   NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK && !PQgetisnull(res, 0, 0))
		defs = strdup(PQgetvalue(res, 0, 0));
	if (PQresultStatus(res) == PGRES_TUPLES_OK &&
	    result_is(PQexec(conn, "SET LOCAL TimeZone = 'UTC'"), PGRES_COMMAND_OK) &&
	    result_is(PQexec(conn, copy), PGRES_COPY_IN))
	{
		PGresult *copied;

		a.outcome = copy_clean_records(f, feed, keep, ncols, col, binary);
		PQputCopyEnd(conn, a.outcome == SENT_ALL ? NULL : "a record for the slower way");
		copied = PQgetResult(conn);
		a.refused = PQresultStatus(copied) != PGRES_COMMAND_OK;
		if (!a.refused)
			a.rows = atol(PQcmdTuples(copied));
		PQclear(copied);
	}
	PQclear(res);
	if (a.outcome == SENT_ALL && !a.refused && defs != NULL)
	{
		a.refused = !rebuild_indexes(defs);
		a.rebuilt = true;
	}
	free(defs);
	return a;
}

bool
load_status_direct(Feed *feed, bool (*keep)(const Feed *, const Record *))
{
	FILE *f = fopen(feed->file, "rb");
	int col[3];
	static const char *const names[] = {"store_id", NULL, "status", NULL, "timestamp_utc", NULL};
	int ncols = f != NULL ? read_header_columns(f, feed, names, 3, col) : -1;
	long header_end = f != NULL ? ftell(f) : -1;
	long lines;
	Attempt a;

	if (ncols < 0 || !result_is(PQexec(conn, "SAVEPOINT storemon_direct"), PGRES_COMMAND_OK))
	{
		if (f != NULL)
			fclose(f);
		return false; /* the staged way says what is wrong */
	}
	lines = lines_for_index_decision(feed->file);
	a = attempt(f, feed, keep, ncols, col, true, lines);
	if (a.outcome == NOT_BINARY)
	{
		/* A timestamp of a shape only the server parses: all of it as CSV. */
		exec_ok("ROLLBACK TO SAVEPOINT storemon_direct", PGRES_COMMAND_OK);
		if (fseek(f, header_end, SEEK_SET) != 0)
			fail("%s: %s", feed->file, strerror(errno));
		a = attempt(f, feed, keep, ncols, col, false, lines);
	}
	fclose(f);
	if (a.outcome != SENT_ALL || a.refused)
	{
		exec_ok("ROLLBACK TO SAVEPOINT storemon_direct", PGRES_COMMAND_OK);
		exec_ok("RELEASE SAVEPOINT storemon_direct", PGRES_COMMAND_OK);
		return false;
	}
	exec_ok("RELEASE SAVEPOINT storemon_direct", PGRES_COMMAND_OK);
	feed->frozen = a.frozen;
	snprintf(feed->summary, sizeof(feed->summary), "store_status: %ld rows appended%s", a.rows,
	         a.rebuilt ? "; indexes rebuilt in bulk" : "");
	return true;
}
