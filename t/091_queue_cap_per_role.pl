# Attack (issue 17): storemon.max_queued_reports_per_role is counted by a
# query that does not see the rows of the statement being inserted, nor
# (under REPEATABLE READ) the rows other sessions of the role committed
# after the transaction's snapshot.  A role with the README's reporting
# grants queues any number of requests in one statement.
# Failed on 1.2; holds since 1.3.
use strict;
use warnings;
use lib 't';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use StoremonNode;

my $db = 'shop';
my $node = database_node('attack_cap', $db, roles => ['reporter'],
	conf => {'storemon.max_queued_reports_per_role' => 3});
grant_reporting($node, $db, 'reporter');

# Keep the worker from taking requests meanwhile, so Queued stays Queued.
my $locker = $node->background_psql($db);
$locker->query_safe('BEGIN; LOCK TABLE storemon.menu_hours IN ACCESS EXCLUSIVE MODE');
my $blocked = $node->safe_psql($db, 'SELECT storemon.storemon_trigger_report()');
is(wait_status($node, $db, $blocked, 'Running'), 'Running', 'the worker waits on a report');

sub queued
{
	return $node->safe_psql($db,
		q{SELECT count(*) FROM storemon.reports WHERE requested_by = 'reporter' AND status = 'Queued'});
}

# 1. One statement, many rows.
my ($rc, $out, $err) = $node->psql($db, q{SET ROLE reporter;
	INSERT INTO storemon.reports (interpolation) SELECT 'nearest' FROM generate_series(1, 50)});
cmp_ok(queued(), '<=', 3, 'one INSERT of 50 rows queues no more than the cap of 3');
$node->safe_psql($db, q{DELETE FROM storemon.reports WHERE requested_by = 'reporter'});

# 2. Sessions in REPEATABLE READ whose snapshots predate each other's commits.
my @sessions = map { $node->background_psql($db, on_error_stop => 0) } 1 .. 3;
$_->query_safe('SET ROLE reporter; BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM storemon.reports')
  for @sessions;
for my $s (@sessions)
{
	# one row a statement: the rows of earlier statements are seen, of other sessions not
	$s->query(q{INSERT INTO storemon.reports (interpolation) VALUES ('nearest')}) for 1 .. 2;
	$s->query('COMMIT');
	$s->quit;
}
cmp_ok(queued(), '<=', 3, 'three REPEATABLE READ sessions together queue no more than the cap of 3');

$locker->query_safe('COMMIT');
$locker->quit;
done_testing();
