# More databases waiting for report workers than shared memory has places
# for (storemon.max_databases = 3 here): the requests that found no place
# are told so, and are served once places free, not left Queued.
use strict;
use warnings;
use lib 't';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use StoremonNode;

my $node = storemon_node('places', preload => 'storemon', 'storemon.max_databases' => 3);
for my $i (1 .. 5)
{
	$node->safe_psql('postgres', "CREATE DATABASE p$i");
	$node->safe_psql("p$i", q{CREATE EXTENSION storemon;
		INSERT INTO storemon.store_status VALUES ('s1', '2023-01-23 12:00:00+00', 'active')});
}

# Three databases take the three places: their reports wait on a lock.
my @lockers;
my %ids;
for my $i (1 .. 3)
{
	my $locker = $node->background_psql("p$i");
	$locker->query_safe('BEGIN; LOCK TABLE storemon.menu_hours IN ACCESS EXCLUSIVE MODE');
	push @lockers, $locker;
	$ids{"p$i"} = $node->safe_psql("p$i", 'SELECT storemon.storemon_trigger_report()');
	is(wait_status($node, "p$i", $ids{"p$i"}, 'Running'), 'Running', "p$i: its report holds a place");
}

# Two more find no place.
for my $i (4, 5)
{
	my ($rc, $out, $err) = $node->psql("p$i", 'SELECT storemon.storemon_trigger_report()');
	$ids{"p$i"} = $out;
	like($err, qr/more than 3 databases wait for report workers; this request is served once one of them is done/,
		"p$i: the request is told it waits for a place");
}
$_->query_safe('COMMIT') for @lockers;
$_->quit for @lockers;
for my $i (1 .. 5)
{
	is(wait_status($node, "p$i", $ids{"p$i"}, 'Complete', 'Failed'), 'Complete', "p$i: its report completes");
}
$node->stop;
done_testing();
