# Attack (attack round 4): what the requester's code (the t/080 pattern: the
# database owner's function under the requester's policy) leaves in the
# worker's session for the reports after it.  The requester's settings end
# with their GUC nest level, its advisory locks with the report (t/090), its
# writes are refused (t/080); a prepared statement is none of these: PREPARE
# runs in a read-only transaction and in a security-restricted operation,
# and would live as long as the session: the next report (any role's) would
# find what the last one prepared, in a worker that lives on between
# reports.  This attack held on 1.3 as first written: PREPARE, a WITH HOLD
# cursor, LISTEN, a temp table, DISCARD, SET ROLE and a superuser-only
# plpgsql setting are refused there (only NOTIFY goes through, which any
# role may send); the test keeps it so.
use strict;
use warnings;
use lib 't';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use StoremonNode;

my $db = 'shop';
my $as_of = '2023-01-25 18:00:00+00';
my $node = database_node('attack_session_state', $db, roles => ['owner', 'tenant'], owner => 'owner',
	conf => { 'storemon.worker_idle_timeout' => '10min' });
grant_reporting($node, $db, 'tenant');

chain_policy($node, $db, 'owner', 'tenant');

# Each call reports what earlier reports left, then tries to leave more.
owner_policy_calls($node, $db, 'owner', q{
	CREATE FUNCTION public.visible() RETURNS boolean LANGUAGE plpgsql VOLATILE AS $f$
	DECLARE
		step text;
	BEGIN
		IF current_setting('attack.done', true) = 'yes' THEN
			RETURN true;
		END IF;
		PERFORM set_config('attack.done', 'yes', true);
		RAISE WARNING 'visible(): found prepared %, cursors %, variable_conflict %, search_path %',
			(SELECT count(*) FROM pg_prepared_statements), (SELECT count(*) FROM pg_cursors),
			current_setting('plpgsql.variable_conflict'), current_setting('search_path');}
	. each_step([qw(prepare hold listen notify conflict temp discard role)], q{
				WHEN 'prepare' THEN
					EXECUTE pg_catalog.format('PREPARE attack_%s AS SELECT %L::text',
						(SELECT count(*) FROM pg_prepared_statements), repeat('x', 100000));
				WHEN 'hold' THEN EXECUTE 'DECLARE attack_c CURSOR WITH HOLD FOR SELECT 1';
				WHEN 'listen' THEN EXECUTE 'LISTEN attack';
				WHEN 'notify' THEN PERFORM pg_notify('attack', 'from the worker');
				WHEN 'conflict' THEN PERFORM set_config('plpgsql.variable_conflict', 'use_column', false);
				WHEN 'temp' THEN EXECUTE 'CREATE TEMP TABLE attack_t ()';
				WHEN 'discard' THEN EXECUTE 'DISCARD PLANS';
				WHEN 'role' THEN EXECUTE 'SET ROLE owner';}) . q{
		RETURN true;
	END
	$f$});

for my $n (1 .. 3)
{
	my $id = $node->safe_psql($db, "SELECT storemon.storemon_trigger_report('$as_of')",
		extra_params => ['-U', 'tenant']);
	is(wait_status($node, $db, $id, 'Complete', 'Failed'), 'Complete', "report $n is Complete");
}
my $log = slurp_file($node->logfile);
note(join("\n", $log =~ /(visible\(\): [^\n]*)/g));
unlike($log, qr/visible\(\): prepare went through/, 'the requester\'s code cannot prepare a statement in the worker');
unlike($log, qr/visible\(\): found prepared [1-9]/, 'no report finds a statement an earlier one prepared');
unlike($log, qr/visible\(\): found [^\n]*variable_conflict use_column/, 'nor a setting an earlier one set');

done_testing();
