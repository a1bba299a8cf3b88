# The queue on a shared server: a request is only what its caller may say,
# nothing a user session can do holds up the queue, no setting a database
# owner makes changes what the worker does, and the worker's error path
# records a Failed report even when it is told to stop meanwhile.
use strict;
use warnings;
use lib 't';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use StoremonNode;

my $db = 'shared';
my $node = database_node('queue', $db, roles => [qw(owner reporter reporter2 forger stranger)], owner => 'owner',
	conf => {'storemon.worker_idle_timeout' => '1s', 'max_prepared_transactions' => 4,
		'storemon.max_queued_reports_per_role' => 3, 'log_min_messages' => 'debug1'});
grant_reporting($node, $db, 'reporter', 'reporter2');
$node->safe_psql($db, q{
	-- More than the README grants: every privilege on the queue's tables.
	GRANT ALL ON storemon.reports, storemon.report_rows TO forger;
	GRANT USAGE ON SEQUENCE storemon.reports_seq TO forger;
});
my $started = $node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()');

sub as_role
{
	my ($role, $sql, $dbname) = @_;
	my ($rc, $out, $err) = $node->psql($dbname // $db, "SET ROLE $role; $sql");
	return ($rc, $out, $err);
}

sub reports { $node->safe_psql($db, 'SELECT count(*) FROM storemon.reports') }

# Until the database's idle workers have left, so the next one starts afresh.
sub workers_gone
{
	$node->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'storemon worker'");
	return;
}

# 1. Every column but requested_as_of and interpolation is storemon's to set.
my ($rc, $out, $err) = as_role('forger', q{INSERT INTO storemon.reports (requested_by) VALUES ('reporter') RETURNING id});
is($rc, 0, 'a role with INSERT on reports may queue a request') or diag($err);
my $forged = $out;
is($node->safe_psql($db, "SELECT requested_by FROM storemon.reports WHERE id = '$forged'"), 'forger',
	'requested_by is the inserting role, whatever it says');
is(wait_status($node, $db, $forged, 'Complete', 'Failed'), 'Failed',
	'so the request is computed with its own privileges (none on the feed) and fails');
($rc, $out, $err) = as_role('forger', q{INSERT INTO storemon.reports
	(id, seq, status, as_of, requested_by, queued_at, started_at, finished_at, attempts, worker_pid,
	 worker_started, stores_done, stores_total, error)
	VALUES ('00000000-0000-0000-0000-000000000001', 9000000000000000000, 'Complete', '2030-01-01',
	        'postgres', '2000-01-01', now(), now(), 7, 1, now(), 5, 5, 'x') RETURNING id});
is($rc, 0, 'a request naming every column is queued ...') or diag($err);
my $second = $out;
is($node->safe_psql($db, qq{SELECT id <> '00000000-0000-0000-0000-000000000001' AND seq < 1000000
	AND status IN ('Queued', 'Running', 'Failed') AND as_of IS NULL AND requested_by = 'forger'
	AND queued_at > now() - interval '1 hour' AND attempts <= 1 AND stores_total IS NULL
	FROM storemon.reports WHERE id = '$second'}), 't', '... with every column but the two set by storemon');
is(wait_status($node, $db, $second, 'Complete', 'Failed'), 'Failed', 'and computed as the forger: Failed');
is($node->safe_psql($db, 'SELECT storemon.storemon_latest_report()'), '',
	'storemon_latest_report finds no forged Complete report');
($rc, $out, $err) = as_role('forger', "UPDATE storemon.reports SET status = 'Complete' WHERE id = '$second'");
like($err, qr/storemon: reports are changed by storemon's worker only/, 'an UPDATE of a request is refused ...');
is($node->safe_psql($db, "SELECT status FROM storemon.reports WHERE id = '$second'"), 'Failed', '... and changes nothing');
($rc, $out, $err) = as_role('forger', "INSERT INTO storemon.report_rows VALUES ('$second', 'x', 1, 1, 1, 1, 1, 1)");
like($err, qr/storemon: report rows are written by storemon's worker only/, 'report rows cannot be forged');
($rc, $out, $err) = as_role('forger', "DELETE FROM storemon.reports WHERE id = '$forged'");
is($rc, 0, 'DELETE stays what its grant says (purging)') or diag($err);

# 2. The interpolation mode is checked when the request is queued.
my $count = reports();
for my $mode ("repeat('a', 14) || 'é'", "'previous       <-- anything'", "repeat('é', 30)", 'NULL', "'linear'")
{
	($rc, $out, $err) = as_role('reporter', "INSERT INTO storemon.reports (interpolation) VALUES ($mode)");
	like($err, qr/storemon: (unknown interpolation mode|interpolation mode must not be NULL)/,
		"an INSERT with interpolation $mode is refused when queued");
}
($rc, $out, $err) = as_role('reporter', q{SELECT storemon.storemon_trigger_report(NULL, repeat('é', 30))});
like($err, qr/unknown interpolation mode "(é){20}\.\.\."/, 'a long mode in the error is cut at a character boundary');
is(reports(), $count, 'and nothing was queued');
my $canonical = ($node->psql($db, q{SET ROLE reporter;
	INSERT INTO storemon.reports (interpolation) VALUES (E' Previous\t') RETURNING interpolation}))[1];
is($canonical, 'previous', 'a request stores the word itself');

# A database holding every kind of report dumps and restores (once the
# worker is done with what was queued, so the counts compared are final).
ok($node->poll_query_until($db, q{SELECT count(*) = 0 FROM storemon.reports WHERE status IN ('Queued', 'Running')}),
	'the queue is idle before the dump');
my $dump = $node->basedir . '/shared.dump';
$node->command_ok(['pg_dump', '-Fc', '-f', $dump, '-h', $node->host, '-p', $node->port, $db], 'pg_dump of the queue');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok(['pg_restore', '--exit-on-error', '-d', 'restored', '-h', $node->host, '-p', $node->port, $dump],
	'pg_restore of it succeeds');
is($node->safe_psql('restored', 'SELECT count(*), count(*) FILTER (WHERE status = \'Failed\') FROM storemon.reports'),
	$node->safe_psql($db, 'SELECT count(*), count(*) FILTER (WHERE status = \'Failed\') FROM storemon.reports'),
	'with every report as it was');

ok($node->poll_query_until($db, q{SELECT count(*) = 0 FROM storemon.reports WHERE status IN ('Queued', 'Running')}),
	'every request so far is served');

# 3. A crash by argument: progress(NULL) while a report computes.
my $locker = $node->background_psql($db);
$locker->query_safe('BEGIN; LOCK TABLE storemon.store_status IN ACCESS EXCLUSIVE MODE');
my $running = ($node->psql($db, 'SET ROLE reporter; SELECT storemon.storemon_trigger_report()'))[1];
is(wait_status($node, $db, $running, 'Running'), 'Running', 'a report is Running (blocked on a lock)');
($rc, $out, $err) = as_role('stranger', 'SELECT storemon_internal.progress(NULL)');
is($rc, 0, 'progress(NULL) as a role without grants answers') or diag($err);
is($node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()'), $started, 'and the server did not restart');
($rc, $out, $err) = as_role('stranger', "SELECT storemon_internal.progress('$running')");
is($out, '', 'progress of a report the role may not read is NULL');

# 4. Fairness: one role's Queued requests are capped.
for my $i (1 .. 3)
{
	($rc, $out, $err) = as_role('reporter', 'SELECT storemon.storemon_trigger_report()');
	is($rc, 0, "reporter queues request $i of 3") or diag($err);
}
($rc, $out, $err) = as_role('reporter', 'SELECT storemon.storemon_trigger_report()');
like($err, qr/storemon: role "reporter" already has 3 reports queued.*storemon\.max_queued_reports_per_role/s,
	'the fourth is refused, naming the setting');
($rc, $out, $err) = as_role('reporter2', 'SELECT storemon.storemon_trigger_report()');
is($rc, 0, 'another role still queues') or diag($err);
$locker->query_safe('COMMIT');
ok($node->poll_query_until($db, q{SELECT count(*) = 0 FROM storemon.reports WHERE status IN ('Queued', 'Running')}),
	'once the lock goes, every request is served');

# 5. No lock a role can take stalls the queue: the advisory keys storemon used.
$locker->query_safe('SET ROLE stranger');
$locker->query_safe('SELECT pg_advisory_lock(1398033742, -1), pg_advisory_lock(1398033742)');
$locker->query_safe('SELECT pg_advisory_lock((1398033742::bigint << 32) | 4294967295)');
my $t0 = time;
my $id = ($node->psql($db, 'SET ROLE reporter; SELECT storemon.storemon_trigger_report()'))[1];
is(wait_status($node, $db, $id, 'Complete', 'Failed'), 'Complete',
	'a request completes while a role holds the advisory locks of the queue\'s old key');
cmp_ok(time - $t0, '<', 10, 'within seconds');
$locker->quit;

# 6. Several guarded commands in one transaction are all released at commit.
for my $name ('a', 'b')
{
	$node->safe_psql('postgres', "CREATE DATABASE $name");
	$node->safe_psql($name, 'CREATE EXTENSION storemon');
}
my $renamer = $node->background_psql('postgres');
$renamer->query_safe('BEGIN; ALTER DATABASE a RENAME TO a2; ALTER DATABASE b RENAME TO b2; COMMIT');
for my $name ('a2', 'b2')
{
	$id = $node->safe_psql($name, 'SELECT storemon.storemon_trigger_report()');
	is(wait_status($node, $name, $id, 'Complete', 'Failed'), 'Complete',
		"$name: a request after two renames in one transaction is served at once");
}
$renamer->quit;

# 7. However its transaction came to commit: PREPARE, then COMMIT PREPARED elsewhere.
workers_gone();
my $preparer = $node->background_psql($db);
$id = $preparer->query_safe(q{BEGIN; SET ROLE reporter; SELECT storemon.storemon_trigger_report()});
$preparer->query_safe(q{PREPARE TRANSACTION 'queued'});
$preparer->quit;
workers_gone();
$node->safe_psql($db, q{COMMIT PREPARED 'queued'});
is(wait_status($node, $db, $id, 'Complete', 'Failed'), 'Complete', 'a request committed by COMMIT PREPARED is served');

# 8. No setting the database owner makes changes what the worker does.
my @hostile = (
	"exit_on_error = on", "statement_timeout = '1ms'", "lock_timeout = '1ms'", "work_mem = '64kB'",
	"row_security = off", "default_transaction_isolation = 'serializable'", "synchronous_commit = off",
	"DateStyle = 'SQL, DMY'", "TimeZone = 'Asia/Tokyo'", "plpgsql.extra_errors = 'all'",
	"idle_in_transaction_session_timeout = '1ms'", "default_transaction_read_only = on",
	($node->pg_version >= 16 ? "debug_parallel_query = on" : "force_parallel_mode = on"),
	($node->pg_version >= 17 ? ("transaction_timeout = '1ms'") : ()));
# The test's own sessions override the owner's settings for themselves, and
# run no parallel query: a parallel worker applies the database's settings
# before its leader's, so the owner's transaction_timeout would end it.
local $ENV{PGOPTIONS} = join(' ', map { "-c $_" } 'exit_on_error=off', 'statement_timeout=0', 'lock_timeout=0',
	'idle_in_transaction_session_timeout=0', 'default_transaction_read_only=off', 'plpgsql.extra_errors=none',
	($node->pg_version >= 16 ? 'debug_parallel_query=off' : 'force_parallel_mode=off'),
	($node->pg_version >= 17 ? ('transaction_timeout=0') : ()));
for my $setting (@hostile)
{
	# plpgsql's settings are known to a session that has run plpgsql
	($rc, $out, $err) = as_role('owner', "DO \$\$BEGIN END\$\$; ALTER DATABASE shared SET $setting");
	is($rc, 0, "the owner sets $setting on the database") or diag($err);
}
workers_gone();
my $offset = -s $node->logfile;
my $good = $node->safe_psql($db, 'SET ROLE reporter; SELECT storemon.storemon_trigger_report()');
my $failing = $node->safe_psql($db, 'SET ROLE forger; SELECT storemon.storemon_trigger_report()');
is(wait_status($node, $db, $good, 'Complete', 'Failed'), 'Complete', 'a report still completes');
is(wait_status($node, $db, $failing, 'Complete', 'Failed'), 'Failed', 'a failing one still fails ...');
is($node->safe_psql($db, "SELECT attempts FROM storemon.reports WHERE id = '$failing'"), '1',
	'... at its first attempt, with its own error (exit_on_error changed nothing)');
like($node->safe_psql($db, "SELECT error FROM storemon.reports WHERE id = '$failing'"), qr/^permission denied/,
	'its error is the permission error');
is(rows_unlike_compute($node, $db, $good), '0', 'with the rows storemon_compute gives');
# The same with storemon.parallel_workers: PostgreSQL's parallel workers apply
# the database's settings before their leader's, and an owner's
# transaction_timeout ends them there; the report is then computed serially.
$node->safe_psql($db, 'ANALYZE storemon.store_status');
$node->append_conf('postgresql.conf', 'storemon.parallel_workers = 2');
$node->reload;
workers_gone();
my $parallel_offset = -s $node->logfile;
my $parallel = $node->safe_psql($db, 'SET ROLE reporter; SELECT storemon.storemon_trigger_report()');
is(wait_status($node, $db, $parallel, 'Complete', 'Failed'), 'Complete',
	'a report with storemon.parallel_workers completes') or diag($node->safe_psql($db,
	"SELECT error FROM storemon.reports WHERE id = '$parallel'"));
is(rows_unlike_compute($node, $db, $parallel), '0', '... with the rows storemon_compute gives');
like(slurp_file($node->logfile, $parallel_offset), $node->pg_version >= 17
	? qr/storemon computes this report in one process: the database or role sets transaction_timeout/
	: qr/starting background worker process "parallel worker for PID/,
	'... in one process where a setting would end its parallel workers (17 and later), else in parallel');
if ($node->pg_version >= 17)
{
	# A timeout no parallel worker takes to start leaves the report parallel.
	as_role('owner', "ALTER DATABASE shared SET transaction_timeout = '10min'");
	workers_gone();
	$parallel_offset = -s $node->logfile;
	$parallel = $node->safe_psql($db, 'SET ROLE reporter; SELECT storemon.storemon_trigger_report()');
	is(wait_status($node, $db, $parallel, 'Complete', 'Failed'), 'Complete',
		"with the owner's transaction_timeout at 10 minutes, a report completes ...");
	like(slurp_file($node->logfile, $parallel_offset), qr/starting background worker process "parallel worker for PID/,
		'... in parallel workers');
}
$node->append_conf('postgresql.conf', 'storemon.parallel_workers = 0');
$node->reload;
my @names = split /\n/, $node->safe_psql($db, q{SELECT split_part(s, '=', 1) FROM pg_db_role_setting,
	unnest(setconfig) s WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = 'shared') ORDER BY 1});
my $log = slurp_file($node->logfile, $offset);
for my $name (@names)
{
	like($log, qr/storemon worker ignores the database's settings of [^\n]*\b\Q$name\E\b/i,
		"the worker says it ignores the database's $name");
}
$node->safe_psql('postgres', 'ALTER DATABASE shared RESET ALL');
delete $ENV{PGOPTIONS};

# 9. The error path records Failed even when SIGTERM comes in the middle of it.
load_sample($node, 'errpath');
my $tables = $node->background_psql('errpath');
$tables->query_safe('BEGIN; LOCK TABLE storemon.store_status IN ACCESS EXCLUSIVE MODE');
$id = $node->safe_psql('errpath', 'SELECT storemon.storemon_trigger_report()');
is(wait_status($node, 'errpath', $id, 'Running'), 'Running', 'error path: the report is Running');
my $row = $node->background_psql('errpath');
$row->query_safe("BEGIN; SELECT 1 FROM storemon.reports WHERE id = '$id' FOR UPDATE");
# The computation fails once the lock goes: its index is gone.
$offset = -s $node->logfile;
$tables->query_safe('DROP INDEX storemon.store_status_store_time_idx; COMMIT');
ok($node->wait_for_log(qr/ERROR: [^\n]*\n(?:[^\n]*\n)*?[^\n]*CONTEXT: (?:[^\n]*\n)*?\s*storemon worker computing report $id requested by postgres/, $offset),
	'error path: the whole error is logged with a context naming the report');
my $pid = worker_pid($node, 'errpath') ||
  $node->safe_psql('postgres', q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'storemon worker' AND datname = 'errpath'});
$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
$row->query_safe('COMMIT');
is(wait_status($node, 'errpath', $id, 'Complete', 'Failed'), 'Failed', 'error path: the report is Failed ...');
is($node->safe_psql('errpath', "SELECT attempts FROM storemon.reports WHERE id = '$id'"), '1',
	'... by the attempt that failed, not retried after the SIGTERM');
$tables->quit;
$row->quit;

is($node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()'), $started, 'no process crashed the server');
$node->stop;
done_testing();
