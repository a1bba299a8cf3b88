# Attack (issue 17), as a careful operator: pg_dump a database whose queue
# holds Queued and Running requests, pg_restore it the ordinary way.  The
# restore's COPY into storemon.reports wakes the worker, which computes the
# requests while the restore is still going: before store_status and
# timezones have their rows (pg_restore writes reports' data first) and
# before the grants are restored.  A superuser's request ends Complete with
# no rows, a reporting role's ends Failed for lack of SELECT.  Fails on the
# current code, on purpose.
use strict;
use warnings;
use lib 't';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use StoremonNode;
use AttackNode;

my $db = 'shop';
my $node = attack_node('attack_restore', $db, roles => ['reporter']);
grant_reporting($node, $db, 'reporter');
$node->safe_psql($db, q{
	-- more stores, so that restoring the polls takes a moment (the sample's, renamed)
	INSERT INTO storemon.store_status
		SELECT s.store_id || '-' || g, s.timestamp_utc, s.status
		FROM storemon.store_status s, generate_series(1, 15) g;
	INSERT INTO storemon.timezones SELECT z.store_id || '-' || g, z.timezone_str
		FROM storemon.timezones z, generate_series(1, 15) g;
});
my $as_of = '2023-01-25 18:00:00+00';

# The worker holds one report, waiting to write its rows; the others queue behind it.
my $locker = $node->background_psql($db);
$locker->query_safe('BEGIN; LOCK TABLE storemon.report_rows IN SHARE MODE');
my $running = $node->safe_psql($db, "SELECT storemon.storemon_trigger_report('$as_of')");
is(wait_status($node, $db, $running, 30, 'Running'), 'Running', 'a report is Running');
my $queued_su = $node->safe_psql($db, "SELECT storemon.storemon_trigger_report('$as_of', 'previous')");
my $queued_rep = ($node->psql($db, "SET ROLE reporter; SELECT storemon.storemon_trigger_report('$as_of')"))[1];
is($node->safe_psql($db, "SELECT count(*) FROM storemon.reports WHERE status = 'Queued'"), '2', 'two requests are Queued');

my $dump = $node->basedir . '/shop.dump';
$node->command_ok(['pg_dump', '-Fc', '-f', $dump, '-h', $node->host, '-p', $node->port, $db], 'pg_dump of the queue');
$locker->query_safe('COMMIT');
$locker->quit;

$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok(['pg_restore', '--exit-on-error', '-d', 'restored', '-h', $node->host, '-p', $node->port, $dump],
	'pg_restore succeeds');
ok($node->poll_query_until('restored', q{SELECT count(*) = 0 FROM storemon.reports WHERE status IN ('Queued', 'Running')}),
	'the restored queue is served');

my $stores = $node->safe_psql('restored', "SELECT count(*) FROM storemon.storemon_compute('$as_of')");
cmp_ok($stores, '>', 3000, "the restored feed has $stores stores at $as_of");
for my $report ([$running, 'superuser', 'Running'], [$queued_su, 'superuser', 'Queued'], [$queued_rep, 'reporter', 'Queued'])
{
	my ($id, $who, $was) = @$report;
	my $role = $who eq 'reporter' ? 'SET ROLE reporter;' : '';
	my $mode = $node->safe_psql('restored', "SELECT interpolation FROM storemon.reports WHERE id = '$id'");
	is($node->safe_psql('restored', "SELECT status FROM storemon.reports WHERE id = '$id'"), 'Complete',
		"the $who\'s request that was $was at the dump is Complete after the restore");
	is($node->safe_psql('restored', qq{$role SELECT count(*) FROM (
		(SELECT store_id, uptime_last_hour, uptime_last_day, uptime_last_week, downtime_last_hour,
		        downtime_last_day, downtime_last_week FROM storemon.report_rows WHERE report_id = '$id'
		 EXCEPT ALL SELECT * FROM storemon.storemon_compute('$as_of', '$mode'))
		UNION ALL
		(SELECT * FROM storemon.storemon_compute('$as_of', '$mode')
		 EXCEPT ALL SELECT store_id, uptime_last_hour, uptime_last_day, uptime_last_week, downtime_last_hour,
		        downtime_last_day, downtime_last_week FROM storemon.report_rows WHERE report_id = '$id')) d}), '0',
		"and holds what storemon_compute gives its requester in the restored database");
}

done_testing();
