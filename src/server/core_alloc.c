/*
 * core_alloc.c — the core's allocator in the server (see core_alloc.h).
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "core/sm_time.h"
#include "server/core_alloc.h"

static MemoryContext grow_context = NULL;

void
sm_core_alloc_in(MemoryContext context)
{
	grow_context = context;
}

void *
sm_grow(void *ptr, size_t nbytes)
{
	if (ptr == NULL)
		return MemoryContextAlloc(grow_context, nbytes);
	return repalloc(ptr, nbytes);
}
