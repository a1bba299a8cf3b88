/*
 * result_rows.h — a set-returning call's rows in store_id order, although
 * the walk produces them newest store_id first (store_walk.h).
 */
#ifndef SM_RESULT_ROWS_H
#define SM_RESULT_ROWS_H

#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/tuplestore.h"

#include "server/store_walk.h"

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

/*
 * The whole of a set-returning call over stores: begin out, walk the
 * stores req names with sink (whose store callback puts rows into out),
 * and return the rows in store_id order.
 */
extern void sm_rows_of_stores(FunctionCallInfo fcinfo, SmDescendingRows *out,
                              const SmComputeRequest *req, const SmStoreSink *sink);

/* A numeric with two decimals: us in units of unit_us, rounded half away from zero. */
extern Datum sm_hundredths_numeric(int64 us, int64 unit_us);

#endif /* SM_RESULT_ROWS_H */
