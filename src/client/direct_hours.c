/*
 * direct_hours.c — the hours file straight into menu_hours.
 *
 * The staged load checks every hours row with three regular expressions
 * and then INSERTs it with casts: about 0.4 s of a Loop-scale load for
 * 87,000 rows.  A file whose records are already what that INSERT would
 * store (ids without surrounding spaces, a day written 0 to 6, times
 * h:mm[:ss[.ffffff]] with nothing around them) replaces menu_hours with one
 * DELETE and one COPY of the same text, which the server's own input
 * functions read as the cast would; into an empty menu_hours the role may
 * truncate, with FREEZE (see direct_status.c).
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
	const char *day = f[col[1]];

	return clean_store_id(f[col[0]]) && day[0] >= '0' && day[0] <= '6' && day[1] == '\0' &&
	       is_clean_time(f[col[2]]) && is_clean_time(f[col[3]]);
}

/*
 * The clean records, each kept as its id and its COPY line, to be sent in
 * store_id order: menu_hours' index then grows at its right edge instead
 * of splitting pages all over (120 ms against 180 ms for the Loop-scale
 * hours).  An hours file is small; its records are held in memory.
 */
typedef struct HoursLine
{
	size_t id, id_len; /* offsets in the arena */
	size_t line, line_len;
} HoursLine;

typedef struct HoursLines
{
	char *arena;
	size_t len, cap;
	HoursLine *lines;
	size_t n, lines_cap;
} HoursLines;

static void *
grow(void *p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return p;
	*cap = need > 2 * *cap ? need : 2 * *cap;
	if ((p = realloc(p, *cap * elem)) == NULL)
		fail("out of memory");
	return p;
}

static void
append(HoursLines *h, const char *bytes, size_t n)
{
	h->arena = grow(h->arena, &h->cap, h->len + n, 1);
	memcpy(h->arena + h->len, bytes, n);
	h->len += n;
}

static void
keep_line(HoursLines *h, char *const *fields, const int *col)
{
	HoursLine l;
	static CopyBuffer line_buffer;
	CopyBuffer *csv = &line_buffer;

	csv->len = 0;
	for (int k = 0; k < 4; k++)
		put_csv_field(csv, fields[col[k]], k < 3 ? ',' : '\n');
	l.id = h->len;
	l.id_len = strlen(fields[col[0]]);
	append(h, fields[col[0]], l.id_len);
	l.line = h->len;
	l.line_len = csv->len;
	append(h, csv->data, csv->len);
	h->lines = grow(h->lines, &h->lines_cap, h->n + 1, sizeof(HoursLine));
	h->lines[h->n++] = l;
}

static const char *sort_arena;

/* store_id order of COLLATE "C": bytes, then length. */
static int
by_store_id(const void *a, const void *b)
{
	const HoursLine *x = a, *y = b;
	size_t n = x->id_len < y->id_len ? x->id_len : y->id_len;
	int c = memcmp(sort_arena + x->id, sort_arena + y->id, n);

	return c != 0 ? c : (x->id_len > y->id_len) - (x->id_len < y->id_len);
}

/* Read the clean records into h; false at the first that is not. */
static bool
read_clean_hours(FILE *f, const Feed *feed, bool (*keep)(const Feed *, const Record *), int ncols,
                 const int *col, HoursLines *h)
{
	FieldReader fr = {.line = 2};
	bool all_clean = true;
	int n;

	while (all_clean && (n = next_kept_fields(&fr, f, feed, keep)) >= 0)
	{
		all_clean = n == ncols && clean(fr.fields, col);
		if (all_clean)
			keep_line(h, fr.fields, col);
	}
	field_reader_free(&fr);
	return all_clean;
}

/* Send the clean records in store_id order; the count sent, or -1 at the first that is not. */
static long
copy_clean_hours(FILE *f, const Feed *feed, bool (*keep)(const Feed *, const Record *), int ncols,
                 const int *col)
{
	HoursLines h = {0};
	static CopyBuffer out;
	long sent = -1;

	if (read_clean_hours(f, feed, keep, ncols, col, &h) && h.n > 0)
	{
		sort_arena = h.arena;
		qsort(h.lines, h.n, sizeof(HoursLine), by_store_id);
		out.len = 0;
		for (size_t i = 0; i < h.n; i++)
		{
			if (out.len + h.lines[i].line_len > sizeof(out.data))
				flush_copy(&out);
			memcpy(out.data + out.len, h.arena + h.lines[i].line, h.lines[i].line_len);
			out.len += h.lines[i].line_len;
		}
		flush_copy(&out);
		sent = (long)h.n;
	}
	free(h.arena);
	free(h.lines);
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
	bool loaded = false, frozen;
	PGresult *copied;

	if (ncols < 0 || !result_is(PQexec(conn, "SAVEPOINT storemon_direct"), PGRES_COMMAND_OK))
	{
		if (f != NULL)
			fclose(f);
		return false; /* the staged way says what is wrong */
	}
	frozen = truncate_if_empty("storemon.menu_hours");
	if ((frozen || result_is(PQexec(conn, "DELETE FROM storemon.menu_hours"), PGRES_COMMAND_OK)) &&
	    result_is(PQexec(conn, frozen
	                               ? "COPY storemon.menu_hours (store_id, day_of_week, "
	                                 "start_time_local, end_time_local) FROM STDIN (FORMAT csv, "
	                                 "FREEZE)"
	                               : "COPY storemon.menu_hours (store_id, day_of_week, "
	                                 "start_time_local, end_time_local) FROM STDIN (FORMAT csv)"),
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
	feed->frozen = frozen;
	snprintf(feed->summary, sizeof(feed->summary), "menu_hours: %ld rows replaced", sent);
	return true;
}
