# Hostile roles on a shared server: a database owner who is not superuser,
# and a role without grants.  Each attack of the shared-server issue is
# tried for real and must be refused: no way up to superuser, no read
# without a grant, no crash.
use strict;
use warnings;
use lib 't';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use StoremonNode;

my $db = 'shared';
my $node = database_node('hostile', $db, roles => [qw(owner stranger reporter)], owner => 'owner',
	conf => {'storemon.worker_idle_timeout' => '1s', restart_after_crash => 'on'});
# A report role with the README's grants, to trigger reports as a non-superuser.
grant_reporting($node, $db, 'reporter');

sub as_role
{
	my ($role, $sql) = @_;
	my ($rc, $out, $err) = $node->psql($db, "SET ROLE $role; $sql");
	return ($rc, $out, $err);
}

sub owner_is_superuser
{
	return $node->safe_psql('postgres', "SELECT rolsuper FROM pg_roles WHERE rolname = 'owner'") eq 't';
}

# 1. The owner plants operators and functions that grant it superuser when
#    a superuser runs them, and puts its schema before pg_catalog.
my ($rc, $out, $err) = as_role('owner', q{
	CREATE FUNCTION public.trap() RETURNS boolean LANGUAGE plpgsql AS $$
	BEGIN
		IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = pg_catalog.current_user()) THEN
			ALTER ROLE owner SUPERUSER;
		END IF;
		RETURN true;
	END $$;
	CREATE FUNCTION public.eq_text(text, text) RETURNS boolean LANGUAGE sql
		AS 'SELECT public.trap() AND $1 OPERATOR(pg_catalog.=) $2';
	CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text, FUNCTION = public.eq_text);
	CREATE FUNCTION public.eq_uuid(uuid, uuid) RETURNS boolean LANGUAGE sql
		AS 'SELECT public.trap() AND $1 OPERATOR(pg_catalog.=) $2';
	CREATE OPERATOR public.= (LEFTARG = uuid, RIGHTARG = uuid, FUNCTION = public.eq_uuid);
	CREATE FUNCTION public.ge_int(int, int) RETURNS boolean LANGUAGE sql
		AS 'SELECT public.trap() AND $1 OPERATOR(pg_catalog.>=) $2';
	CREATE OPERATOR public.>= (LEFTARG = int, RIGHTARG = int, FUNCTION = public.ge_int);
	CREATE FUNCTION public.lower(text) RETURNS text LANGUAGE sql
		AS 'SELECT CASE WHEN public.trap() THEN pg_catalog.lower($1) END';
	CREATE FUNCTION public.clock_timestamp() RETURNS timestamptz LANGUAGE sql
		AS 'SELECT CASE WHEN public.trap() THEN pg_catalog.clock_timestamp() END';
	CREATE FUNCTION public.format(text, int) RETURNS text LANGUAGE sql
		AS 'SELECT CASE WHEN public.trap() THEN pg_catalog.format($1, $2) END';
	CREATE FUNCTION public.pg_backend_pid() RETURNS int LANGUAGE sql
		AS 'SELECT CASE WHEN public.trap() THEN pg_catalog.pg_backend_pid() END';
	ALTER DATABASE shared SET search_path = public, pg_catalog, storemon;
});
is($rc, 0, 'the owner plants its operators and functions') or diag($err);
# From here the test's own queries pin their search_path: only what is
# under test meets the owner's settings.
$ENV{PGOPTIONS} = '-c search_path=pg_catalog,storemon';
ok(!owner_is_superuser(), 'the owner starts without superuser');

# Reports through the worker (as bootstrap superuser), from the owner's
# settings: the worker must not run any of it.
$node->safe_psql('postgres', 'SELECT pg_terminate_backend(pid) FROM pg_stat_activity '
	  . "WHERE backend_type = 'storemon worker'");
