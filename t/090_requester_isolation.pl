# Attack (issue 17): code that runs as the requester inside the worker's
# report (a row-security policy that calls or reads something a database
# owner controls) sets a session setting, and the setting outlives the
# security-restricted operation.  The worker then runs its own statements
# as the bootstrap superuser under that setting: with search_path put
# before pg_catalog, the unqualified "id = $1" of sm_queue_complete runs
# the owner's operator as superuser.  Failed on 1.2; holds since 1.3.
use strict;
use warnings;
use lib 't';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use StoremonNode;

my $db = 'shop';
my $node = database_node('attack_settings', $db, roles => [qw(owner reporter reporter2)], owner => 'owner',
	conf => {'storemon.worker_idle_timeout' => '30s'});
grant_reporting($node, $db, 'reporter', 'reporter2');

# The superuser sets per-chain policies the way t/014 and the README do; the
# owners table belongs to the database's owner, who decides who owns which store.
$node->safe_psql($db, q{
	CREATE TABLE public.store_owners (store_id text COLLATE "C", role name);
	INSERT INTO public.store_owners
		SELECT store_id, CASE WHEN n % 2 = 0 THEN 'reporter' ELSE 'reporter2' END
		FROM (SELECT store_id, row_number() OVER (ORDER BY store_id) n FROM storemon.timezones) s;
	ALTER TABLE public.store_owners OWNER TO owner;
	GRANT SELECT ON public.store_owners TO reporter, reporter2;
	ALTER TABLE storemon.store_status ENABLE ROW LEVEL SECURITY;
	CREATE POLICY own_stores ON storemon.store_status FOR SELECT
		USING (store_id IN (SELECT o.store_id FROM public.store_owners o WHERE o.role = current_user));
});

# 1. The owner's trap: an operator uuid = uuid that makes the owner superuser
# when a superuser calls it, and a policy on its own table that puts public
# first in search_path, for the session, whenever a requester reads the table.
my ($rc, $out, $err) = $node->psql($db, q{SET ROLE owner;
	CREATE FUNCTION public.trap_eq(a uuid, b uuid) RETURNS boolean LANGUAGE plpgsql AS $$
	BEGIN
		IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
			EXECUTE 'ALTER ROLE owner SUPERUSER';
		END IF;
		RETURN a OPERATOR(pg_catalog.=) b;
	END $$;
	CREATE OPERATOR public.= (LEFTARG = uuid, RIGHTARG = uuid, FUNCTION = public.trap_eq);
	ALTER TABLE public.store_owners ENABLE ROW LEVEL SECURITY;
	CREATE POLICY everyone ON public.store_owners
		USING (pg_catalog.set_config('search_path', 'public, pg_catalog', false) IS NOT NULL);
});
is($rc, 0, 'the database owner plants an operator and a policy on its own table') or diag($err);

my $id = ($node->psql($db, 'SET ROLE reporter; SELECT storemon.storemon_trigger_report()'))[1];
isnt(wait_status($node, $db, $id, 'Complete', 'Failed'), 'Running', 'the reporter\'s report is computed');
my $second = ($node->psql($db, 'SET ROLE reporter2; SELECT storemon.storemon_trigger_report()'))[1];
wait_status($node, $db, $second, 'Complete', 'Failed');
is($node->safe_psql('postgres', q{SELECT rolsuper FROM pg_roles WHERE rolname = 'owner'}), 'f',
	'the database owner is not superuser after reports were computed under its policy');

# 2. The same leak without an operator: a setting that stops the worker's
# next transaction (each report under the policy then ends its worker).
$node->safe_psql('postgres', 'ALTER ROLE owner NOSUPERUSER');
$node->safe_psql($db, q{SET ROLE owner; DROP POLICY everyone ON public.store_owners;
	CREATE POLICY read_only ON public.store_owners
		USING (pg_catalog.set_config('default_transaction_read_only', 'on', false) IS NOT NULL)});
my $offset = -s $node->logfile;
$id = ($node->psql($db, 'SET ROLE reporter; SELECT storemon.storemon_trigger_report()'))[1];
is(wait_status($node, $db, $id, 'Complete', 'Failed'), 'Complete', 'a report under the read-only policy completes');
$second = ($node->psql($db, 'SET ROLE reporter2; SELECT storemon.storemon_trigger_report()'))[1];
is(wait_status($node, $db, $second, 'Complete', 'Failed'), 'Complete', 'and the next one too');
my $log = slurp_file($node->logfile, $offset);
unlike($log, qr/cannot execute \w+ in a read-only transaction/,
	'the worker\'s own statements never run under a setting the requester\'s policy made');

# 3. A session advisory lock taken by the requester's code stays with the worker.
$node->safe_psql($db, q{SET ROLE owner; DROP POLICY read_only ON public.store_owners;
	CREATE POLICY locker ON public.store_owners USING (pg_catalog.pg_try_advisory_lock(4242))});
$id = ($node->psql($db, 'SET ROLE reporter; SELECT storemon.storemon_trigger_report()'))[1];
is(wait_status($node, $db, $id, 'Complete', 'Failed'), 'Complete', 'a report under the locking policy completes');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
	WHERE a.backend_type = 'storemon worker' AND l.locktype = 'advisory' AND l.objid = 4242}), '0',
	'the worker holds no session lock its requester took');

done_testing();
