/*
 * core_alloc.h — where the plain-C core allocates (sm_grow, core/sm_time.h)
 * when it runs in the server: the memory context of the computation that
 * runs it, freed with that computation.
 */
#ifndef SM_CORE_ALLOC_H
#define SM_CORE_ALLOC_H

#include "postgres.h"

/* From now on sm_grow allocates in context (NULL: no computation runs). */
extern void sm_core_alloc_in(MemoryContext context);

#endif /* SM_CORE_ALLOC_H */
