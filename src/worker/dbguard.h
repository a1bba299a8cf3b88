/*
 * dbguard.h — DROP DATABASE, ALTER DATABASE ... RENAME, CREATE DATABASE
 * ... TEMPLATE and DROP EXTENSION storemon get the database to themselves
 * (see dbguard.c).
 */
#ifndef SM_DBGUARD_H
#define SM_DBGUARD_H

/* From _PG_init: install the ProcessUtility hook. */
extern void sm_dbguard_init(void);

#endif /* SM_DBGUARD_H */
