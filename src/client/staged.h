/*
 * staged.h — the staged way: records into pg_temp.storemon_stage_<name>
 * by COPY, each tagged with its physical line, then validated and loaded
 * by storemon.storemon_load_staged, which names the first bad row.
 */
#ifndef STOREMON_STAGED_H
#define STOREMON_STAGED_H

#include "target.h"

/* Create the staging table and start its COPY: the feed's way is WAY_STAGED. */
extern void staged_begin(Target *t, Feed *feed);
extern void staged_record(Target *t, Feed *feed, const CsvRecord *r);

/*
 * Validate and load what was staged of the feeds include[] names (their
 * replacements ordered by lock_for_replace first); print what each table
 * got, in the feeds' order, the direct ways' counts included.
 */
extern void staged_load(Target *t, Feed *feeds, bool allow_empty, const bool *include);

#endif /* STOREMON_STAGED_H */
