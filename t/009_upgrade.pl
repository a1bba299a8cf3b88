# ALTER EXTENSION storemon UPDATE from 1.0 (and from 1.1) to the current
# version on a database that holds feeds, a Complete report and a pg_cron
# job: everything survives, the old report reads the same, the job's command
# still queues reports, the new functions work, and the result is the same
# extension as a new install.
use strict;
use warnings;
use lib 't';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use StoremonNode;

# The version a new install gets: storemon.control's default_version.
my ($current) = slurp_file('storemon.control') =~ /^default_version = '([^']+)'/m;
my $node = storemon_node('upgrade');
my $db = 'storemon_test';    # the database pg_cron serves
$node->safe_psql('postgres', "CREATE DATABASE $db");
$node->safe_psql($db, q{CREATE EXTENSION storemon VERSION '1.0'; CREATE EXTENSION pg_cron});
$node->safe_psql($db, qq{ALTER DATABASE $db SET search_path = "\$user", public, storemon});
is($node->safe_psql($db, q{SELECT extversion FROM pg_extension WHERE extname = 'storemon'}), '1.0',
	'1.0 installed');
command_ok(['./storemon-load', '--status', 'data/store_status.csv', '--hours', 'data/menu_hours.csv',
		'--zones', 'data/timezones.csv', '--', '-h', $node->host, '-p', $node->port, '-d', $db],
	'the loader of this build loads into 1.0');
my $id = $node->safe_psql($db, 'SELECT storemon_trigger_report()');
is(wait_status($node, $db, $id, 'Complete', 'Failed'), 'Complete', 'a report completes on 1.0');
my $job = $node->safe_psql($db, q{SELECT storemon_schedule('upgrade-job', '0 3 * * *')});
my $compute_10 = $node->safe_psql($db, 'SELECT md5(string_agg(c::text, E\'\n\')) FROM storemon_compute() c');

my %before = map { $_ => $node->safe_psql($db, $_) } (
	'SELECT count(*) FROM storemon.store_status',
	'SELECT count(*) FROM storemon.menu_hours',
	'SELECT count(*) FROM storemon.timezones',
	"SELECT storemon_report_csv('$id')",
	"SELECT status, as_of, attempts FROM storemon.reports WHERE id = '$id'",
	"SELECT jobname, schedule, command, username, active FROM cron.job WHERE jobid = $job");

$node->safe_psql($db, 'ALTER EXTENSION storemon UPDATE');
is($node->safe_psql($db, q{SELECT extversion FROM pg_extension WHERE extname = 'storemon'}), $current,
	"ALTER EXTENSION storemon UPDATE reaches $current");
for my $q (sort keys %before)
{
	is($node->safe_psql($db, $q), $before{$q}, "unchanged by the upgrade: $q");
}
is($node->safe_psql($db, 'SELECT md5(string_agg(c::text, E\'\n\')) FROM storemon_compute() c'),
	$compute_10, 'storemon_compute gives what 1.0 gave');

# The job's command, run as pg_cron would, queues a report the worker completes.
my $command = $node->safe_psql($db, "SELECT command FROM cron.job WHERE jobid = $job");
my $queued = $node->safe_psql($db, "$command");
is(wait_status($node, $db, $queued, 'Complete', 'Failed'), 'Complete',
	'the pg_cron job\'s command queues a report the worker completes');
is($node->safe_psql($db, "SELECT storemon_report_csv('$queued')"), $before{"SELECT storemon_report_csv('$id')"},
	'with the same CSV as the report made on 1.0');

# The new functions on the upgraded data.
is($node->safe_psql($db, 'SELECT storemon_latest_report()'), $queued, 'storemon_latest_report');
is($node->safe_psql($db, "SELECT stores FROM storemon_report_summary('$queued')"), '250', 'storemon_report_summary');
is($node->safe_psql($db, q{
	SELECT count(*) FROM storemon_window() w
	LEFT JOIN (SELECT store_id, sum(duration_us) d FROM storemon_outages() GROUP BY 1) o USING (store_id)
	JOIN storemon_compute_exact() c USING (store_id)
	WHERE coalesce(o.d, 0) = w.downtime_us AND w.downtime_us = c.downtime_last_week_us}), '250',
	'storemon_window and storemon_outages agree with the report on every store');
