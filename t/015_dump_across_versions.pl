# A pg_dump made on one PostgreSQL major version restores into a newer one
# with the same feeds, reports and pg_cron job, and the same figures: how an
# operator moves storemon to a new server.  make test-versions runs it twice:
# on this machine's 15 with STOREMON_DUMP_TO=DIR (the dump and what the
# reports said, written to DIR), then in the 17 and 18 chroots with
# STOREMON_DUMP_FROM=DIR (restored, and compared byte for byte).
use strict;
use warnings;
use lib 't';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use StoremonNode;

my ($to, $from) = @ENV{qw(STOREMON_DUMP_TO STOREMON_DUMP_FROM)};
plan skip_all => 'no dump to make or restore here: make test-versions dumps on 15 and restores on 17 and 18'
  unless $to || $from;

$ENV{PGTZ} = 'UTC';    # timestamps print alike on both servers
my $db = 'storemon_test';    # the database pg_cron serves: the dump holds its job
my $node = storemon_node('dump_across');

# What must read the same after the restore, each by a file name.
sub figures
{
	my ($id) = @_;
	return (
		'polls.out' => 'SELECT count(*), min(timestamp_utc), max(timestamp_utc) FROM storemon.store_status',
		'hours_zones.out' => 'SELECT (SELECT count(*) FROM storemon.menu_hours), (SELECT count(*) FROM storemon.timezones)',
		'compute_nearest.out' => q{SELECT c::text FROM storemon.storemon_compute() c},
		'compute_previous.out' => q{SELECT c::text FROM storemon.storemon_compute(NULL, 'previous') c},
		'compute_exact.out' => q{SELECT c::text FROM storemon.storemon_compute_exact() c},
		'report.csv' => "SELECT storemon.storemon_report_csv('$id')",
		'report_rows.out' => "SELECT r::text FROM storemon.storemon_get_report('$id') r",
		'reports.out' => 'SELECT status, as_of, requested_as_of, interpolation, requested_by, attempts, stores_done'
		  . ' FROM storemon.reports ORDER BY queued_at',
		'cron_job.out' => 'SELECT jobname, schedule, command, username, active FROM cron.job ORDER BY jobid');
}

if ($to)
{
	load_sample($node, $db);
	$node->safe_psql($db, 'CREATE EXTENSION pg_cron');
	my $id = $node->safe_psql($db, 'SELECT storemon.storemon_trigger_report()');
	is(wait_status($node, $db, $id, 'Complete', 'Failed'), 'Complete', 'a Complete report to dump');
	$node->safe_psql($db, q{SELECT storemon.storemon_schedule('dumped-job', '15 4 * * *')});
	my %figures = figures($id);
	for my $file (sort keys %figures)
	{
		my $out = $node->safe_psql($db, $figures{$file});
		isnt($out, '', "$file has something to compare");
		append_to_file("$to/$file", $out);
	}
	append_to_file("$to/report_id", $id);
	append_to_file("$to/server_version", $node->safe_psql($db, 'SHOW server_version_num'));
	$node->command_ok(['pg_dump', '-d', $node->connstr($db), '-f', "$to/storemon.sql"],
		'pg_dump of a database with storemon, pg_cron and a report');
}
else
{
	my $id = slurp_file("$from/report_id");
	my $version = slurp_file("$from/server_version");
	cmp_ok($node->safe_psql('postgres', 'SHOW server_version_num'), '>', $version,
		"this server is newer than the one that made the dump ($version)");
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	# pg_cron 1.4 (Debian 12) installs into public and the dump says so; 1.5
	# and later refuse any schema but pg_catalog.  Created first, the dump's
	# CREATE EXTENSION IF NOT EXISTS pg_cron passes it by and restores its jobs.
	$node->safe_psql($db, 'CREATE EXTENSION pg_cron');
	$node->command_ok(['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr($db),
			'-f', "$from/storemon.sql"], 'the dump restores into a new server');
	my %figures = figures($id);
	for my $file (sort keys %figures)
	{
		is($node->safe_psql($db, $figures{$file}), slurp_file("$from/$file"),
			"the same after the restore: $file");
	}
	# The restored queue and worker serve new reports from the restored feeds.
	my $again = $node->safe_psql($db, 'SELECT storemon.storemon_trigger_report()');
	is(wait_status($node, $db, $again, 'Complete', 'Failed'), 'Complete', 'a new report completes');
	is($node->safe_psql($db, "SELECT storemon.storemon_report_csv('$again')"), slurp_file("$from/report.csv"),
		'with the CSV the old server made');
	my $command = $node->safe_psql($db, q{SELECT command FROM cron.job WHERE jobname = 'dumped-job'});
	my $queued = $node->safe_psql($db, $command);
	is(wait_status($node, $db, $queued, 'Complete', 'Failed'), 'Complete',
		'the restored pg_cron job\'s command queues a report the worker completes');
}
$node->stop;
done_testing();
