/*
 * direct_status.h — the polls file straight into store_status by binary
 * COPY while its records are clean (direct_status.c says how).
 */
#ifndef STOREMON_DIRECT_STATUS_H
#define STOREMON_DIRECT_STATUS_H

#include "direct_load.h"

extern const DirectWay status_direct;

#endif /* STOREMON_DIRECT_STATUS_H */
