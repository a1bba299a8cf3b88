# StoremonNode — a PostgreSQL::Test::Cluster node the way storemon runs:
# storemon (and pg_cron) preloaded, fast to start, plus helpers the TAP
# tests share.
package StoremonNode;

use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep time);

use Exporter 'import';
our @EXPORT = qw(storemon_node load_sample wait_status worker_pid);

# A started node; %conf: extra postgresql.conf lines, e.g.
# (max_worker_processes => 8, preload => 'storemon').
sub storemon_node
{
	my ($name, %conf) = @_;
	my $preload = delete $conf{preload} // 'pg_cron,storemon';
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->append_conf('postgresql.conf', "shared_preload_libraries = '$preload'\n"
		  . "cron.database_name = 'storemon_test'\nfsync = off\n"
		  . "storemon.naptime = 500ms\n"
		  . join('', map { "$_ = $conf{$_}\n" } sort keys %conf));
	$node->start;
	return $node;
}

# A database (created unless there) with storemon and the sample feeds of data/ loaded.
sub load_sample
{
	my ($node, $db) = @_;
	$node->safe_psql('postgres', qq{CREATE DATABASE "$db"})
	  unless $node->safe_psql('postgres', "SELECT 1 FROM pg_database WHERE datname = '$db'");
	$node->safe_psql($db, q{CREATE EXTENSION storemon});
	$node->safe_psql($db, qq{ALTER DATABASE "$db" SET search_path = "\$user", public, storemon});
	my ($out, $err);
	IPC::Run::run(['./storemon-load', '--status', 'data/store_status.csv', '--hours',
			'data/menu_hours.csv', '--zones', 'data/timezones.csv', '--', '-h', $node->host,
			'-p', $node->port, '-d', $db], '>', \$out, '2>', \$err)
	  or die "load failed: $err";
	return;
}

# Poll the report's status until it is one of @wanted (or $timeout s pass).
sub wait_status
{
	my ($node, $db, $id, $timeout, @wanted) = @_;
	my $deadline = time + $timeout;
	my $status = '';
	while (time < $deadline)
	{
		$status = $node->safe_psql($db,
			"SELECT status FROM storemon.reports WHERE id = '$id'");
		return $status if grep { $_ eq $status } @wanted;
		usleep(50_000);
	}
	return $status;
}

# The pid of the storemon worker of $db computing a report ('' if none).
sub worker_pid
{
	my ($node, $db) = @_;
	return $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE backend_type = 'storemon worker' "
		  . "AND datname = '$db' AND query LIKE 'storemon: computing report%'");
}

1;
