/*
 * sm_grow_libc.c — sm_grow (sm_time.h) outside the server, for the unit
 * tests and the fuzzer: realloc, and abort when memory runs out, as the
 * server build raises an error instead of returning NULL.
 */
#include <stdlib.h>

#include "sm_time.h"

void *
sm_grow(void *ptr, size_t nbytes)
{
	void *p = realloc(ptr, nbytes);

	if (p == NULL)
		abort();
	return p;
}
