# Attack (issue 17): "every committed request is served within seconds".
# The worker claims with FOR UPDATE SKIP LOCKED, so a Queued request whose
# row another session has locked is skipped; a role with the README's
# purging grants (DELETE) locks a request with a DELETE it rolls back.  The
# worker used to find nothing, go idle and leave, and nothing woke the
# database when the lock went: the request stayed Queued until someone
# queued another.  Now a worker stays while such a request waits.
use strict;
use warnings;
use lib 't';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use StoremonNode;

my $db = 'shop';
my $node = database_node('attack_skipped', $db, roles => ['purger'], conf => {'storemon.worker_idle_timeout' => '1s'});
$node->safe_psql($db, q{GRANT SELECT, DELETE ON storemon.reports, storemon.report_rows TO purger});

my $locker = $node->background_psql($db);
$locker->query_safe('BEGIN; LOCK TABLE storemon.menu_hours IN ACCESS EXCLUSIVE MODE');
my $first = $node->safe_psql($db, 'SELECT storemon.storemon_trigger_report()');
is(wait_status($node, $db, $first, 'Running'), 'Running', 'a report is Running (blocked on a lock)');
my $second = $node->safe_psql($db, 'SELECT storemon.storemon_trigger_report()');

my $purger = $node->background_psql($db);
$purger->query_safe("SET ROLE purger; BEGIN; DELETE FROM storemon.reports WHERE id = '$second'");
$locker->query_safe('COMMIT');
$locker->quit;
is(wait_status($node, $db, $first, 'Complete', 'Failed'), 'Complete', 'the first report completes');
sleep 3;    # three idle timeouts
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'storemon worker'"),
	'1', 'the worker stays while the second request is locked');
$purger->query_safe('ROLLBACK');
$purger->quit;

is(wait_status($node, $db, $second, 'Complete', 'Failed'), 'Complete',
	'the second request, committed and no longer locked, is served within seconds');

done_testing();
