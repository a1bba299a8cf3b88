/*
 * direct_status.c — the polls file straight into store_status.
 *
 * The staged load (staged.c, storemon_load_staged) copies every
 * record into a temporary table of text and then INSERTs it with casts,
 * trims and checks: two passes over every row.  Most feeds are already exactly what that INSERT
 * would store: ids without surrounding spaces, statuses written "active" or "inactive", timestamps
 * of the feed's shape.  Such records are sent with COPY into store_status itself, in binary, so the
 * rows are the same:
 *
 *  - the timestamps converted here (sm_feed_timestamp_us, the server's own
 *    value for the feed's shapes): the server parses no CSV and no
 *    timestamp;
 *  - with FREEZE when store_status was empty and this role may truncate
 *    it: the rows are written frozen and all-visible, so the first report
 *    reads them from the index alone and VACUUM has nothing to do;
 *  - with the indexes dropped and built again once at the end, when the
 *    load holds at least as many polls as the table (bulk_drop_indexes).
 *    The records are counted as they stream: at that count the COPY ends,
 *    the decision is made, and a new COPY takes the rest.
 *
 * A record is sent only when the server cannot refuse it: printable UTF-8
 * (csv_reader.c), a clean id, status and timestamp.  At the first record
 * that is not, the COPY ends with what it had, and that record and the
 * rest go the staged way, which loads what can be loaded and names the
 * first bad row with the messages it always gave.  Nothing is read twice.
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "direct_load.h"
#include "direct_status.h"
#include "core/feed_format.h"

typedef struct StatusDirect
{
	int col[3]; /* store_id, status, timestamp_utc */
	CsvFields f;
	bool frozen;
	long sent;        /* records sent */
	long rows;        /* rows the finished COPYs stored */
	long decide_at;   /* the index decision at this many records; 0 once made */
	char *index_defs; /* the indexes dropped, to build again at the end */
} StatusDirect;

/* Is the record already what the staged INSERT would store? */
static bool
clean(char *const *f, const int *col)
{
	const char *status = f[col[1]];

	return clean_store_id(f[col[0]]) &&
	       (strcmp(status, "active") == 0 || strcmp(status, "inactive") == 0);
}

/* One record in COPY's binary format: id, timestamp, status. */
static void
put_binary_record(Target *t, const char *id, int64_t us, const char *status)
{
	size_t idlen = strlen(id), stlen = strlen(status);

	put_be(t, 3, 2);
	put_be(t, idlen, 4);
	copy_put(t, id, idlen);
	put_be(t, 8, 4);
	put_be(t, (uint64_t)us, 8);
	put_be(t, stlen, 4);
	copy_put(t, status, stlen);
}

/* The record count at which the load is as large as the table (and 10,000). */
static long
decision_count(PGconn *conn)
{
	PGresult *res =
	    PQexec(conn, "SELECT pg_catalog.ceil(greatest(reltuples, 10000))::pg_catalog.int8 "
	                 "FROM pg_catalog.pg_class WHERE oid OPERATOR(pg_catalog.=) "
	                 "'storemon.store_status'::pg_catalog.regclass");
	long n = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1
	             ? atol(PQgetvalue(res, 0, 0))
	             : LONG_MAX;

	PQclear(res);
	return n;
}

static void
copy_begin(Target *t, const Feed *feed, const StatusDirect *d)
{
	static const char binary_header[19] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', '\377', '\r', '\n'};
	PGresult *res =
	    PQexec(t->conn, d->frozen ? "COPY storemon.store_status (store_id, timestamp_utc, "
	                                "status) FROM STDIN (FORMAT binary, FREEZE)"
	                              : "COPY storemon.store_status (store_id, timestamp_utc, "
	                                "status) FROM STDIN (FORMAT binary)");

	if (PQresultStatus(res) != PGRES_COPY_IN)
		loader_fail_feed(t->loader, t->conn, res, feed);
	PQclear(res);
	t->out.len = 0;
	copy_put(t, binary_header, sizeof(binary_header));
}

