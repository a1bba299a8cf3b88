/*
 * direct_hours.h — the hours file straight into menu_hours, its clean
 * records held and sent in store_id order (direct_hours.c says how).
 */
#ifndef STOREMON_DIRECT_HOURS_H
#define STOREMON_DIRECT_HOURS_H

#include "direct_load.h"

extern const DirectWay hours_direct;

#endif /* STOREMON_DIRECT_HOURS_H */
