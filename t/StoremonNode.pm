# StoremonNode — a PostgreSQL::Test::Cluster node the way storemon runs:
# storemon (and pg_cron) preloaded, fast to start, plus what the TAP tests
# share: a database with roles and the sample feeds, the README's reporting
# grants, waiting for a report's status.
package StoremonNode;

use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use Exporter 'import';
our @EXPORT = qw(storemon_node database_node load_sample grant_reporting wait_status rows_unlike_compute worker_pid each_step
  chain_policy owner_policy_calls);

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

# A started node and database $db, as a shared server has them; %opt: roles
# => [...] (login roles, made first), owner => the database's owner, conf =>
# {postgresql.conf lines, as storemon_node takes them}, bare => 1 for a
# database without the extension and feeds.
sub database_node
{
	my ($name, $db, %opt) = @_;
	my $node = storemon_node($name, %{ $opt{conf} // {} });
	my $roles = join('', map { "CREATE ROLE $_ LOGIN;" } @{ $opt{roles} // [] });
	$node->safe_psql('postgres', $roles) if $roles ne '';
	$node->safe_psql('postgres', "CREATE DATABASE $db" . ($opt{owner} ? " OWNER $opt{owner}" : ''));
	load_sample($node, $db) unless $opt{bare};
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

# README "Privileges": roles that trigger reports and read them.
sub grant_reporting
{
	my ($node, $db, @roles) = @_;
	my $to = join(', ', @roles);
	$node->safe_psql($db, qq{
		GRANT SELECT ON storemon.store_status, storemon.menu_hours, storemon.timezones TO $to;
		GRANT INSERT (requested_as_of, interpolation), SELECT (id) ON storemon.reports TO $to;
		GRANT USAGE ON SEQUENCE storemon.reports_seq TO $to;
		GRANT SELECT ON storemon.reports, storemon.report_rows TO $to;
	});
	return;
}

# The report's status once it is one of @wanted (PostgreSQL::Test::Cluster's
# poll_query_until), or whatever it is when that gives up: after
# PG_TEST_TIMEOUT_DEFAULT seconds, as every wait of PostgreSQL's own tests.
sub wait_status
{
	my ($node, $db, $id, @wanted) = @_;
	my $in = join(', ', map { "'$_'" } @wanted);
	# a request that was never queued has nothing to wait for
	die "wait_status: no report id to wait for" if !defined $id || $id !~ /^[0-9a-f-]{36}$/;
	$node->poll_query_until($db, "SELECT status IN ($in) FROM storemon.reports WHERE id = '$id'");
	return $node->safe_psql($db, "SELECT status FROM storemon.reports WHERE id = '$id'");
}

# How many rows a Complete report and storemon_compute at its as_of do not
# share (0: the same rows).
sub rows_unlike_compute
{
	my ($node, $db, $id) = @_;
	my $as_of = "(SELECT as_of FROM storemon.reports WHERE id = '$id')";
	my $rows = qq{SELECT store_id, uptime_last_hour, uptime_last_day, uptime_last_week, downtime_last_hour,
		downtime_last_day, downtime_last_week FROM storemon.storemon_get_report('$id')};
	return $node->safe_psql($db, qq{SELECT count(*) FROM (
		($rows EXCEPT ALL SELECT * FROM storemon.storemon_compute($as_of))
		UNION ALL (SELECT * FROM storemon.storemon_compute($as_of) EXCEPT ALL $rows)) d});
}

# The per-chain row security of README "Row security", as an attacker meets
# it: the database owner's application keeps which role owns which store
# (public.store_owners, owned by $owner, readable by all, and public.plan for
# the attack's steps), $tenant owns the first 10 stores, and the superuser's
# policy on store_status reads that table.
sub chain_policy
{
	my ($node, $db, $owner, $tenant) = @_;
	$node->safe_psql($db, q{
		CREATE TABLE public.store_owners (store_id text COLLATE "C", role name);
		CREATE TABLE public.plan (step text);
		GRANT SELECT ON public.store_owners, public.plan TO PUBLIC;
	}, extra_params => ['-U', $owner]);
	$node->safe_psql($db, qq{
		INSERT INTO public.store_owners
			SELECT store_id, '$tenant' FROM (SELECT DISTINCT store_id FROM storemon.store_status) s
			ORDER BY store_id LIMIT 10;
		ALTER TABLE storemon.store_status ENABLE ROW LEVEL SECURITY;
		CREATE POLICY own_stores ON storemon.store_status FOR SELECT
			USING (store_id IN (SELECT o.store_id FROM public.store_owners o WHERE o.role = current_user));
	});
	return;
}

# The owner's policy on its own table, calling its function public.visible()
# ($create_function makes it): the owner's code then runs as whoever reads
# the table, a report's requester inside the worker too.
sub owner_policy_calls
{
	my ($node, $db, $owner, $create_function) = @_;
	$node->safe_psql($db, $create_function . q{;
		ALTER TABLE public.store_owners ENABLE ROW LEVEL SECURITY;
		CREATE POLICY visible ON public.store_owners USING (public.visible());
	}, extra_params => ['-U', $owner]);
	return;
}

# The body of a plpgsql loop that tries each of @$steps, its arms given as the
# WHEN lines of a CASE on step, and warns whether each went through.
sub each_step
{
	my ($steps, $arms) = @_;
	my $names = join(', ', map { "'$_'" } @$steps);
	return qq{
		FOREACH step IN ARRAY ARRAY[$names] LOOP
			BEGIN
				CASE step
				$arms
				END CASE;
				RAISE WARNING 'visible(): % went through', step;
			EXCEPTION WHEN OTHERS THEN
				RAISE WARNING 'visible(): % refused: %', step, SQLERRM;
			END;
		END LOOP;};
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
