/*
 * sharded_load.h — storemon-load on a coordinator: each record to its
 * store's shard, every shard committed or none (sharded_load.c says how).
 */
#ifndef STOREMON_SHARDED_LOAD_H
#define STOREMON_SHARDED_LOAD_H

#include "loader.h"

extern void load_sharded(Loader *l, PGconn *coord);

#endif /* STOREMON_SHARDED_LOAD_H */
