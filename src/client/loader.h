/*
 * load.h — what the parts of storemon-load share.
 *
 * Each input file is read once, as a stream (csv_reader.c): its records
 * are pushed, one by one, to the database that loads them (a Target: the
 * one database, or each shard of a coordinator, sharded_load.c), where
 * each feed takes the direct way (a COPY straight into its table,
 * direct_status.c, direct_hours.c) while its records are clean, and the
 * staged way (a temporary table checked by storemon_load_staged,
 * storemon_load.c) from the first record that is not.
 */
#ifndef STOREMON_LOAD_H
#define STOREMON_LOAD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

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

/* How one feed reaches one database. */
typedef enum Way
{
	WAY_NONE,   /* not begun */
	WAY_DIRECT, /* straight into the table */
	WAY_STAGED, /* into pg_temp.storemon_stage_<name>, for storemon_load_staged */
	WAY_DONE
} Way;

typedef struct FeedLoad
{
	Way way;
	bool staged;         /* some records were staged: storemon_load_staged loads them */
	long staged_records; /* how many */
	long direct_rows;    /* rows the direct way stored */
	bool rebuilt;        /* the direct way built the indexes again in bulk */
	bool frozen;         /* the direct way loaded by COPY FREEZE into the emptied table */
	void *direct;        /* the direct way's own state */
} FeedLoad;

/*
 * COPY data collected in blocks: one PQputCopyData per 64 kB, not several
 * per field (a libpq call per field cost as much as the server's parse).
 */
typedef struct CopyBuffer
{
	char data[1 << 16];
	size_t len;
} CopyBuffer;

/* A database being loaded: the one of a plain load, or one shard. */
typedef struct Target
{
	PGconn *conn;
	const char *prefix; /* before each line of what was loaded ("shard 1: ") */
	bool can_direct;    /* the server has the direct ways' helper (1.1 and later) */
	CopyBuffer out;     /* the COPY in progress (one at a time per connection) */
	FeedLoad feeds[NFEEDS];
} Target;

/* Run once before exiting on an error (rolls back prepared shards). */
extern void (*load_cleanup)(void);

extern void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
extern void load_exit(int code) __attribute__((noreturn));
/* The server's error in full (message, detail, hint) after where, then exit. */
extern void fail_with(PGconn *conn, PGresult *res, const char *where) __attribute__((noreturn));
/* The server refused what was sent for feed: name its file, then exit. */
extern void fail_feed(PGconn *conn, PGresult *res, const Feed *feed) __attribute__((noreturn));

/*
 * PQconnectdbParams, then an empty search_path before anything else (as
 * pg_dump does): every connection the loader opens.  Check PQstatus.
 */
extern PGconn *connect_db(const char *const *keys, const char *const *vals);
extern void exec_ok(PGconn *conn, const char *sql, ExecStatusType expected);
/* Is res of the status expected?  Clears it. */
extern bool result_is(PGresult *res, ExecStatusType expected);
extern void target_init(Target *t, PGconn *conn, const char *prefix);

/* Is this header field name, compared as the server's stage_column does? */
extern bool header_is(const char *field, const char *name);
extern char *shown_name(const char *name);

/*
 * Read feed's file once: its header, then every record through record(arg,
 * ...); first each target's feed_begin, at the end flush(arg) and each
 * target's feed_end.
 */
typedef struct FeedSink
{
	void (*record)(void *arg, Feed *feed, const CsvRecord *r);
	void (*flush)(void *arg, Feed *feed);
	void *arg;
	Target **targets;
	int ntargets;
} FeedSink;

extern void read_feed(Feed *feed, const FeedSink *sink, bool check_utf8);

/* One feed into one database: begin, each record, end (the ways chosen inside). */
extern void feed_begin(Target *t, Feed *feed);
extern void feed_record(Target *t, Feed *feed, const CsvRecord *r);
extern void feed_end(Target *t, Feed *feed);

/* The staged way: pg_temp.storemon_stage_<name> by COPY, each record tagged with its line. */
extern void stage_begin(Target *t, Feed *feed);
extern void stage_record(Target *t, Feed *feed, const CsvRecord *r);

/*
 * Validate and load what was staged of the feeds include[] names; print
 * what each table got, in the feeds' order.
 */
extern void load_staged(Target *t, Feed *feeds, bool allow_empty, const bool *include);
/*
 * Before a replacement of table (hours, zones): wait for any other
 * replacement of it to commit (storemon_load.c says why this lock).
 */
extern void lock_for_replace(PGconn *conn, const char *table);
/* BEGIN of every load's transaction: READ COMMITTED, whatever the session's default. */
#define LOAD_BEGIN "BEGIN ISOLATION LEVEL READ COMMITTED"
/* VACUUM (ANALYZE) what was loaded, after the commit (VACUUM cannot run inside it). */
extern void vacuum_loaded(Target *t, const Feed *feeds);

/*
 * The direct ways.  *_begin: false when the feed must be staged from its
 * first record.  *_record: false when r is not for the direct way: the
 * direct way has stopped, and r and the rest are to be staged.  *_end:
 * the way is WAY_DONE, or WAY_STAGED when the end sent it there.
 */
extern bool status_direct_begin(Target *t, Feed *feed);
extern bool status_direct_record(Target *t, Feed *feed, const CsvRecord *r);
extern void status_direct_end(Target *t, Feed *feed);
extern bool hours_direct_begin(Target *t, Feed *feed);
extern bool hours_direct_record(Target *t, Feed *feed, const CsvRecord *r);
extern void hours_direct_end(Target *t, Feed *feed);

/* What the direct ways share (direct_load.c). */
extern void copy_put(Target *t, const void *bytes, size_t n);
extern void copy_flush(Target *t);
/* End the COPY in progress; its row count, or fail naming feed's file. */
extern long copy_end(Target *t, const Feed *feed);
/* A field as a quoted CSV value, quotes doubled, then the separator. */
extern void put_csv_field(Target *t, const char *v, char after);
/* v as a big-endian integer of bytes bytes (COPY's binary format). */
extern void put_be(Target *t, uint64_t v, int bytes);
/*
 * TRUNCATE table (a qualified name) when it is empty and this role may, so
 * that a COPY in the same subtransaction may use FREEZE; true when it did.
 * Only with SELECT and TRUNCATE, no row security to hide rows, in READ
 * COMMITTED so that the check under the lock sees every committed row, and
 * never waiting for the lock: a table in use is loaded the ordinary way.
 */
extern bool truncate_if_empty(PGconn *conn, const char *table);
/* Is a store_id stored as written: 1 to 1024 bytes, nothing for the staged load to trim? */
extern bool clean_store_id(const char *id);
/*
 * Find want columns in feed's header as the staged load finds them
 * (header_is): names holds, for each column in turn, its accepted names
 * and a NULL.  col[k] is column k's field; false when one is missing.
 */
extern bool find_columns(const Feed *feed, const char *const *names, int want, int *col);

/* On a coordinator (sharded_load.c): load the shards, all or none. */
extern int load_sharded(Options *o, PGconn *coord);

#endif /* STOREMON_LOAD_H */