my $store = $node->safe_psql($db, 'SELECT min(store_id) FROM storemon.store_status');
is($node->safe_psql($db, "SELECT count(*) FROM storemon_compute(store_ids => ARRAY['$store'])"), '1',
	'storemon_compute(store_ids => ...)');
like($node->safe_psql($db, "SELECT storemon_store_svg('$store')"), qr/^<svg /, 'storemon_store_svg');

# Upgraded and new installs are the same extension.
$node->safe_psql('postgres', 'CREATE DATABASE fresh');
$node->safe_psql('fresh', 'CREATE EXTENSION storemon');
my $members = q{SET search_path = pg_catalog;
	SELECT string_agg(m, E'\n' ORDER BY m) FROM (
	  SELECT pg_describe_object(classid, objid, 0) || ' : '
	         || coalesce(obj_description(objid, classid::regclass::name), '-') AS m
	  FROM pg_depend WHERE refobjid = (SELECT oid FROM pg_extension WHERE extname = 'storemon') AND deptype = 'e') x};
is($node->safe_psql($db, $members), $node->safe_psql('fresh', $members),
	"the upgraded extension has the members and comments of a new $current install");
my $functions = q{SET search_path = pg_catalog;
	SELECT string_agg(f, E'\n' ORDER BY f) FROM (
	  SELECT p.oid::regprocedure::text || ' ' || pg_get_function_result(p.oid) || ' '
	         || md5(p.prosrc) || ' ' || coalesce(array_to_string(p.proconfig, ','), '') AS f
	  FROM pg_proc p WHERE p.pronamespace IN ('storemon'::regnamespace, 'storemon_internal'::regnamespace)) x};
is($node->safe_psql($db, $functions), $node->safe_psql('fresh', $functions),
	'and the same function signatures, results, bodies and settings');
my $constraints = q{SELECT string_agg(c.relname || ' ' || conname || ' ' || pg_get_constraintdef(k.oid), E'\n' ORDER BY 1)
	FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid WHERE connamespace = 'storemon'::regnamespace};
is($node->safe_psql($db, $constraints), $node->safe_psql('fresh', $constraints), 'and the same constraints');

# 1.2: store_status's CHECKs are C calls; they refuse what 1.0's refused, by the same names.
for my $bad (["'', 'active'", 'store_status_store_id_check'], ["repeat('x', 1025), 'active'", 'store_status_store_id_check'],
	["'s', 'Active'", 'store_status_status_check'], ["'s', 'inactive '", 'store_status_status_check'])
{
	my ($ret, $out, $err) = $node->psql($db, "INSERT INTO storemon.store_status (store_id, status, timestamp_utc) VALUES ($bad->[0], now())");
	like($err, qr/violates check constraint "$bad->[1]"/, "($bad->[0]) is refused by $bad->[1]");
}
is($node->psql($db, "INSERT INTO storemon.store_status (store_id, status, timestamp_utc) VALUES (repeat('x', 1024), 'inactive', now())"),
	0, 'a store_id of 1024 bytes and inactive pass');

# From 1.1: a database made at 1.1 with feeds and a Complete report.
$node->safe_psql('postgres', 'CREATE DATABASE from11');
$node->safe_psql('from11', q{CREATE EXTENSION storemon VERSION '1.1'});
command_ok(['./storemon-load', '--status', 'data/store_status.csv', '--hours', 'data/menu_hours.csv',
		'--zones', 'data/timezones.csv', '--', '-h', $node->host, '-p', $node->port, '-d', 'from11'],
	'the loader of this build loads into 1.1');
my $id11 = $node->safe_psql('from11', 'SELECT storemon.storemon_trigger_report()');
is(wait_status($node, 'from11', $id11, 'Complete', 'Failed'), 'Complete', 'a report completes on 1.1');
my $csv11 = $node->safe_psql('from11', "SELECT storemon.storemon_report_csv('$id11')");
$node->safe_psql('from11', 'ALTER EXTENSION storemon UPDATE');
is($node->safe_psql('from11', q{SELECT extversion FROM pg_extension WHERE extname = 'storemon'}), $current, "1.1 updates to $current");
is($node->safe_psql('from11', "SELECT storemon.storemon_report_csv('$id11')"), $csv11, 'its report reads the same');
is($node->safe_psql('from11', $constraints), $node->safe_psql('fresh', $constraints), 'with the constraints of a new install');
is($node->safe_psql('from11', $members), $node->safe_psql('fresh', $members), 'and its members');
$node->stop;
done_testing();
