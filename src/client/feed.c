/*
 * feed.c — one input file, read once (feed.h): its header, then each
 * record pushed to the databases that load it; for each database the feed
 * begins the direct way when it has one, and goes the staged way from the
 * first record the direct way does not take.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "direct_hours.h"
#include "direct_status.h"
#include "feed.h"
#include "staged.h"

/* The header's fields as a text[] literal, quotes of the CSV removed. */
static char *
header_array(Loader *l, const CsvRecord *r, const CsvFields *f, int n)
{
	char *out = loader_realloc(l, NULL, 2 * r->len + 3 * (size_t)n + 3);
	char *o = out;

	*o++ = '{';
	for (int i = 0; i < n && i < MAX_COLUMNS; i++)
	{
		const char *v = f->field[i];

		if (i == 0 && strncmp(v, "\xEF\xBB\xBF", 3) == 0)
			v += 3; /* a UTF-8 byte order mark */
		if (i > 0)
			*o++ = ',';
		*o++ = '"';
		for (; *v; v++)
		{
			if (*v == '"' || *v == '\\')
				*o++ = '\\';
			*o++ = *v;
		}
		*o++ = '"';
	}
	*o++ = '}';
	*o = '\0';
	return out;
}

/* The header: the file's first record. */
static void
read_header(Loader *l, Feed *feed, CsvReader *reader, CsvRecord *r)
{
	int got = csv_read(reader, r);

	if (got < 0)
		loader_fail(l, "%s: %s", feed->file, reader->error);
	if (got == 0)
		loader_fail(l, "%s: line 1: no header (the file is empty)", feed->file);
	feed->ncols = r->fields;
	if (feed->ncols > MAX_COLUMNS)
		loader_fail(l, "%s: line %ld: the header has %d columns; at most %d", feed->file, r->line,
		            feed->ncols, MAX_COLUMNS);
	if (csv_split(r, &feed->columns) < 0)
		loader_fail(l, "out of memory");
	feed->header = header_array(l, r, &feed->columns, feed->ncols);
	feed->header_raw = strcpy(loader_realloc(l, NULL, r->len + 1), r->text);
}

void
read_feed(Loader *l, Feed *feed, const FeedSink *sink, bool check_utf8)
{
	FILE *f = fopen(feed->file, "rb");
	CsvReader *reader = loader_realloc(l, NULL, sizeof(CsvReader));
	CsvRecord r = {0};
	int got;

	if (f == NULL)
		loader_fail(l, "%s: cannot read the file: %s", feed->file, strerror(errno));
	csv_reader_init(reader, f, check_utf8);
	read_header(l, feed, reader, &r);
	for (int i = 0; i < sink->ntargets; i++)
		feed_begin(sink->targets[i], feed);
	while ((got = csv_read(reader, &r)) > 0)
	{
		feed->records++;
		sink->record(sink->arg, feed, &r);
	}
	if (got < 0)
		loader_fail(l, "%s: %s", feed->file, reader->error);
	if (sink->flush != NULL)
		sink->flush(sink->arg, feed);
	for (int i = 0; i < sink->ntargets; i++)
		feed_end(sink->targets[i], feed);
	fclose(f);
	csv_record_free(&r);
	free(reader);
}

/* The direct way of a feed, or NULL: zones have none. */
static const DirectWay *
direct_way(const Feed *feed)
{
	return feed->kind == FEED_STATUS  ? &status_direct
	       : feed->kind == FEED_HOURS ? &hours_direct
	                                  : NULL;
}

void
feed_begin(Target *t, Feed *feed)
{
	const DirectWay *direct = direct_way(feed);

	if (direct != NULL && t->can_direct && direct->begin(t, feed))
		t->feeds[feed->kind].way = WAY_DIRECT;
	else
		staged_begin(t, feed);
}

void
feed_record(Target *t, Feed *feed, const CsvRecord *r)
{
	if (t->feeds[feed->kind].way == WAY_DIRECT)
	{
		if (direct_way(feed)->record(t, feed, r))
			return;
		if (t->feeds[feed->kind].way != WAY_STAGED)
			staged_begin(t, feed);
	}
	staged_record(t, feed, r);
}

void
feed_end(Target *t, Feed *feed)
{
	FeedLoad *fl = &t->feeds[feed->kind];

	if (fl->way == WAY_DIRECT)
		direct_way(feed)->end(t, feed);
	if (fl->way == WAY_STAGED)
	{
		copy_end(t, feed);
		fl->way = WAY_DONE;
	}
}
