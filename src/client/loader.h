/*
 * loader.h — a run of storemon-load: what it was asked (Options, the
 * Feeds), the connections it opened, and how it ends on an error.
 *
 * The client's modules, each over the ones before it (no header includes
 * one after it):
 *
 *   csv_reader     records from a stream, bounded and checked (plain C)
 *   loader         this: the run, its errors, connections, names
 *   target         one database being loaded: its COPY, lock, vacuum
 *   direct_load    what the direct ways share: columns, ids, TRUNCATE
 *   staged         the staged way and storemon_load_staged
 *   direct_status  polls straight into store_status
 *   direct_hours   hours straight into menu_hours
 *   feed           one file read once, its records pushed to targets
 *   sharded_load   a coordinator: records routed to shards
 *   storemon_load  main: the command line, one database
 */
#ifndef STOREMON_LOADER_H
#define STOREMON_LOADER_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "csv_reader.h"

enum
{
	FEED_STATUS,
	FEED_HOURS,
	FEED_ZONES,
	NFEEDS
};

/* One input file and its header, read once. */
typedef struct Feed
{
	int kind;          /* FEED_STATUS, ... */
	const char *name;  /* status, hours, zones */
	const char *file;  /* as given; NULL: not loaded */
	char *header;      /* text[] literal of the header's fields */
	char *header_raw;  /* the header line as written */
	int ncols;         /* fields of the header */
	CsvFields columns; /* the header's fields, unquoted */
	long records;      /* data records read */
} Feed;

/* What the command line asks for. */
typedef struct Options
{
	Feed feeds[NFEEDS];
	const char *keys[8]; /* libpq connection keywords and values */
	const char *vals[8];
	int nkeys;
	bool allow_empty;
	bool vacuum;
	const char *shards; /* --shards 0,2: load only these shards of a coordinator */
} Options;

#define LOADER_MAX_CONNS 64

typedef struct Loader
{
	Options *options;
	PGconn *conns[LOADER_MAX_CONNS]; /* every connection opened, closed at the end */
	int nconns;
	void (*on_error)(void *arg); /* once, before exiting on an error */
	void *on_error_arg;
} Loader;

/* Close every connection and exit; on_error first when code is not 0. */
extern void loader_exit(Loader *l, int code) __attribute__((noreturn));
extern void loader_fail(Loader *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));
/* The server's error in full (message, detail, hint) after where, then exit. */
extern void loader_fail_with(Loader *l, PGconn *conn, PGresult *res, const char *where)
    __attribute__((noreturn));
/* The server refused what was sent for feed: name its file, then exit. */
extern void loader_fail_feed(Loader *l, PGconn *conn, PGresult *res, const Feed *feed)
    __attribute__((noreturn));
/* realloc, or exit saying so. */
extern void *loader_realloc(Loader *l, void *p, size_t size);

/*
 * PQconnectdbParams, then an empty search_path before anything else (as
 * pg_dump does): every connection the loader opens.  Check PQstatus.
 */
extern PGconn *loader_connect(Loader *l, const char *const *keys, const char *const *vals);
extern void exec_ok(Loader *l, PGconn *conn, const char *sql, ExecStatusType expected);
/* Is res of the status expected?  Clears it. */
extern bool result_is(PGresult *res, ExecStatusType expected);
/* Does sql (with $1 = param when param is not NULL) answer one row of true? */
extern bool ask_true(PGconn *conn, const char *sql, const char *param);
/* Is the connection's client encoding UTF-8, which the reader then checks? */
extern bool utf8_client(PGconn *conn);

/* Is this header field name, compared as the server's stage_column does? */
extern bool header_is(const char *field, const char *name);
/* A file name as messages show it: control bytes and bytes not UTF-8 as \xNN. */
extern char *shown_name(Loader *l, const char *name);

#endif /* STOREMON_LOADER_H */
