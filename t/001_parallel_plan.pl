# pgTAP (test/*.sql through pg_prove, including pg_cron) and the parallel
# plan on their own cluster, with storemon and pg_cron preloaded.  pg_regress
# (sql/ against expected/) is make installcheck.
use strict;
use warnings;
use lib 't';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use StoremonNode;

my $node = storemon_node('suite',
	'cron.use_background_workers' => 'on',
	'max_worker_processes' => 32,
	'storemon.max_parallel_reports' => 2);
$ENV{PGHOST} = $node->host;
$ENV{PGPORT} = $node->port;
$ENV{PGUSER} = $ENV{USER} // 'postgres';
$ENV{PGOPTIONS} = '-c client_min_messages=warning';

# pgTAP, as its own TAP stream: its counts are reported here.
load_sample($node, 'storemon_test');
$node->safe_psql('storemon_test', 'CREATE EXTENSION pg_cron');
command_ok(['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', 'storemon_test', '-f', 'test/setup.sql'],
	'pgTAP helpers installed');
# Each pgTAP result becomes a test of this file, so the counts add up.
my ($out, $err);
my $ok = IPC::Run::run(['pg_prove', '-v', '-d', 'storemon_test', glob('test/[0-9]*.sql')],
	'>', \$out, '2>', \$err);
my $file = '';
for my $line (split /\n/, $out)
{
	$file = $1 if $line =~ /^(test\/\S+\.sql) \.\./;
	ok(!$1, "$file: " . ($3 // "test $2")) if $line =~ /^(not )?ok (\d+)(?: - (.*))?/;
}
ok($ok, 'pg_prove: every pgTAP file passes with its plan') or diag($out . $err);

# storemon.parallel_workers runs the ranges as a Parallel Append (auto_explain).
my ($rc, $stdout, $stderr) = $node->psql('storemon_test', q{
ANALYZE storemon.store_status;
SET client_min_messages = notice;
LOAD 'auto_explain';
SET auto_explain.log_min_duration = 0;
SET auto_explain.log_nested_statements = on;
SET auto_explain.log_analyze = on;
SET auto_explain.log_level = notice;
SET storemon.parallel_workers = 2;
SELECT count(*) FROM storemon.storemon_compute();
});
like($stderr, qr/Parallel Append/, 'the parallel report runs its ranges as a Parallel Append');
like($stderr, qr/Workers Launched: 2/, 'with two parallel workers launched');

$node->stop;
done_testing();
