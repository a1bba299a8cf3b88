/*
 * direct_hours.c — the hours file straight into menu_hours.
 *
 * The staged load checks every hours row with three regular expressions
 * and then INSERTs it with casts.  A file whose records are already what that INSERT would
 * store (ids without surrounding spaces, a day written 0 to 6, times
 * h:mm[:ss[.ffffff]] with nothing around them) replaces menu_hours with one
 * DELETE and one COPY of the same text, which the server's own input
 * functions read as the cast would; into an empty menu_hours the role may
 * truncate, with FREEZE (see direct_status.c).
 *
 * The clean records are held, to be sent in store_id order: menu_hours'
 * index then grows at its right edge instead of splitting pages all over.
 * Like direct_status.c it is only a fast path: at the first record that is
 * not clean, past HOURS_HELD_MAX bytes held, when the file has no data
 * rows, or when the server refuses a value (25:00, after a rollback to a
 * savepoint), the records held and the rest go the staged way with its
 * messages.
 */
#include <stdlib.h>
#include <string.h>

#include "direct_hours.h"
#include "direct_load.h"
#include "staged.h"

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

/* The most bytes of records held for sorting; a larger file is staged. */
#define HOURS_HELD_MAX (64 << 20)

/*
 * A record held: offsets in the arena of its raw text and its store_id,
 * and that id's address once the arena stops growing, to sort by.
 */
typedef struct HeldRecord
{
	size_t raw, raw_len, id, id_len;
	const char *key;
	long line;
	int fields;
} HeldRecord;

typedef struct HoursDirect
{
	Loader *loader;
	int col[4]; /* store_id, day, start, end */
	CsvFields f;
	char *arena;
	size_t len, cap;
	HeldRecord *held;
	size_t n, held_cap;
} HoursDirect;

static void *
grow(Loader *l, void *p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return p;
	*cap = need > 2 * *cap ? need : 2 * *cap;
	return loader_realloc(l, p, *cap * elem);
}

static size_t
append(HoursDirect *h, const char *bytes, size_t n)
{
	size_t at = h->len;

	h->arena = grow(h->loader, h->arena, &h->cap, h->len + n + 1, 1);
	memcpy(h->arena + h->len, bytes, n);
	h->arena[h->len + n] = '\0';
	h->len += n + 1;
	return at;
}

static void
hold(HoursDirect *h, const CsvRecord *r, const char *id)
{
	HeldRecord e = {0, r->len, 0, strlen(id), NULL, r->line, r->fields};

	e.raw = append(h, r->text, r->len);
	e.id = append(h, id, e.id_len);
	h->held = grow(h->loader, h->held, &h->held_cap, h->n + 1, sizeof(HeldRecord));
	h->held[h->n++] = e;
}

/* store_id order of COLLATE "C": bytes, then length. */
static int
by_store_id(const void *a, const void *b)
{
	const HeldRecord *x = a, *y = b;
	size_t n = x->id_len < y->id_len ? x->id_len : y->id_len;
	int c = memcmp(x->key, y->key, n);

	return c != 0 ? c : (x->id_len > y->id_len) - (x->id_len < y->id_len);
}

static void
free_held(HoursDirect *h)
{
	free(h->arena);
	free(h->held);
	csv_fields_free(&h->f);
	free(h);
}

/* Everything held to the staged way, in the file's order. */
static void
stage_held(Target *t, Feed *feed, HoursDirect *h)
{
	staged_begin(t, feed);
	for (size_t i = 0; i < h->n; i++)
	{
		CsvRecord r = {h->arena + h->held[i].raw, h->held[i].raw_len, 0,
		               h->held[i].line,           h->held[i].fields,  true};

		staged_record(t, feed, &r);
	}
	t->feeds[feed->kind].direct = NULL;
	free_held(h);
}

static bool
hours_direct_begin(Target *t, Feed *feed)
{
	static const char *const names[] = {
	    "store_id",         NULL, "day_of_week",    "dayofweek", "day", NULL,
	    "start_time_local", NULL, "end_time_local", NULL};
	HoursDirect *h =
	    memset(loader_realloc(t->loader, NULL, sizeof(HoursDirect)), 0, sizeof(HoursDirect));

	h->loader = t->loader;
	if (!find_columns(feed, names, 4, h->col))
	{
		free(h);
		return false; /* the staged way says what is wrong */
	}
	t->feeds[feed->kind].direct = h;
	return true;
}