static void
copy_finish(Target *t, const Feed *feed, StatusDirect *d)
{
	put_be(t, 0xFFFF, 2); /* the trailer: a field count of -1 */
	d->rows += copy_end(t, feed);
}

/* As many records as the table holds: drop the indexes now if bulk_drop_indexes says so. */
static void
decide_indexes(Target *t, const Feed *feed, StatusDirect *d)
{
	char count[24];
	const char *params[1] = {count};
	PGresult *res;

	copy_finish(t, feed, d);
	snprintf(count, sizeof(count), "%ld", d->sent);
	res = PQexecParams(t->conn, "SELECT storemon_internal.bulk_drop_indexes($1::pg_catalog.int8)",
	                   1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		loader_fail_feed(t->loader, t->conn, res, feed);
	if (!PQgetisnull(res, 0, 0))
		d->index_defs = strcpy(loader_realloc(t->loader, NULL, strlen(PQgetvalue(res, 0, 0)) + 1),
		                       PQgetvalue(res, 0, 0));
	PQclear(res);
	d->decide_at = 0;
	copy_begin(t, feed, d);
}

static bool
status_direct_begin(Target *t, Feed *feed)
{
	static const char *const names[] = {"store_id", NULL, "status", NULL, "timestamp_utc", NULL};
	StatusDirect *d =
	    memset(loader_realloc(t->loader, NULL, sizeof(StatusDirect)), 0, sizeof(StatusDirect));

	if (!find_columns(feed, names, 3, d->col))
	{
		free(d);
		return false; /* the staged way says what is wrong */
	}
	d->frozen = truncate_if_empty(t, "storemon.store_status");
	d->decide_at = decision_count(t->conn);
	copy_begin(t, feed, d);
	t->feeds[feed->kind].direct = d;
	t->feeds[feed->kind].frozen = d->frozen;
	return true;
}

/* The COPY ends with what it has; the indexes dropped are built again. */
static void
stop(Target *t, const Feed *feed, StatusDirect *d)
{
	FeedLoad *fl = &t->feeds[feed->kind];

	copy_finish(t, feed, d);
	if (d->index_defs != NULL)
	{
		const char *params[1] = {d->index_defs};
		/* from the extension's own definitions (1.3), or from those bulk_drop_indexes returned */
		PGresult *res =
		    t->rebuild_own
		        ? PQexec(t->conn, "SELECT storemon_internal.bulk_rebuild_indexes()")
		        : PQexecParams(
		              t->conn,
		              "SELECT storemon_internal.stage_rebuild_indexes($1::pg_catalog.text[])", 1,
		              NULL, params, NULL, NULL, 0);

		if (PQresultStatus(res) != PGRES_TUPLES_OK)
			loader_fail_feed(t->loader, t->conn, res, feed);
		PQclear(res);
		fl->rebuilt = true;
		free(d->index_defs);
	}
	fl->direct_rows = d->rows;
	fl->way = WAY_DONE;
	fl->direct = NULL;
	csv_fields_free(&d->f);
	free(d);
}

static bool
status_direct_record(Target *t, Feed *feed, const CsvRecord *r)
{
	StatusDirect *d = t->feeds[feed->kind].direct;
	int n = r->plain ? csv_split(r, &d->f) : 0;
	char **f = d->f.field;
	int64_t us;

	if (n < 0)
		loader_fail(t->loader, "out of memory");
	if (n != feed->ncols || !clean(f, d->col) ||
	    !sm_feed_timestamp_us(f[d->col[2]], strlen(f[d->col[2]]), &us))
	{
		stop(t, feed, d);
		return false;
	}
	put_binary_record(t, f[d->col[0]], us, f[d->col[1]]);
	if (++d->sent == d->decide_at)
		decide_indexes(t, feed, d);
	return true;
}

static void
status_direct_end(Target *t, Feed *feed)
{
	stop(t, feed, t->feeds[feed->kind].direct);
}

const DirectWay status_direct = {status_direct_begin, status_direct_record, status_direct_end};
