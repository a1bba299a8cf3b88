/*
 * feed_functions.c — SQL functions about the feed's rows themselves:
 *
 *   storemon_internal.store_id_ok(text), status_ok(text)
 *       the feed tables' CHECK constraints (one implementation a rule)
 *   storemon_internal.is_feed_timestamp(text)   the loader's shape check
 *   storemon_internal.warm_indexes()            after the loader's bulk build
 */
#include "postgres.h"

#include "access/detoast.h"
#include "access/genam.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/builtins.h"
#include "utils/rel.h"

#include "compat.h"
#include "core/feed_format.h"
#include "server/catalog.h"

/*
 * storemon_internal.is_feed_timestamp(text): has the value the shape of a
 * feed timestamp (feed_format.h)?  The loader's INSERT casts only values
 * that do, at a tenth of the cost of the equivalent regular expression.
 */
PG_FUNCTION_INFO_V1(storemon_is_feed_timestamp);

Datum
storemon_is_feed_timestamp(PG_FUNCTION_ARGS)
{
	text *value = PG_GETARG_TEXT_PP(0);

	PG_RETURN_BOOL(sm_feed_timestamp_shape(VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value)));
}

/*
 * storemon_internal.store_id_ok(text) and status_ok(text): store_status's
 * CHECK constraints (1.2), one C call each per row instead of an
 * expression of four to five function calls.  A bulk COPY of two million
 * polls checks every row; the same rules: a store_id of 1 to 1024 bytes,
 * a status of exactly 'active' or 'inactive'.
 */
PG_FUNCTION_INFO_V1(storemon_store_id_ok);

Datum
storemon_store_id_ok(PG_FUNCTION_ARGS)
{
	Size len = toast_raw_datum_size(PG_GETARG_DATUM(0)) - VARHDRSZ;

	PG_RETURN_BOOL(len > 0 && len <= 1024);
}

PG_FUNCTION_INFO_V1(storemon_status_ok);

Datum
storemon_status_ok(PG_FUNCTION_ARGS)
{
	text *status = PG_GETARG_TEXT_PP(0);
	Size len = VARSIZE_ANY_EXHDR(status);
	const char *p = VARDATA_ANY(status);

	PG_RETURN_BOOL((len == 6 && memcmp(p, "active", 6) == 0) ||
	               (len == 8 && memcmp(p, "inactive", 8) == 0));
}

/*
 * storemon_internal.warm_indexes(): read store_status's indexes into shared
 * buffers.  A bulk-built btree is written straight to disk, past shared
 * buffers, so without this the first report after a bulk load would read
 * its index cold.  An index larger than a quarter of shared buffers is left
 * alone rather than evict the rest.
 * Returns the pages read.  Needs SELECT on store_status, like a report.
 */
PG_FUNCTION_INFO_V1(storemon_warm_indexes);

Datum
storemon_warm_indexes(PG_FUNCTION_ARGS)
{
	SmCatalog cat;
	Oid indexes[2];
	int64 pages = 0;

	sm_catalog_lookup(&cat);
	sm_check_read_privileges(&cat, GetUserId(), true);
	indexes[0] = cat.store_status_store_time_idx;
	indexes[1] = cat.store_status_time_idx;
	for (int i = 0; i < lengthof(indexes); i++)
	{
		Relation rel = index_open(indexes[i], AccessShareLock);
		BlockNumber nblocks = RelationGetNumberOfBlocks(rel);

		if (nblocks <= (BlockNumber)(NBuffers / 4))
			for (BlockNumber b = 0; b < nblocks; b++, pages++)
			{
				CHECK_FOR_INTERRUPTS();
				ReleaseBuffer(ReadBufferExtended(rel, MAIN_FORKNUM, b, RBM_NORMAL, NULL));
			}
		index_close(rel, AccessShareLock);
	}
	PG_RETURN_INT64(pages);
}
