# ALTER EXTENSION storemon UPDATE from 1.0 (and from 1.1 and 1.2) to the
# current version on a database that holds feeds, a Complete report and a
# pg_cron job: everything survives, the old report reads the same, the job's
# command still queues reports, the new functions work, and the result is
# the same extension as a new install, which runs sql/storemon.sql and not
# the chain of upgrades (ExtensionCatalog.pm compares them object by object).
use strict;
use warnings;
use lib 't';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use StoremonNode;
use ExtensionCatalog;

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

# Upgraded and new installs are the same extension.  A new install runs
# the current script as the Makefile installs it, sql/storemon.sql.
my $script = $node->config_data('--sharedir') . "/extension/storemon--$current.sql";
ok(-f $script && slurp_file($script) eq slurp_file('sql/storemon.sql'),
	"a new install runs sql/storemon.sql (installed as storemon--$current.sql)");
$node->safe_psql('postgres', 'CREATE DATABASE fresh');
$node->safe_psql('fresh', 'CREATE EXTENSION storemon');
same_extension($node, $db, 'fresh', 'storemon', "1.0 updated to $current, as a new install");

# 1.2: store_status's CHECKs are C calls; they refuse what 1.0's refused, by the same names.
for my $bad (["'', 'active'", 'store_status_store_id_check'], ["repeat('x', 1025), 'active'", 'store_status_store_id_check'],
	["'s', 'Active'", 'store_status_status_check'], ["'s', 'inactive '", 'store_status_status_check'])
{
	my ($ret, $out, $err) = $node->psql($db, "INSERT INTO storemon.store_status (store_id, status, timestamp_utc) VALUES ($bad->[0], now())");
	like($err, qr/violates check constraint "$bad->[1]"/, "($bad->[0]) is refused by $bad->[1]");
}
is($node->psql($db, "INSERT INTO storemon.store_status (store_id, status, timestamp_utc) VALUES (repeat('x', 1024), 'inactive', now())"),
	0, 'a store_id of 1024 bytes and inactive pass');

# 1.3: one implementation of the store_id rule.  Every table's store_id
# CHECK is store_id_ok, under the name 1.0 gave it, so errors read as before.
my $id_checks = q{SET search_path = pg_catalog;
	SELECT string_agg(conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid), E'\n' ORDER BY conname)
	FROM pg_constraint WHERE connamespace = 'storemon'::regnamespace AND contype = 'c' AND conname LIKE '%store_id%'};
my $want_checks = join("\n", map { "storemon.$_ ${_}_store_id_check CHECK (storemon_internal.store_id_ok(store_id))" }
	qw(menu_hours store_status timezones));
is($node->safe_psql($_, $id_checks), $want_checks, "$_: every store_id CHECK is storemon_internal.store_id_ok")
  for $db, 'fresh';
for my $insert (["storemon.menu_hours VALUES (%s, 0, '09:00', '17:00')", 'menu_hours_store_id_check'],
	["storemon.timezones VALUES (%s, 'UTC')", 'timezones_store_id_check'])
{
	for my $id ("''", "repeat('x', 1025)")
	{
		my ($ret, $out, $err) = $node->psql($db, 'INSERT INTO ' . sprintf($insert->[0], $id));
		like($err, qr/violates check constraint "$insert->[1]"/, "$insert->[1] refuses $id");
	}
	is($node->psql($db, 'BEGIN; INSERT INTO ' . sprintf($insert->[0], "repeat('y', 1024)") . '; ROLLBACK'), 0,
		"$insert->[1] takes 1024 bytes");
}

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
same_extension($node, 'from11', 'fresh', 'storemon', "1.1 updated to $current, as a new install");

# From 1.2, the last released version.
$node->safe_psql('postgres', 'CREATE DATABASE from12');
$node->safe_psql('from12', q{CREATE EXTENSION storemon VERSION '1.2'; ALTER EXTENSION storemon UPDATE});
same_extension($node, 'from12', 'fresh', 'storemon', "1.2 updated to $current, as a new install");
$node->stop;
done_testing();
