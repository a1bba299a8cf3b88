/*
 * target.h — one database being loaded: the one of a plain load, or one
 * shard of a coordinator.  Each feed reaches it one way at a time, and
 * COPY data goes to it in blocks.
 */
#ifndef STOREMON_TARGET_H
#define STOREMON_TARGET_H

#include <stdint.h>

#include "loader.h"

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

typedef struct Target
{
	Loader *loader;
	PGconn *conn;
	const char *prefix; /* before each line of what was loaded ("shard 1: ") */
	bool can_direct;    /* the server has the direct ways' helper (1.1 and later) */
	bool rebuild_own;   /* and builds the indexes again from its own definitions (1.3) */
	CopyBuffer out;     /* the COPY in progress (one at a time per connection) */
	FeedLoad feeds[NFEEDS];
} Target;

extern void target_init(Target *t, Loader *l, PGconn *conn, const char *prefix);

extern void copy_put(Target *t, const void *bytes, size_t n);
extern void copy_flush(Target *t);
/* End the COPY in progress; its row count, or exit naming feed's file. */
extern long copy_end(Target *t, const Feed *feed);
/* A field as a quoted CSV value, quotes doubled, then the separator. */
extern void put_csv_field(Target *t, const char *v, char after);
/* v as a big-endian integer of bytes bytes (COPY's binary format). */
extern void put_be(Target *t, uint64_t v, int bytes);

/* BEGIN of every load's transaction: READ COMMITTED, whatever the session's default. */
#define LOAD_BEGIN "BEGIN ISOLATION LEVEL READ COMMITTED"
/* Before a replacement of table (hours, zones): wait for any other replacement of it. */
extern void lock_for_replace(Target *t, const char *table);
/* VACUUM (ANALYZE) what was loaded, after the commit (VACUUM cannot run inside it). */
extern void vacuum_loaded(Target *t, const Feed *feeds);

#endif /* STOREMON_TARGET_H */