my $id = $node->safe_psql($db, q{SET ROLE reporter; SELECT storemon.storemon_trigger_report()});
is(wait_status($node, $db, $id, 'Complete', 'Failed'), 'Complete', 'a report completes under the hostile settings');
is($node->safe_psql($db, "SELECT count(*) > 0 FROM storemon.storemon_get_report('$id')"), 't', 'with its rows');
ok(!owner_is_superuser(), 'the worker ran none of the owner\'s objects: the owner is not superuser');

# A superuser using the API in that database, under the owner's search_path.
for my $sql (
	'SELECT count(*) FROM storemon_compute()',
	'SELECT count(*) FROM storemon_compute_exact()',
	'SELECT count(*) FROM storemon_data_quality()',
	"SELECT count(*) FROM storemon_get_report('$id')",
	"SELECT length(storemon_report_csv('$id'))",
	'SELECT count(*) FROM storemon_list_reports()',
	'SELECT storemon_purge_reports(\'100 years\')',
	'SET storemon.parallel_workers = 1; ANALYZE storemon.store_status; SELECT count(*) FROM storemon_compute()')
{
	($rc, $out, $err) = $node->psql($db, "SET search_path = public, pg_catalog, storemon; $sql");
	is($rc, 0, "superuser runs under the owner's search_path: $sql") or diag($err);
}
ok(!owner_is_superuser(), 'a superuser using the API ran none of the owner\'s objects');

# 2. The schema cannot be renamed, replaced or written to by the owner.
($rc, $out, $err) = as_role('owner', 'ALTER SCHEMA storemon RENAME TO old');
like($err, qr/must be owner of schema storemon/, 'the owner cannot rename storemon\'s schema');
($rc, $out, $err) = as_role('owner', 'CREATE FUNCTION storemon.storemon_internal_x() RETURNS int LANGUAGE sql AS $$SELECT 1$$');
like($err, qr/permission denied for schema storemon/, 'nor create objects in it');
($rc, $out, $err) = as_role('owner', 'CREATE OR REPLACE FUNCTION storemon_internal.find_report(uuid) RETURNS storemon.reports LANGUAGE sql AS $$SELECT NULL::storemon.reports$$');
like($err, qr/must be owner of function|permission denied/, 'nor replace a helper');
($rc, $out, $err) = as_role('owner', 'ALTER SCHEMA public RENAME TO old_public; CREATE SCHEMA storemon_x');
is($rc, 0, 'renaming public (which the owner owns) is allowed ...');
is($node->safe_psql($db, q{SELECT pg_get_functiondef('storemon.storemon_get_report(uuid)'::regprocedure) ~ 'SECURITY DEFINER'}),
	'f', '... and gains nothing: no storemon function is SECURITY DEFINER');
$node->safe_psql($db, 'ALTER SCHEMA old_public RENAME TO public');

# 3. Roles without grants read nothing.
for my $sql (
	'SELECT * FROM storemon.storemon_compute()',
	'SELECT * FROM storemon.storemon_compute_exact()',
	"SELECT * FROM storemon.storemon_compute(store_ids => ARRAY['x'])",
	'SELECT * FROM storemon.storemon_window()',
	"SELECT * FROM storemon.storemon_outages(period => '30 days')",
	"SELECT storemon.storemon_store_svg('x')",
	'SELECT storemon.storemon_latest_report()',
	"SELECT * FROM storemon.storemon_report_summary('$id')",
	'SELECT storemon.storemon_default_as_of()',
	'SELECT * FROM storemon.storemon_data_quality()',
	"SELECT * FROM storemon.storemon_get_report('$id')",
	"SELECT storemon.storemon_report_csv('$id')",
	'SELECT * FROM storemon.storemon_list_reports()',
	'SELECT storemon.storemon_trigger_report()',
	"SELECT storemon.storemon_purge_reports('0')",
	"SELECT storemon_internal.find_report('$id')",
	'SELECT * FROM storemon.store_status LIMIT 1')
{
	($rc, $out, $err) = as_role('stranger', $sql);
	like($err, qr/permission denied/, "a role without grants is refused: $sql");
}
# The stranger may execute exactly the documented API (and the helpers it calls).
is($node->safe_psql($db, q{
	SELECT string_agg(p.proname, ',' ORDER BY p.proname) FROM pg_proc p
	WHERE p.pronamespace = 'storemon'::regnamespace
	  AND has_function_privilege('stranger', p.oid, 'EXECUTE')}),
	'storemon_compute,storemon_compute_exact,storemon_data_quality,storemon_default_as_of,'
	  . 'storemon_get_report,storemon_latest_report,storemon_list_reports,storemon_load_staged,'
	  . 'storemon_outages,storemon_purge_reports,storemon_report_csv,storemon_report_summary,'
	  . 'storemon_schedule,storemon_store_svg,storemon_trigger_report,storemon_window',
	'PUBLIC may execute the documented API in schema storemon, nothing else there');
