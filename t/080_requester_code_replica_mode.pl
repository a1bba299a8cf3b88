# Attack (attack round 3): the report worker runs with
# session_replication_role = replica, a superuser-only setting, so that no
# trigger a role added fires as superuser.  But the worker also computes a
# report as its requester, and under row security the requester's code runs
# inside that computation: a per-chain policy (README "Row security", the
# t/014 pattern) reads an owners table, and that table belongs to the
# database's owner, who may put a policy of its own on it that calls its
# function.  That function then runs as the requester with
# session_replication_role = replica: no ordinary trigger fires, so every
# guard storemon keeps as a trigger is off for the requester's writes:
#
#   - guard_request: a request queued from there keeps whatever columns the
#     role may write: no requester oid, no cap, no mode check; with INSERT
#     on every column of reports (which README "Privileges" says is safe) it
#     names a superuser, and the worker computes it as that superuser,
#     past the policy, for the role to read;
#   - the report_rows delete guard (t/094): a role with the README's purging
#     grants deletes the worst rows of a Complete report, which stays
#     Complete with stores silently missing.
#
# In the role's own session each of these is refused (the controls below).
# Failed on 1.3 as first written; now the requester's part of a report runs
# with session_replication_role = origin and read-only.
use strict;
use warnings;
use lib 't';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use StoremonNode;

my $db = 'shop';
my $as_of = '2023-01-25 18:00:00+00';
my $node = database_node('attack_replica_mode', $db, roles => ['owner', 'tenant'], owner => 'owner');
grant_reporting($node, $db, 'tenant');
# What README "Privileges" lists or calls safe: INSERT on every column of
# the queue ("whatever a role was granted on reports"), and the purging grants.
$node->safe_psql($db, q{
	GRANT INSERT ON storemon.reports TO tenant;
	GRANT SELECT, DELETE ON storemon.reports, storemon.report_rows TO tenant;
});

# The database owner's application keeps which role owns which store.
chain_policy($node, $db, 'owner', 'tenant');
$node->safe_psql($db, 'GRANT DELETE ON public.plan TO PUBLIC', extra_params => ['-U', 'owner']);
my $mine = $node->safe_psql($db, "SELECT count(*) FROM storemon.storemon_compute('$as_of')",
	extra_params => ['-U', 'tenant']);
is($mine, '10', 'the tenant computes its 10 stores');

# A Complete report of the tenant's, before the attack.
my $before = $node->safe_psql($db, "SELECT storemon.storemon_trigger_report('$as_of')",
	extra_params => ['-U', 'tenant']);
is(wait_status($node, $db, $before, 'Complete', 'Failed'), 'Complete', 'a report of the tenant is Complete');

# The owner's policy on its own table: it runs as whoever reads the table.
owner_policy_calls($node, $db, 'owner', q{
	CREATE FUNCTION public.visible() RETURNS boolean LANGUAGE plpgsql VOLATILE AS $f$
	DECLARE
		step text;
	BEGIN
		IF NOT EXISTS (SELECT FROM public.plan) THEN
			RETURN true;
		END IF;
		RAISE WARNING 'visible() runs as %, session_replication_role %, transaction_read_only %',
			current_user, current_setting('session_replication_role'),
			current_setting('transaction_read_only');}
	. each_step([qw(plan cap mode superuser rows)], q{
				WHEN 'plan' THEN DELETE FROM public.plan;
				-- 25 requests (more than the cap of 20)
				WHEN 'cap' THEN INSERT INTO storemon.reports (requested_as_of, interpolation)
					SELECT '2023-01-25 18:00:00+00', 'nearest' FROM generate_series(1, 25);
				-- a mode that is none
				WHEN 'mode' THEN INSERT INTO storemon.reports (requested_as_of, interpolation)
					VALUES ('2023-01-25 18:00:00+00', 'no such mode');
				-- a request in a superuser's name
				WHEN 'superuser' THEN INSERT INTO storemon.reports (requested_as_of, requested_by)
					VALUES ('2023-01-25 18:00:00+00', 'postgres');
				-- the worst stores out of the earlier Complete report
				WHEN 'rows' THEN DELETE FROM storemon.report_rows x WHERE x.report_id <> ALL (
					SELECT r.id FROM storemon.reports r WHERE r.status <> 'Complete')
				  AND x.downtime_last_week > 0;}) . q{
		RETURN true;
	END
	$f$});
$node->safe_psql($db, q{INSERT INTO public.plan VALUES ('go')}, extra_params => ['-U', 'owner']);

# Controls: in the tenant's own session each write is refused or guarded.
my ($rc, $out, $err) = $node->psql($db,
	"DELETE FROM storemon.report_rows WHERE report_id = '$before' AND downtime_last_week > 0",
	extra_params => ['-U', 'tenant']);
like($err, qr/deleted with the report/, "in its own session the tenant cannot delete a report's rows");
($rc, $out, $err) = $node->psql($db,
	"INSERT INTO storemon.reports (requested_as_of, interpolation) VALUES ('$as_of', 'no such mode')",
	extra_params => ['-U', 'tenant']);
isnt($rc, 0, 'in its own session a mode that is none is refused');
is($node->safe_psql($db, 'SELECT count(*) FROM public.plan'), '1',
	'nothing ran the owner\'s function yet (the tenant under no replica mode)');

# The tenant asks for a report; the worker computes it as the tenant.
my $id = $node->safe_psql($db, "SELECT storemon.storemon_trigger_report('$as_of')",
	extra_params => ['-U', 'tenant']);
is(wait_status($node, $db, $id, 'Complete', 'Failed'), 'Complete', "the tenant's report is Complete");
ok($node->log_contains(
		qr/visible\(\) runs as tenant, session_replication_role origin, transaction_read_only on/),
	"the owner's function ran in the worker, as the tenant, with triggers on and read-only");
ok(!$node->log_contains(qr/visible\(\): \w+ went through/), 'none of its writes went through');
ok($node->log_contains(qr/visible\(\): rows refused: cannot execute DELETE in a read-only transaction/),
	'each was refused as a read-only transaction refuses it');
$node->poll_query_until($db,
	"SELECT count(*) = 0 FROM storemon.reports WHERE status IN ('Queued', 'Running')");

my $oid = $node->safe_psql($db, "SELECT 'tenant'::regrole::oid");
is($node->safe_psql($db, "SELECT count(*) FROM storemon.reports
		WHERE requested_by_role IS DISTINCT FROM $oid AND requested_by <> 'postgres'"), '0',
	'every request of the tenant carries its oid (guard_request ran)');
is($node->safe_psql($db, "SELECT count(*) FROM storemon.reports
		WHERE interpolation NOT IN ('nearest', 'previous')"), '0',
	'no request holds a mode that is none');
cmp_ok($node->safe_psql($db, "SELECT count(*) FROM storemon.reports WHERE requested_by = 'tenant'"),
	'<=', 1 + 20, 'the tenant queued no more than the cap (20) besides its report');
is($node->safe_psql($db, "SELECT count(*) FROM storemon.reports WHERE requested_by = 'postgres'"), '0',
	'no request is in a superuser\'s name');
is($node->safe_psql($db, q{SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM storemon.report_rows
		GROUP BY report_id) c}, extra_params => ['-U', 'tenant']),
	'10', 'no report the tenant can read holds more than its 10 stores');
is($node->safe_psql($db, "SELECT r.stores_done - count(x.*) FROM storemon.reports r
		LEFT JOIN storemon.report_rows x ON x.report_id = r.id WHERE r.id = '$before' GROUP BY r.stores_done"),
	'0', 'the earlier Complete report keeps every one of its rows');

done_testing();
