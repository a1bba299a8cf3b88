/*
 * fixed_settings.h — the settings storemon's own processes run with.
 *
 * The launcher and the report workers run as the bootstrap superuser.
 * Whatever a database's owner sets with ALTER DATABASE ... SET (or a role
 * with ALTER ROLE ... IN DATABASE) would be applied to a worker when it
 * connects: exit_on_error, work_mem, row_security, search_path, timeouts.
 * So a worker takes the server's settings before it connects and puts
 * them back afterwards, then fixes the few it depends on.
 */
#ifndef SM_FIXED_SETTINGS_H
#define SM_FIXED_SETTINGS_H

typedef struct SmSettings SmSettings;

/* The server's settings, before a database's are applied (TopMemoryContext). */
extern SmSettings *sm_settings_before_connect(void);

/*
 * Undo every setting the connection took from pg_db_role_setting, then
 * fix search_path = pg_catalog, pg_temp, writable transactions, no
 * timeouts, and session_replication_role = replica, so that no trigger
 * fires but those a superuser enabled ALWAYS or REPLICA.  Says at DEBUG1
 * which settings it undid.
 */
extern void sm_settings_after_connect(SmSettings *server);

#endif /* SM_FIXED_SETTINGS_H */
