# Attack (issue 17): dbguard.c says a role that could not run the command
# cannot use it to stop other people's reports.  RENAME and CREATE
# DATABASE ... TEMPLATE also need CREATEDB, which the hook does not check
# for the owner: a database owner without CREATEDB runs either, is
# refused, and its database's workers were told to leave all the same.
# Three refused commands and another role's Running report is Failed
# ("gave up after 3 attempt(s)").  Failed on 1.2; holds since 1.3.
use strict;
use warnings;
use lib 't';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use StoremonNode;

my $db = 'shop';
# owner: a login role without CREATEDB
my $node = database_node('attack_dbguard', $db, roles => ['owner'], owner => 'owner');

my $locker = $node->background_psql($db);
$locker->query_safe('BEGIN; LOCK TABLE storemon.menu_hours IN ACCESS EXCLUSIVE MODE');
my $id = $node->safe_psql($db, 'SELECT storemon.storemon_trigger_report()');
is(wait_status($node, $db, $id, 'Running'), 'Running', 'a report is Running (blocked on a lock)');

for my $sql ('ALTER DATABASE shop RENAME TO shop2', 'CREATE DATABASE copy TEMPLATE shop',
	'ALTER DATABASE shop RENAME TO shop2')
{
	my $before = $node->safe_psql($db, "SELECT attempts FROM storemon.reports WHERE id = '$id'");
	my ($rc, $out, $err) = $node->psql('postgres', $sql, extra_params => ['-U', 'owner']);
	like($err, qr/permission denied/, "the owner without CREATEDB is refused: $sql");
	# a stopped worker's report is started again by a new one: give it up to 5 s
	for (1 .. 50)
	{
		last if $node->safe_psql($db, "SELECT attempts > $before AND status = 'Running'
			FROM storemon.reports WHERE id = '$id'") eq 't';
		usleep(100_000);
	}
}
$locker->query_safe('COMMIT');
$locker->quit;
is(wait_status($node, $db, $id, 'Complete', 'Failed'), 'Complete',
	'the report completes: refused commands stopped no worker');

done_testing();
