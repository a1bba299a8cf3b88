# storemon.parallel_workers runs a report's ranges as a Parallel Append, as
# auto_explain logs the nested statements of storemon_compute: a plan is
# seen only in the notices of the session, which pgTAP cannot read.
# (pg_regress's sql/ is make installcheck, pgTAP's test/pgtap/ scripts/pgtap.)
use strict;
use warnings;
use lib 't';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use StoremonNode;

my $node = storemon_node('parallel_plan', 'max_worker_processes' => 32);
load_sample($node, 'storemon_test');

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
