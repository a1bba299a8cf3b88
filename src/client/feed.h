/*
 * feed.h — one input file, read once: its header, then each record pushed
 * to the database that loads it, where the feed takes the direct way while
 * its records are clean and the staged way from the first that is not.
 */
#ifndef STOREMON_FEED_H
#define STOREMON_FEED_H

#include "target.h"

/*
 * Where a file's records go: record(arg, ...) for each, flush(arg, ...)
 * at the end (NULL: nothing), between each target's feed_begin and
 * feed_end.
 */
typedef struct FeedSink
{
	void (*record)(void *arg, Feed *feed, const CsvRecord *r);
	void (*flush)(void *arg, Feed *feed);
	void *arg;
	Target **targets;
	int ntargets;
} FeedSink;

extern void read_feed(Loader *l, Feed *feed, const FeedSink *sink, bool check_utf8);

/* One feed into one database: begin, each record, end (the ways chosen inside). */
extern void feed_begin(Target *t, Feed *feed);
extern void feed_record(Target *t, Feed *feed, const CsvRecord *r);
extern void feed_end(Target *t, Feed *feed);

#endif /* STOREMON_FEED_H */
