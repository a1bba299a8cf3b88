# Attack (attack round 4): storemon.report_timeout is what README
# "Privileges" promises keeps a requester's policy from holding its
# database's queue for ever.  The timeout cancels the computation the way a
# query cancel does, and that error is one plpgsql lets a function trap by
# name (EXCEPTION WHEN query_canceled; only OTHERS leaves it alone).  The
# database owner's function under the requester's policy (the t/080
# pattern) traps each cancel and goes on: the report runs on long after the
# timeout, and here, where the function stops by itself, ends Complete.
# Failed on 1.3 as first written; now code still running as long again
# after the cancel ends its worker, and the report is Failed.
use strict;
use warnings;
use lib 't';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use StoremonNode;

my $db = 'shop';
my $as_of = '2023-01-25 18:00:00+00';
my $node = database_node('attack_timeout_caught', $db, roles => ['owner', 'tenant'], owner => 'owner',
	conf => { 'storemon.report_timeout' => '2s' });
grant_reporting($node, $db, 'tenant');

chain_policy($node, $db, 'owner', 'tenant');

# The owner's policy on its own table: once armed, it traps every cancel
# for 30 s (a real attacker's would never stop).
owner_policy_calls($node, $db, 'owner', q{
	CREATE FUNCTION public.visible() RETURNS boolean LANGUAGE plpgsql VOLATILE AS $f$
	DECLARE
		deadline timestamptz;
		caught int := 0;
	BEGIN
		IF NOT EXISTS (SELECT FROM public.plan) THEN
			RETURN true;
		END IF;
		deadline := coalesce(nullif(current_setting('attack.deadline', true), '')::timestamptz,
			clock_timestamp() + interval '30 s');
		PERFORM set_config('attack.deadline', deadline::text, true);
		WHILE clock_timestamp() < deadline LOOP
			BEGIN
				PERFORM pg_sleep(0.1);
			EXCEPTION WHEN query_canceled THEN
				caught := caught + 1;
				RAISE WARNING 'visible(): cancel % trapped: %', caught, SQLERRM;
			END;
		END LOOP;
		RETURN true;
	END
	$f$});
$node->safe_psql($db, q{INSERT INTO public.plan VALUES ('go')}, extra_params => ['-U', 'owner']);

my $id = $node->safe_psql($db, "SELECT storemon.storemon_trigger_report('$as_of')",
	extra_params => ['-U', 'tenant']);
my $status = wait_status($node, $db, $id, 'Complete', 'Failed');
is($status, 'Failed', 'a report computed past storemon.report_timeout is Failed, not Complete');
like($node->safe_psql($db, "SELECT coalesce(error, '') FROM storemon.reports WHERE id = '$id'"),
	qr/report_timeout/, 'its error names storemon.report_timeout');
my $elapsed = $node->safe_psql($db,
	"SELECT extract(epoch FROM finished_at - started_at)::int FROM storemon.reports WHERE id = '$id'");
note("the report ran for $elapsed s under a 2 s report_timeout");

# Another role's report in the same database is served after it.
$node->safe_psql($db, 'DELETE FROM public.plan', extra_params => ['-U', 'owner']);
my $next = $node->safe_psql($db, "SELECT storemon.storemon_trigger_report('$as_of')",
	extra_params => ['-U', 'tenant']);
is(wait_status($node, $db, $next, 'Complete', 'Failed'), 'Complete', 'the next report is served');

done_testing();
