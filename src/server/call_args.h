/*
 * sql_call.h — what the SQL-callable computations share: the request read
 * from a call's arguments, and rows returned in store_id order although
 * the computation produces them newest store_id first (compute.h).
 */
#ifndef SM_SQL_CALL_H
#define SM_SQL_CALL_H

#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/tuplestore.h"

#include "compute.h"

/* Argument positions of a call; -1 where the function has no such argument. */
typedef struct SmCallArgs
{
	int as_of;
	int interpolation;
	int period; /* absent: the report's week */
	int from_store;
	int to_store;
	int store_ids;
} SmCallArgs;

/*
 * Fill req from the call.  A NULL as_of is the latest poll; returns false
 * when there is none (an empty feed: no rows, not an error).  Arguments
 * past PG_NARGS() count as NULL, so a C function serves older SQL
 * signatures of itself until ALTER EXTENSION UPDATE.
 */
extern bool sm_request_from_call(FunctionCallInfo fcinfo, const SmCallArgs *args,
                                 SmComputeRequest *req);

/* Rows put while computing, handed back reversed as the function's result. */
typedef struct SmDescendingRows
{
	ReturnSetInfo *rsinfo;
	Tuplestorestate *rows;
	MemoryContext row_context; /* current while a row is built; reset after it */
} SmDescendingRows;

/* Start a materialized set-returning call and the store to put rows in. */
extern void sm_rows_begin(FunctionCallInfo fcinfo, SmDescendingRows *out);

/* Put one row (built in out->row_context, which is then reset). */
extern void sm_rows_put(SmDescendingRows *out, Datum *values, bool *nulls);

/* Return every row put, last put first. */
extern void sm_rows_return(SmDescendingRows *out);

/* A numeric with two decimals: us in units of unit_us, rounded half away from zero. */
extern Datum sm_hundredths_numeric(int64 us, int64 unit_us);

#endif /* SM_SQL_CALL_H */
