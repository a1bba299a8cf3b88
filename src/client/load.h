/*
 * load.h — what the two halves of storemon-load share: reading CSV
 * records, staging and loading them into one database (storemon_load.c),
 * and routing them to shards (sharded_load.c).
 */
#ifndef STOREMON_LOAD_H
#define STOREMON_LOAD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <libpq-fe.h>

#define MAX_COLUMNS 100

typedef struct Record
{
	char *text; /* the raw record, without its line end */
	size_t len;
	size_t cap;
	long line;  /* physical line it starts on (the header is line 1) */
	int fields; /* fields outside quotes */
} Record;

typedef struct Feed
{
	const char *kind; /* status, hours, zones */
	const char *file; /* as given; NULL: not loaded */
	char *header;     /* text[] literal of the header's fields */
	char *header_raw; /* the header line as written */
	bool direct;      /* loaded by load_status_direct or load_hours_direct: not staged */
	char summary[96]; /* what a direct load did, printed by load() in the feeds' order */
	bool frozen;      /* loaded by COPY FREEZE: ANALYZE is enough, no VACUUM */
} Feed;

/* What the command line asks for. */
typedef struct Options
{
	Feed feeds[3];
	const char *keys[8]; /* libpq connection keywords and values */
	const char *vals[8];
	int nkeys;
	bool allow_empty;
	bool vacuum;
	const char *shards; /* --shards 0,2: load only these shards of a coordinator */
} Options;

/* The connection being loaded (a shard's, while a shard loads). */
extern PGconn *conn;
/* Run once before exiting on an error (rolls back prepared shards). */
extern void (*load_cleanup)(void);
/* Put before each line of what was loaded ("shard 1: "). */
extern const char *output_prefix;

extern void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
extern void load_exit(int code) __attribute__((noreturn));
extern bool next_record(FILE *f, Record *r, long *line, const char *file);

/*
 * The fields of a CSV record, unquoted, into *buf (grown) with out[] pointing
 * at the first max of them; returns how many fields the record has.
 */
extern int record_fields(const Record *r, char **buf, size_t *cap, char **out, int max);

/* Is this header field name, compared as the server's stage_column does? */
extern bool header_is(const char *field, const char *name);
extern char *shown_name(const char *name);
extern void exec_ok(const char *sql, ExecStatusType expected);
/*
 * PQconnectdbParams, then an empty search_path before anything else (as
 * pg_dump does): every connection the loader opens.  Check PQstatus.
 */
extern PGconn *connect_db(const char *const *keys, const char *const *vals);

/* Stage one file into pg_temp.storemon_stage_<kind>: the records keep() keeps (NULL: all). */
extern void stage(Feed *feed, bool (*keep)(const Feed *feed, const Record *r));
/* Validate and load what was staged; print what each table got, in the feeds' order. */
extern void load(Feed *feeds, bool allow_empty);

/*
 * The polls file straight into store_status by COPY when every record is
 * already clean (direct_status.c); false, with nothing changed, when the
 * file must take the staged way.
 */
extern bool load_status_direct(Feed *feed, bool (*keep)(const Feed *feed, const Record *r));
/*
 * The hours file straight into menu_hours by COPY when every record is
 * already clean (direct_hours.c); false, with nothing changed, when the
 * file must take the staged way.
 */
extern bool load_hours_direct(Feed *feed, bool (*keep)(const Feed *feed, const Record *r));

/*
 * COPY data collected in blocks (direct_load.c): one PQputCopyData per 64 kB,
 * not several per field (a libpq call per field cost as much as the
 * server's parse).
 */
typedef struct CopyBuffer
{
	char data[1 << 16];
	size_t len;
} CopyBuffer;

extern void flush_copy(CopyBuffer *b);
/* A field as a quoted CSV value, quotes doubled, then the separator. */
extern void put_csv_field(CopyBuffer *b, const char *v, char after);
/* v as a big-endian integer of bytes bytes (COPY's binary format); the caller makes room. */
extern void put_be(CopyBuffer *b, uint64_t v, int bytes);
/*
 * TRUNCATE table (a qualified name) when it is empty and this role may, so
 * that a COPY in the same subtransaction may use FREEZE; true when it did.
 * Only with SELECT and TRUNCATE, no row security to hide rows, in READ
 * COMMITTED so that the check under the lock sees every committed row, and
 * never waiting for the lock: a table in use is loaded the ordinary way.
 */
extern bool truncate_if_empty(const char *table);
/* Is res of the status expected?  Clears it. */
extern bool result_is(PGresult *res, ExecStatusType expected);

/*
 * The data records of a file a direct load reads, each split into fields
 * (direct_load.c).  Start with {.line = 2}, the line after the header.
 */
typedef struct FieldReader
{
	Record r;
	long line;
	char *buf;
	size_t cap;
	char *fields[MAX_COLUMNS];
} FieldReader;

/* The next record keep() keeps (NULL: all) in fr->fields: its field count, or -1 at the end. */
extern int next_kept_fields(FieldReader *fr, FILE *f, const Feed *feed,
                            bool (*keep)(const Feed *, const Record *));
extern void field_reader_free(FieldReader *fr);

/* Is a store_id stored as written: 1 to 1024 bytes, nothing for the staged load to trim? */
extern bool clean_store_id(const char *id);

/*
 * Read the header of f and find want columns as the staged load finds them
 * (header_is): names holds, for each column in turn, its accepted names
 * and a NULL.  col[k] is column k's field.  Returns the header's field
 * count, or -1 when it has no header or lacks one of the columns.
 */
extern int read_header_columns(FILE *f, const Feed *feed, const char *const *names, int want,
                               int *col);

/* VACUUM (ANALYZE) what was loaded, after the commit (VACUUM cannot run inside it). */
extern void vacuum_loaded(const Feed *feeds);

/* On a coordinator (sharded_load.c): load the shards, all or none. */
extern int load_sharded(Options *o);

#endif /* STOREMON_LOAD_H */
