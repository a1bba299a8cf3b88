/*
 * call_args.c — what a call asks for, checked (see call_args.h).
 */
#include "postgres.h"

#include "executor/tuptable.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "common/int.h"
#include "mb/pg_wchar.h"
#include "parser/scansup.h"
#include "utils/array.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "server/call_args.h"

static bool
has_arg(FunctionCallInfo fcinfo, int n)
{
	return n >= 0 && n < PG_NARGS() && !PG_ARGISNULL(n);
}

bool
sm_request_from_call(FunctionCallInfo fcinfo, const SmCallArgs *args, SmComputeRequest *req)
{
	memset(req, 0, sizeof(*req));
	req->mode = sm_parse_mode(
	    has_arg(fcinfo, args->interpolation) ? PG_GETARG_TEXT_PP(args->interpolation) : NULL);
	if (args->period >= 0 && args->period < PG_NARGS() && PG_ARGISNULL(args->period))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
		                errmsg("storemon: period must not be NULL"),
		                errhint("Pass an interval such as '7 days', or leave the default.")));
	if (has_arg(fcinfo, args->from_store))
		req->from = PG_GETARG_TEXT_PP(args->from_store);
	if (has_arg(fcinfo, args->to_store))
		req->to = PG_GETARG_TEXT_PP(args->to_store);
	if (has_arg(fcinfo, args->store_ids))
		req->store_ids = sm_store_id_list(PG_GETARG_ARRAYTYPE_P(args->store_ids), &req->nstore_ids);
	if (has_arg(fcinfo, args->as_of))
		req->as_of = PG_GETARG_TIMESTAMPTZ(args->as_of);
	else if (!sm_default_as_of(&req->as_of))
		return false;
	sm_check_as_of(req->as_of);
	req->period_us = has_arg(fcinfo, args->period)
	                     ? sm_period_us(PG_GETARG_INTERVAL_P(args->period), req->as_of)
	                     : SM_USECS_PER_WEEK;
	return true;
}

/* name is word in any letter case, with white space around it allowed. */
static bool
word_is(const char *name, const char *word)
{
	size_t len = strlen(word);

	while (scanner_isspace(*name))
		name++;
	if (pg_strncasecmp(name, word, len) != 0)
		return false;
	for (name += len; scanner_isspace(*name); name++)
		;
	return *name == '\0';
}

SmMode
sm_parse_mode(text *mode)
{
	char *name;

	if (mode == NULL)
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
		                errmsg("storemon: interpolation mode must not be NULL"),
		                errhint("Accepted modes: nearest, previous.")));
	name = text_to_cstring(mode);
	if (word_is(name, "nearest"))
		return SM_NEAREST;
	if (word_is(name, "previous"))
		return SM_PREVIOUS;
	if (strlen(name) > 40)
		name = psprintf("%.*s...", pg_mbcliplen(name, strlen(name), 40), name);
	ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
	                errmsg("storemon: unknown interpolation mode \"%s\"", name),
	                errhint("Accepted modes: nearest, previous.")));
	return SM_NEAREST; /* not reached */
}

const char *
sm_mode_name(SmMode mode)
{
	return mode == SM_PREVIOUS ? "previous" : "nearest";
}

/*
 * as_of must leave room for the week before it and for the local clock
 * around it: two weeks inside PostgreSQL's timestamp range.  Every
 * timestamp outside that is refused here, so the arithmetic (figures.c,
 * schedule.c) never nears int64's limits.
 */
#define SM_AS_OF_MIN (MIN_TIMESTAMP + 2 * USECS_PER_DAY * 7)
#define SM_AS_OF_MAX (END_TIMESTAMP - 2 * USECS_PER_DAY * 7)

void
sm_check_as_of(TimestampTz as_of)
{
	if (TIMESTAMP_NOT_FINITE(as_of))
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("storemon: as_of must be a finite timestamp, not %s",
		                       TIMESTAMP_IS_NOBEGIN(as_of) ? "-infinity" : "infinity"),
		                errhint("Pass a timestamptz such as '2023-01-25 18:13:22 UTC', or NULL "
		                        "for the latest poll.")));
	if (as_of < SM_AS_OF_MIN || as_of > SM_AS_OF_MAX)
	{
		/* timestamptz_to_str returns a static buffer: one call at a time */
		char *given = pstrdup(timestamptz_to_str(as_of));
		char *lowest = pstrdup(timestamptz_to_str(SM_AS_OF_MIN));
		char *highest = pstrdup(timestamptz_to_str(SM_AS_OF_MAX));

		ereport(ERROR, (errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
		                errmsg("storemon: as_of %s is out of the range a report can cover", given),
		                errhint("as_of must lie from %s to %s.", lowest, highest)));
	}
}

int64
sm_period_us(const Interval *period, TimestampTz as_of)
{
	int64 us;

	if (period->month != 0)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("storemon: period %s has months, which have no fixed length",
		                       DatumGetCString(DirectFunctionCall1(
		                           interval_out, IntervalPGetDatum((Interval *)period)))),
		                errhint("Give the period in days and hours, such as '30 days'.")));
	if (period->day < 0 || period->day > SM_PERIOD_MAX_DAYS ||
	    pg_add_s64_overflow((int64)period->day * USECS_PER_DAY, period->time, &us) || us <= 0 ||
	    us > (int64)SM_PERIOD_MAX_DAYS * USECS_PER_DAY)
		ereport(ERROR,
		        (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		         errmsg("storemon: period %s is out of range",
		                DatumGetCString(DirectFunctionCall1(
		                    interval_out, IntervalPGetDatum((Interval *)period)))),
		         errhint("A period is longer than 0 and at most %d days.", SM_PERIOD_MAX_DAYS)));
	/* the report's own margin: its week may start a week before SM_AS_OF_MIN */
	if (as_of - us < SM_AS_OF_MIN - SM_USECS_PER_WEEK)
	{
		char *earliest = pstrdup(timestamptz_to_str(SM_AS_OF_MIN - SM_USECS_PER_WEEK));

		ereport(ERROR, (errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
		                errmsg("storemon: the period reaches back before %s", earliest),
		                errhint("Give a later as_of or a shorter period.")));
	}
	return us;
}

static int
compare_text_c(const void *a, const void *b)
{
	return sm_compare_store(PointerGetDatum(*(text *const *)a), *(text *const *)b);
}

text **
sm_store_id_list(ArrayType *ids, int *n)
{
	Datum *values;
	bool *nulls;
	int count;
	text **list;
	int kept = 0;

	if (ARR_NDIM(ids) > 1)
		ereport(ERROR,
		        (errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
		         errmsg("storemon: store_ids must be a one-dimensional array, not %d-dimensional",
		                ARR_NDIM(ids)),
		         errhint("Pass ARRAY['id1', 'id2', ...].")));
	deconstruct_array(ids, TEXTOID, -1, false, TYPALIGN_INT, &values, &nulls, &count);
	list = palloc(sizeof(text *) * Max(count, 1));
	for (int i = 0; i < count; i++)
	{
		if (nulls[i])
			ereport(ERROR,
			        (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
			         errmsg("storemon: store_ids element %d is NULL", i + 1),
			         errhint("Pass store ids, or NULL instead of the array for every store.")));
		list[i] = pg_detoast_datum_packed((struct varlena *)DatumGetPointer(values[i]));
	}
	qsort(list, count, sizeof(text *), compare_text_c);
	for (int i = 0; i < count; i++)
		if (kept == 0 || compare_text_c(&list[kept - 1], &list[i]) != 0)
			list[kept++] = list[i];
	*n = kept;
	return list;
}
