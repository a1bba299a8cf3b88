# Faults while a report runs: a server crash, a worker killed with SIGKILL,
# a worker terminated with pg_terminate_backend, a report waiting on a lock,
# a report that fails.  Nothing is lost or stuck: the interrupted report
# completes on its second attempt, equal to storemon_compute for its as_of.
use strict;
use warnings;
use lib 't';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use StoremonNode;

my $db = 'storemon_test';
my $node = storemon_node('faults', 'storemon.worker_idle_timeout' => '2s', restart_after_crash => 'on');
load_sample($node, $db);

# A report that cannot finish: another session holds a feed table locked.
sub running_report
{
	my ($what, $table) = @_;
	my $locker = $node->background_psql($db);
	$locker->query_safe("BEGIN; LOCK TABLE storemon.$table IN ACCESS EXCLUSIVE MODE");
	my $id = $node->safe_psql($db, 'SELECT storemon_trigger_report()');
	is(wait_status($node, $db, $id, 'Running'), 'Running', "$what: the report is Running");
	unlike($node->safe_psql($db, "SELECT detail FROM storemon_get_report('$id')"), qr/stopped/,
		"$what: and its worker is seen computing it");
	return ($id, $locker);
}

# The report completed on its second attempt with the rows storemon_compute gives.
sub completed_again
{
	my ($id, $what) = @_;
	is(wait_status($node, $db, $id, 'Complete', 'Failed'), 'Complete', "$what: it completes");
	is($node->safe_psql($db, "SELECT attempts FROM reports WHERE id = '$id'"), '2',
		"$what: on its second attempt");
	is(rows_unlike_compute($node, $db, $id), '0', "$what: with the rows storemon_compute gives for its as_of");
}

# 1. The server crashes (immediate stop) during a report.
my ($id, $locker) = running_report('crash', 'store_status');
ok($node->poll_query_until($db, "SELECT detail ~ '^waiting for a lock \\(relation\\)' FROM storemon_get_report('$id')"),
	'a report blocked on a lock says so in its progress');
$node->stop('immediate');
eval { $locker->quit };
$node->start;
completed_again($id, 'crash');

# 2. The worker is killed with SIGKILL: the postmaster restarts the server.
($id, $locker) = running_report('SIGKILL', 'store_status');
my $pid = worker_pid($node, $db);
ok($pid, 'SIGKILL: the worker computing it is found');
kill 'KILL', $pid;
eval { $locker->quit };
$node->poll_query_until('postgres', 'SELECT true') or die 'server did not come back';
completed_again($id, 'SIGKILL');

# 3. The worker is terminated: its report is picked up again within seconds,
#    not after a launcher nap.
($id, $locker) = running_report('terminate', 'store_status');
$pid = worker_pid($node, $db);
my $t0 = time;
$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
$locker->query_safe('COMMIT');
$locker->quit;
is(wait_status($node, $db, $id, 'Complete', 'Failed'), 'Complete', 'terminate: it completes');
my $took = time - $t0;
# Not a speed target: the launcher looks on its own only every 60 s
# (IDLE_WAKEUP_MS), so done sooner means the worker's exit woke it.
cmp_ok($took, '<', 60, sprintf('terminate: woken, not found by the launcher\'s 60 s look (done in %.1f s)', $took));
completed_again($id, 'terminate');

# 4. A report blocked on a lock does not hold up another database's reports.
load_sample($node, 'other');
($id, $locker) = running_report('lock', 'menu_hours');
my $other = $node->safe_psql('other', 'SELECT storemon_trigger_report()');
is(wait_status($node, 'other', $other, 'Complete', 'Failed'), 'Complete',
	'a blocked report in one database does not hold up another database');
$locker->query_safe('COMMIT');
$locker->quit;
is(wait_status($node, $db, $id, 'Complete', 'Failed'), 'Complete', 'and it completes once the lock goes');

# 5. A failing report is Failed with its error, logged whole; the worker goes on.
#    (A bad mode is refused when queued: the failure here is the requester's
#    missing grant on the feed.)
$node->safe_psql($db, q{CREATE ROLE nofeed;
	GRANT INSERT (requested_as_of, interpolation) ON storemon.reports TO nofeed;
	GRANT SELECT (id) ON storemon.reports TO nofeed;
	GRANT USAGE ON SEQUENCE storemon.reports_seq TO nofeed});
my $offset = -s $node->logfile;
my $bad = $node->safe_psql($db, "SET ROLE nofeed; SELECT storemon.storemon_trigger_report()");
is(wait_status($node, $db, $bad, 'Complete', 'Failed'), 'Failed', 'a failing report ends Failed');
ok($node->wait_for_log(qr/ERROR:  permission denied for table storemon.store_status\n.*DETAIL:  Role "nofeed" needs SELECT.*\n.*CONTEXT:  storemon worker computing report $bad requested by nofeed/s, $offset),
	'the worker logs the whole error: message, detail and the report it was computing');
my $next = $node->safe_psql($db, 'SELECT storemon_trigger_report()');
is(wait_status($node, $db, $next, 'Complete', 'Failed'), 'Complete', 'the next report still completes');
like(($node->psql($db, "SELECT storemon_report_csv('$bad')"))[2] // '',
	qr/Failed, so it has no CSV.*HINT:.*trigger a new report/s, 'the CSV of a Failed report says to trigger a new one');

# 6. The launcher is terminated while a report runs: it comes back, the
#    report completes, and the worker it no longer knows frees its slot.
($id, $locker) = running_report('launcher', 'store_status');
my $launcher = $node->safe_psql('postgres',
	q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'storemon launcher'});
$node->safe_psql('postgres', "SELECT pg_terminate_backend($launcher)");
ok($node->poll_query_until('postgres', qq{SELECT count(*) = 1 FROM pg_stat_activity
	WHERE backend_type = 'storemon launcher' AND pid <> $launcher}), 'launcher: it is restarted');
$locker->query_safe('COMMIT');
$locker->quit;
is(wait_status($node, $db, $id, 'Complete', 'Failed'), 'Complete', 'launcher: the running report completes');
for my $round (1 .. 3)
{
	$next = $node->safe_psql($db, 'SELECT storemon_trigger_report()');
	is(wait_status($node, $db, $next, 'Complete', 'Failed'), 'Complete',
		"launcher: a new report completes ($round)");
	$node->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'storemon worker'");
}

# 7. Idle workers leave and free their slot.
ok($node->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'storemon worker'"),
	'idle workers leave after storemon.worker_idle_timeout');

$node->stop;
done_testing();
