/*
 * compat.h — every difference between the PostgreSQL versions storemon
 * builds on (15, 17, 18), and nothing else.
 *
 * The code calls each API the way the newest of them spells it; for an
 * older server a shim here gives it that spelling, naming the release and
 * the PostgreSQL commit that changed it.  Dropping support for a version
 * means deleting its shims, not editing the code.  No shim changes what a
 * call does: the behaviour is the same on every version.
 *
 * Include it after the PostgreSQL headers of the API it adapts.
 */
#ifndef SM_COMPAT_H
#define SM_COMPAT_H

#include "access/genam.h"
#include "access/htup_details.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_database.h"
#include "catalog/pg_extension.h"
#include "commands/dbcommands.h"
#include "miscadmin.h"
#include "parser/scansup.h"
#include "utils/acl.h"
#include "utils/guc.h"
#include "utils/guc_tables.h"
#include "utils/syscache.h"
#if PG_VERSION_NUM >= 160000
#include "varatt.h" /* VARDATA_ANY and the like, in postgres.h before 16 */
#endif

/*
 * 16, commit afbfc02983f8 ("Refactor ownercheck functions"): one
 * object_ownercheck(classid, oid, role) replaced pg_database_ownercheck,
 * pg_extension_ownercheck and the other per-catalog checks.
 */
#if PG_VERSION_NUM < 160000
static inline bool
object_ownercheck(Oid classid, Oid objectid, Oid roleid)
{
	if (classid == DatabaseRelationId)
		return pg_database_ownercheck(objectid, roleid);
	if (classid == ExtensionRelationId)
		return pg_extension_ownercheck(objectid, roleid);
	elog(ERROR, "storemon: no ownership check for catalog %u on this server version", classid);
	return false; /* not reached */
}
#endif

/*
 * 18, commit 0fbceae841cb ("Show index search count in EXPLAIN ANALYZE,
 * take 2"): index_beginscan takes an IndexScanInstrumentation pointer
 * after the snapshot (NULL: not counted).  Before 18 there is none to pass.
 */
#if PG_VERSION_NUM < 180000
#define index_beginscan(heap, index, snapshot, instrument, nkeys, norderbys)                       \
	(index_beginscan)(heap, index, snapshot, nkeys, norderbys)
#endif

/*
 * 17, commit ae6d06f09684 ("Handle \v as a whitespace character in
 * parsers"): scanner_isspace() counts a vertical tab as white space, as
 * SQL's own lexer then does.  Before 17 it did not, and an interpolation
 * word with a vertical tab around it would be refused on 15 alone.
 */
#if PG_VERSION_NUM < 170000
#define scanner_isspace(ch) (scanner_isspace(ch) || (ch) == '\v')
#endif

/*
 * have_createdb_privilege() is callable from a module only in later minor
 * releases: 15.20, 17.12 and 18.6 export it, 15.18 (Debian 12's point
 * release without its updates) does not, and storemon then fails to load
 * ("undefined symbol").  So storemon asks the same question itself, on
 * every version: a superuser, or a role with CREATEDB.
 */
static inline bool
sm_have_createdb_privilege(void)
{
	HeapTuple role;
	bool createdb;

	if (superuser())
		return true;
	role = SearchSysCache1(AUTHOID, ObjectIdGetDatum(GetUserId()));
	if (!HeapTupleIsValid(role))
		return false;
	createdb = ((Form_pg_authid)GETSTRUCT(role))->rolcreatedb;
	ReleaseSysCache(role);
	return createdb;
}
#define have_createdb_privilege() sm_have_createdb_privilege()

/*
 * 16: get_guc_variables() gives the number of settings through its
 * argument, and GetNumConfigOptions() is gone.
 */
#if PG_VERSION_NUM < 160000
#define get_guc_variables(n) (*(n) = GetNumConfigOptions(), (get_guc_variables)())
#endif

/*
 * 17: transaction_timeout, one more timeout a storemon process fixes to 0
 * (fixed_settings.c); before 17 there is none.
 */
#if PG_VERSION_NUM >= 170000
#define SM_TRANSACTION_TIMEOUT_SETTING {"transaction_timeout", "0"},
#else
#define SM_TRANSACTION_TIMEOUT_SETTING
#endif

/*
 * 17: transaction_timeout again: a parallel worker arms it from the
 * database's and role's settings while it starts, before it takes its
 * leader's settings (parallel_report.c); before 17 no setting acts there.
 */
#if PG_VERSION_NUM >= 170000
#define SM_PARALLEL_STARTUP_SETTING "transaction_timeout"
#else
#define SM_PARALLEL_STARTUP_SETTING NULL
#endif

#endif /* SM_COMPAT_H */
