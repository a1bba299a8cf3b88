# Attack (attack round 4), "nothing more, nothing lost": a report computed as
# its requester is what storemon_compute gives that role (t/098).  The worker
# changes only the current user to the requester's; session_user stays the
# bootstrap superuser the worker connected as.  A policy keyed on
# session_user (the pattern of applications that log in as one role and
# SET ROLE to another, or that mean "the login role") then sees the
# superuser in the worker: the requester's Complete report holds the
# superuser's stores and none of its own, which its own storemon_compute
# never shows it.  Failed on 1.3 as first written; now the requester is the
# session user too while its part runs.
use strict;
use warnings;
use lib 't';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use StoremonNode;

my $db = 'shop';
my $as_of = '2023-01-25 18:00:00+00';
my $node = database_node('attack_session_user', $db, roles => ['tenant']);
grant_reporting($node, $db, 'tenant');
my $superuser = $node->safe_psql($db, 'SELECT current_user');
$node->safe_psql($db, qq{
	CREATE TABLE public.store_owners (store_id text COLLATE "C", role name);
	GRANT SELECT ON public.store_owners TO PUBLIC;
	INSERT INTO public.store_owners
		SELECT store_id, CASE WHEN n <= 10 THEN 'tenant' ELSE '$superuser' END
		FROM (SELECT store_id, row_number() OVER (ORDER BY store_id) AS n
		      FROM (SELECT DISTINCT store_id FROM storemon.store_status) d) s
		WHERE n <= 15;
	ALTER TABLE storemon.store_status ENABLE ROW LEVEL SECURITY;
	CREATE POLICY login_role_stores ON storemon.store_status FOR SELECT
		USING (store_id IN (SELECT o.store_id FROM public.store_owners o WHERE o.role = session_user));
});

my $rows = q{SELECT count(*) || ' ' || coalesce(md5(string_agg(r::text, E'\n' ORDER BY r.store_id)), '') FROM (%s) r};
my $direct = $node->safe_psql($db, sprintf($rows, "SELECT * FROM storemon.storemon_compute('$as_of')"),
	extra_params => ['-U', 'tenant']);
like($direct, qr/^10 /, "the tenant's storemon_compute gives its 10 stores");

my $id = $node->safe_psql($db, "SELECT storemon.storemon_trigger_report('$as_of')",
	extra_params => ['-U', 'tenant']);
is(wait_status($node, $db, $id, 'Complete', 'Failed'), 'Complete', "the tenant's report completes");
my $stored = $node->safe_psql($db, sprintf($rows,
	"SELECT store_id, uptime_last_hour, uptime_last_day, uptime_last_week, downtime_last_hour,
	        downtime_last_day, downtime_last_week FROM storemon.storemon_get_report('$id')"),
	extra_params => ['-U', 'tenant']);
is($stored, $direct, "with the rows the tenant's storemon_compute gives");
is($node->safe_psql($db, "SELECT count(*) FROM storemon.storemon_get_report('$id') g
		JOIN public.store_owners o USING (store_id) WHERE o.role <> 'tenant'",
		extra_params => ['-U', 'tenant']),
	'0', "and none of the superuser's stores");

done_testing();
