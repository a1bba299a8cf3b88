# Attack (issue 17), as a careful operator: pg_dump a database whose queue
# holds Queued and Running requests, pg_restore it the ordinary way.  The
# restore's COPY into storemon.reports woke the worker, which computed the
# requests while the restore was still going: before store_status and
# timezones had their rows (pg_restore writes reports' data first) and
# before the grants were restored.  A superuser's request ended Complete
# with no rows, a reporting role's Failed for lack of SELECT.  Now a dump
# carries finished reports only, and those come back as they were.
use strict;
use warnings;
use lib 't';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use StoremonNode;

my $db = 'shop';
my $node = database_node('attack_restore', $db, roles => ['reporter']);
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

# A finished report, to come back whole.
my $done = $node->safe_psql($db, "SELECT storemon.storemon_trigger_report('$as_of')");
is(wait_status($node, $db, $done, 'Complete', 'Failed'), 'Complete', 'a report is Complete before the dump');
my $csv = $node->safe_psql($db, "SELECT storemon.storemon_report_csv('$done')");

# The worker holds one report, waiting to write its rows; the others queue behind it.
my $locker = $node->background_psql($db);
$locker->query_safe('BEGIN; LOCK TABLE storemon.report_rows IN SHARE MODE');
my $running = $node->safe_psql($db, "SELECT storemon.storemon_trigger_report('$as_of')");
is(wait_status($node, $db, $running, 'Running'), 'Running', 'a report is Running');
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
for my $report ([$running, 'superuser', 'Running'], [$queued_su, 'superuser', 'Queued'], [$queued_rep, 'reporter', 'Queued'])
{
	my ($id, $who, $was) = @$report;
	is($node->safe_psql('restored', "SELECT count(*) FROM storemon.reports WHERE id = '$id'"), '0',
		"the $who\'s request that was $was at the dump is not in it: nothing is computed mid-restore");
}
is($node->safe_psql('restored', "SELECT count(*) FROM storemon.reports WHERE status NOT IN ('Complete', 'Failed')"), '0',
	'the restored queue holds finished reports only');
is($node->safe_psql('restored', "SELECT storemon.storemon_report_csv('$done')"), $csv,
	'and the finished report reads as it did, byte for byte');
done_testing();
