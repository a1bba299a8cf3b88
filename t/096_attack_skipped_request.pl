# Attack (issue 17): "every committed request is served within seconds".
# The worker claims with FOR UPDATE SKIP LOCKED, so a Queued request whose
# row another session has locked is skipped, and the worker, finding
# nothing, goes idle and leaves.  Nothing wakes the database when that lock
# goes: the request stays Queued until someone queues another.  A role
# with the README's purging grants (DELETE) locks a request with a DELETE
# it rolls back.  Fails on the current code, on purpose.
use strict;
use warnings;
use lib 't';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use StoremonNode;
use AttackNode;

my $db = 'shop';
my $node = attack_node('attack_skipped', $db, roles => ['purger'], conf => {'storemon.worker_idle_timeout' => '1s'});
$node->safe_psql($db, q{GRANT SELECT, DELETE ON storemon.reports, storemon.report_rows TO purger});

my $locker = $node->background_psql($db);
$locker->query_safe('BEGIN; LOCK TABLE storemon.menu_hours IN ACCESS EXCLUSIVE MODE');
my $first = $node->safe_psql($db, 'SELECT storemon.storemon_trigger_report()');
is(wait_status($node, $db, $first, 30, 'Running'), 'Running', 'a report is Running (blocked on a lock)');
my $second = $node->safe_psql($db, 'SELECT storemon.storemon_trigger_report()');

my $purger = $node->background_psql($db);
$purger->query_safe("SET ROLE purger; BEGIN; DELETE FROM storemon.reports WHERE id = '$second'");
$locker->query_safe('COMMIT');
$locker->quit;
is(wait_status($node, $db, $first, 30, 'Complete', 'Failed'), 'Complete', 'the first report completes');
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'storemon worker'"),
	'the worker leaves while the second request is locked');
$purger->query_safe('ROLLBACK');
$purger->quit;

is(wait_status($node, $db, $second, 20, 'Complete', 'Failed'), 'Complete',
	'the second request, committed and no longer locked, is served within seconds');

done_testing();