# A role that may trigger but not read the feed gets a Failed report, not figures.
$node->safe_psql($db, q{
	GRANT INSERT (requested_as_of, interpolation), SELECT ON storemon.reports TO stranger;
	GRANT USAGE ON SEQUENCE storemon.reports_seq TO stranger;});
my $sneaky = $node->safe_psql($db, 'SET ROLE stranger; SELECT storemon.storemon_trigger_report()');
is(wait_status($node, $db, $sneaky, 'Complete', 'Failed'), 'Failed',
	'a report asked for by a role that may not read the feed is Failed');
like($node->safe_psql($db, "SELECT error FROM storemon.reports WHERE id = '$sneaky'"),
	qr/permission denied for table storemon.store_status/, 'with permission denied');
is($node->safe_psql($db, "SELECT count(*) FROM storemon.report_rows WHERE report_id = '$sneaky'"), '0',
	'and no rows');
($rc, $out, $err) = as_role('stranger', "INSERT INTO storemon.reports (requested_by) VALUES ('postgres')");
like($err, qr/permission denied/, 'nor can it claim to be someone else');

# 4. Every timestamp is computed or refused; nothing crashes.
$node->safe_psql($db, q{INSERT INTO storemon.timezones VALUES ('far', 'America/New_York')
	ON CONFLICT (store_id) DO UPDATE SET timezone_str = EXCLUDED.timezone_str;
	INSERT INTO storemon.menu_hours VALUES ('far', 0, '09:00', '17:00');
	INSERT INTO storemon.store_status VALUES ('far', '294276-12-20 UTC', 'active');});
for my $t ('294276-12-31 23:59:59.999999 UTC', '294276-12-25 UTC', '4714-11-24 00:00 UTC BC', 'infinity', '-infinity')
{
	($rc, $out, $err) = as_role('reporter', "SELECT count(*) FROM storemon.storemon_compute('$t')");
	like($err, qr/as_of .*(out of the range|must be a finite)/, "as_of $t is refused with a clear error");
	($rc, $out, $err) = as_role('reporter', "SELECT storemon.storemon_trigger_report('$t')");
	like($err, qr/as_of .*(out of the range|must be a finite)/, "and refused when queued");
}
$node->safe_psql($db, q{DELETE FROM storemon.store_status WHERE store_id = 'far'});
($rc, $out, $err) = $node->psql($db, q{INSERT INTO storemon.reports (requested_as_of) VALUES ('294276-12-25 UTC') RETURNING id});
like($err, qr/out of the range a report can cover\nHINT:  as_of must lie from/,
	'a far as_of put in the queue directly is refused when queued, saying the range');
ok(!$node->log_contains('terminated by signal'), 'no process of the server crashed');

# 5. A huge argument is not echoed whole.
($rc, $out, $err) = as_role('reporter', q{SELECT * FROM storemon.storemon_compute(NULL, repeat('x', 10000000))});
like($err, qr/unknown interpolation mode "x{40}\.\.\."/, 'a 10 MB argument is cut in the error');
cmp_ok(length($err), '<', 400, 'the error stays short');