static bool
hours_direct_record(Target *t, Feed *feed, const CsvRecord *r)
{
	HoursDirect *h = t->feeds[feed->kind].direct;
	int n = r->plain ? csv_split(r, &h->f) : 0;

	if (n < 0)
		loader_fail(t->loader, "out of memory");
	if (n == feed->ncols && clean(h->f.field, h->col) && h->len + 2 * r->len < HOURS_HELD_MAX)
	{
		hold(h, r, h->f.field[h->col[0]]);
		return true;
	}
	stage_held(t, feed, h);
	return false;
}

/* Send what is held in store_id order; false when the server refused it. */
static bool
copy_held(Target *t, HoursDirect *h, bool frozen)
{
	PGresult *res;
	bool copied;

	res = PQexec(t->conn, frozen ? "COPY storemon.menu_hours (store_id, day_of_week, "
	                               "start_time_local, end_time_local) FROM STDIN (FORMAT csv, "
	                               "FREEZE)"
	                             : "COPY storemon.menu_hours (store_id, day_of_week, "
	                               "start_time_local, end_time_local) FROM STDIN (FORMAT csv)");
	if (!result_is(res, PGRES_COPY_IN))
		return false;
	for (size_t i = 0; i < h->n; i++)
		h->held[i].key = h->arena + h->held[i].id;
	qsort(h->held, h->n, sizeof(HeldRecord), by_store_id);
	t->out.len = 0;
	for (size_t i = 0; i < h->n; i++)
	{
		CsvRecord r = {h->arena + h->held[i].raw, h->held[i].raw_len, 0,
		               h->held[i].line,           h->held[i].fields,  true};

		csv_split(&r, &h->f);
		for (int k = 0; k < 4; k++)
			put_csv_field(t, h->f.field[h->col[k]], k < 3 ? ',' : '\n');
	}
	copy_flush(t);
	PQputCopyEnd(t->conn, NULL);
	res = PQgetResult(t->conn);
	copied = PQresultStatus(res) == PGRES_COMMAND_OK;
	PQclear(res);
	while ((res = PQgetResult(t->conn)) != NULL)
		PQclear(res);
	return copied;
}

static void
hours_direct_end(Target *t, Feed *feed)
{
	FeedLoad *fl = &t->feeds[feed->kind];
	HoursDirect *h = fl->direct;
	bool frozen;

	/* no data rows: the staged way refuses the file, or empties the table with --allow-empty */
	if (h->n == 0)
	{
		stage_held(t, feed, h);
		return;
	}
	/* before the savepoint: a rollback to it must keep the lock */
	lock_for_replace(t, "storemon.menu_hours");
	exec_ok(t->loader, t->conn, "SAVEPOINT storemon_direct", PGRES_COMMAND_OK);
	frozen = truncate_if_empty(t, "storemon.menu_hours");
	if ((frozen ||
	     result_is(PQexec(t->conn, "DELETE FROM storemon.menu_hours"), PGRES_COMMAND_OK)) &&
	    copy_held(t, h, frozen))
	{
		exec_ok(t->loader, t->conn, "RELEASE SAVEPOINT storemon_direct", PGRES_COMMAND_OK);
		fl->direct_rows = (long)h->n;
		fl->frozen = frozen;
		fl->way = WAY_DONE;
		fl->direct = NULL;
		free_held(h);
		return;
	}
	/* a value the server refuses: the staged way names it */
	exec_ok(t->loader, t->conn, "ROLLBACK TO SAVEPOINT storemon_direct", PGRES_COMMAND_OK);
	exec_ok(t->loader, t->conn, "RELEASE SAVEPOINT storemon_direct", PGRES_COMMAND_OK);
	stage_held(t, feed, h);
}

const DirectWay hours_direct = {hours_direct_begin, hours_direct_record, hours_direct_end};
