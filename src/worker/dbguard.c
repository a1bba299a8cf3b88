/*
 * dbguard.c — commands that need a database to themselves get it.
 *
 * DROP DATABASE, ALTER DATABASE ... RENAME and CREATE DATABASE ... TEMPLATE
 * fail while any other session is connected to the database, and a report
 * worker is a session.  As TimescaleDB stops its scheduler for these
 * commands, a ProcessUtility hook (in every backend, since storemon is
 * preloaded) blocks the database in shared memory, so the launcher starts
 * no worker there, and tells the workers there to leave; the command's own
 * wait for other sessions then sees them gone.  DROP EXTENSION
 * storemon gets the same, so that it does not deadlock with a running
 * report.  The block ends with the transaction.
 *
 * Only a role that may run the command gets this: the owner of the
 * database (or extension), with CREATEDB to rename it, or a role with
 * CREATEDB copying a template it owns or one marked a template.  A
 * role that could not run the command cannot use it to stop other
 * people's reports.  A report stopped this way is retried like any report
 * whose worker stopped.  One transaction may block several databases; all
 * are released when it ends.
 *
 * The same hook wakes the queue after COMMIT PREPARED.
 */
#include "postgres.h"

#include <signal.h>

#include "access/xact.h"
#include "catalog/pg_database.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "storage/lwlock.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "compat.h"
#include "worker/dbguard.h"
#include "worker/shared_memory.h"

static ProcessUtility_hook_type prev_utility_hook = NULL;
/* Databases this backend blocked, until its transaction ends (TopMemoryContext). */
static List *blocked_dbs = NIL;
static bool callback_registered = false;

static void
unblock_at_end(XactEvent event, void *arg)
{
	ListCell *lc;

	if (blocked_dbs == NIL ||
	    (event != XACT_EVENT_COMMIT && event != XACT_EVENT_ABORT && event != XACT_EVENT_PREPARE &&
	     event != XACT_EVENT_PARALLEL_COMMIT && event != XACT_EVENT_PARALLEL_ABORT))
		return;
	LWLockAcquire(sm_shared->lock, LW_EXCLUSIVE);
	foreach (lc, blocked_dbs)
	{
		SmDatabase *db = sm_database_entry(lfirst_oid(lc), false);

		if (db != NULL && db->blocker == MyProcPid)
			db->blocker = 0;
	}
	if (sm_shared->launcher_latch != NULL)
		SetLatch(sm_shared->launcher_latch);
	LWLockRelease(sm_shared->lock);
	list_free(blocked_dbs);
	blocked_dbs = NIL;
}

/* Block dboid for this transaction and ask its workers to leave. */
static void
block_database(Oid dboid)
{
	SmDatabase *db;

	if (!callback_registered)
	{
		RegisterXactCallback(unblock_at_end, NULL);
		callback_registered = true;
	}
	LWLockAcquire(sm_shared->lock, LW_EXCLUSIVE);
	db = sm_database_entry(dboid, true);
	if (db != NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		db->blocker = MyProcPid;
		blocked_dbs = list_append_unique_oid(blocked_dbs, dboid);
		MemoryContextSwitchTo(old);
	}
	for (int i = 0; i < SM_MAX_WORKERS; i++)
	{
		SmWorkerSlot *w = &sm_shared->workers[i];

		if (w->in_use && w->dboid == dboid && w->pid != 0)
			(void)kill(w->pid, SIGTERM);
	}
	LWLockRelease(sm_shared->lock);
}

static Oid
owned_database(const char *name)
{
	Oid dboid = get_database_oid(name, true);

	return OidIsValid(dboid) && object_ownercheck(DatabaseRelationId, dboid, GetUserId())
	           ? dboid
	           : InvalidOid;
}

/* CREATE DATABASE copies its template: the one named, or template1. */
static Oid
copied_template(CreatedbStmt *stmt)
{
	const char *name = "template1";
	ListCell *lc;
	Oid dboid;
	HeapTuple tup;
	bool is_template = false;

	foreach (lc, stmt->options)
	{
		DefElem *option = lfirst(lc);

		if (strcmp(option->defname, "template") == 0)
			name = defGetString(option);
	}
	dboid = get_database_oid(name, true);
	if (!OidIsValid(dboid))
		return InvalidOid;
	tup = SearchSysCache1(DATABASEOID, ObjectIdGetDatum(dboid));
	if (HeapTupleIsValid(tup))
	{
		is_template = ((Form_pg_database)GETSTRUCT(tup))->datistemplate;
		ReleaseSysCache(tup);
	}
	/* CREATE DATABASE takes CREATEDB, and a template the role owns or one marked so */
	if (have_createdb_privilege() &&
	    (object_ownercheck(DatabaseRelationId, dboid, GetUserId()) || is_template))
		return dboid;
	return InvalidOid;
}

/* DROP EXTENSION naming storemon, run by its owner: this database. */
static Oid
dropped_extension(DropStmt *stmt)
{
	ListCell *lc;
	Oid ext;

	if (stmt->removeType != OBJECT_EXTENSION)
		return InvalidOid;
	ext = get_extension_oid("storemon", true);
	if (!OidIsValid(ext) || !object_ownercheck(ExtensionRelationId, ext, GetUserId()))
		return InvalidOid;
	foreach (lc, stmt->objects)
		if (strcmp(strVal(lfirst(lc)), "storemon") == 0)
			return MyDatabaseId;
	return InvalidOid;
}

/* The database a utility statement needs to itself, or InvalidOid. */
static Oid
database_needed_alone(Node *stmt)
{
	switch (nodeTag(stmt))
	{
		case T_DropdbStmt:
			return owned_database(((DropdbStmt *)stmt)->dbname);
		case T_RenameStmt:
			/* renaming a database takes CREATEDB too */
			if (((RenameStmt *)stmt)->renameType == OBJECT_DATABASE && have_createdb_privilege())
				return owned_database(((RenameStmt *)stmt)->subname);
			return InvalidOid;
		case T_CreatedbStmt:
			return copied_template((CreatedbStmt *)stmt);
		case T_DropStmt:
			return dropped_extension((DropStmt *)stmt);
		default:
			return InvalidOid;
	}
}

/*
 * COMMIT PREPARED commits a transaction that may have queued a request,
 * whose own commit-time wake (queue_sql.c) never ran: wake this
 * database, where a prepared transaction must be committed.
 */
static bool
commits_prepared(Node *stmt)
{
	return IsA(stmt, TransactionStmt) &&
	       ((TransactionStmt *)stmt)->kind == TRANS_STMT_COMMIT_PREPARED;
}

static void
wake_for_prepared(void)
{
	if (OidIsValid(get_extension_oid("storemon", true)))
		(void)sm_registry_wake(MyDatabaseId, true);
}

static void
guard_utility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
              ProcessUtilityContext context, ParamListInfo params, QueryEnvironment *queryEnv,
              DestReceiver *dest, QueryCompletion *qc)
{
	Oid dboid = database_needed_alone(pstmt->utilityStmt);

	if (OidIsValid(dboid))
		block_database(dboid);
	if (prev_utility_hook)
		prev_utility_hook(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest,
		                        qc);
	if (commits_prepared(pstmt->utilityStmt))
		wake_for_prepared();
}

void
sm_dbguard_init(void)
{
	prev_utility_hook = ProcessUtility_hook;
	ProcessUtility_hook = guard_utility;
}