# 6. Under SERIALIZABLE, storemon_compute's index-only reads take the heap
#    page predicate locks the executor's index-only scan takes: T1 reads
#    the polls through storemon_compute (all pages all-visible, so no heap
#    visit) and writes a side table; T2 reads the side table and deletes a
#    poll T1 read.  A DELETE touches only the heap, so only that lock can
#    see the conflict: one of the two must fail to serialize.
$node->safe_psql($db, q{CREATE TABLE public.side (x int); VACUUM (FREEZE, ANALYZE) storemon.store_status});
my $victim = $node->safe_psql($db, q{SELECT ctid FROM storemon.store_status
	WHERE store_id = (SELECT min(store_id) FROM storemon.store_status)
	ORDER BY timestamp_utc DESC LIMIT 1});
my $s1 = $node->background_psql($db, on_error_stop => 0);
my $s2 = $node->background_psql($db, on_error_stop => 0);
$s1->query_safe('BEGIN ISOLATION LEVEL SERIALIZABLE; SELECT count(*) FROM storemon.storemon_compute()');
$s2->query_safe('BEGIN ISOLATION LEVEL SERIALIZABLE; SELECT count(*) FROM public.side');
$s1->query_safe('INSERT INTO public.side VALUES (1)');
$s2->query_safe("DELETE FROM storemon.store_status WHERE ctid = '$victim'");
$s1->query('COMMIT');
my $e1 = $s1->{stderr};
$s2->query('COMMIT');
my $e2 = $s2->{stderr};
$s1->quit;
$s2->quit;
my $failures = grep { /could not serialize/ } ($e1 // '', $e2 // '');
is($failures, 1, 'a SERIALIZABLE report and a delete of a poll it read: one of the two is refused');

# 7. A feed of long store ids, which the index stores compressed: a report
#    decompresses each entry once, in memory it frees when it moves on, so
#    its backend's peak memory does not grow with the polls it compares.
#    The same report over short ids runs first, in the same backend, so
#    what the second adds is what its long ids cost.
$node->safe_psql('postgres', 'CREATE DATABASE longids');
$node->safe_psql('longids', q{CREATE EXTENSION storemon;
	INSERT INTO storemon.store_status
	SELECT CASE WHEN s <= 1000 THEN 'a' || s ELSE 'b' || repeat(lpad(s::text, 10, '0'), 100) END,
	       '2023-01-01'::timestamptz + h * interval '1 hour',
	       CASE WHEN (s + h) % 3 = 0 THEN 'inactive' ELSE 'active' END
	FROM generate_series(1, 2000) s, generate_series(1, 160) h;
	VACUUM ANALYZE storemon.store_status;});
my $session = $node->background_psql('longids');
my $backend = $session->query_safe('SELECT pg_backend_pid()');
my $peak = sub { (slurp_file("/proc/$backend/status") =~ /VmHWM:\s+(\d+) kB/)[0] };
is($session->query_safe(q{SELECT count(*) FROM storemon.storemon_compute(NULL, 'nearest', 'a', 'b')}), '1000',
	'a report of 1,000 stores with short ids');
my $before = $peak->();
is($session->query_safe(q{SELECT count(*) FROM storemon.storemon_compute(NULL, 'nearest', 'b')}), '1000',
	'and of 1,000 stores with 1,000-byte ids');
my $grown = $peak->() - $before;
cmp_ok($grown, '<', 60_000, "the long ids grew its backend's peak memory by $grown kB (160,000 polls of them)");
$session->quit;

ok(!owner_is_superuser(), 'after all of it, the owner is still not superuser');
# The control: the trap is real.  A superuser's own query under the owner's
# search_path runs the planted = and hands superuser over.
$node->safe_psql($db, q{SET search_path = public, pg_catalog; SELECT 'a'::text = 'a'::text});
ok(owner_is_superuser(), 'control: a superuser who runs the owner\'s = directly does make it superuser');
$node->stop;
done_testing();
