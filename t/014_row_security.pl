# Row security is never bypassed.  Under policies an owner of restaurants
# would write (a role sees its own stores; one store's hours and another's
# zone hidden; some polls hidden row by row), every function and the
# worker's reports give what a superuser computes from exactly the rows the
# role can SELECT, copied into a database of their own.
use strict;
use warnings;
use lib 't';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use StoremonNode;

my $node = storemon_node('rls', 'storemon.worker_idle_timeout' => '1s');
my $db = 'chains';
load_sample($node, $db);
$node->safe_psql($db, q{
	CREATE ROLE analyst LOGIN;
	CREATE ROLE auditor LOGIN BYPASSRLS;
	CREATE TABLE public.store_owners (store_id text COLLATE "C", role name);
	-- The analyst's chain: every 7th store, by id.
	INSERT INTO public.store_owners
	SELECT store_id, 'analyst' FROM (SELECT DISTINCT store_id FROM storemon.store_status) s
	WHERE abs(hashtext(store_id)) % 7 = 0;
	GRANT SELECT ON public.store_owners TO analyst, auditor;
	ALTER TABLE storemon.store_status ENABLE ROW LEVEL SECURITY;
	ALTER TABLE storemon.menu_hours ENABLE ROW LEVEL SECURITY;
	ALTER TABLE storemon.timezones ENABLE ROW LEVEL SECURITY;
	CREATE POLICY own_stores ON storemon.store_status FOR SELECT
		USING (store_id IN (SELECT o.store_id FROM public.store_owners o WHERE o.role = current_user));
	-- Row by row: the first chain store's polls of its first day are not the analyst's to see.
	DO $$ BEGIN EXECUTE format($p$CREATE POLICY not_before ON storemon.store_status AS RESTRICTIVE FOR SELECT
		USING (store_id <> (SELECT min(store_id) FROM public.store_owners) OR timestamp_utc >= %L)$p$,
		(SELECT min(timestamp_utc) + interval '1 day' FROM storemon.store_status)); END $$;
	CREATE POLICY own_hours ON storemon.menu_hours FOR SELECT
		USING (store_id IN (SELECT o.store_id FROM public.store_owners o WHERE o.role = current_user
		                    AND o.store_id <> (SELECT max(store_id) FROM public.store_owners)));
	CREATE POLICY own_zones ON storemon.timezones FOR SELECT
		USING (store_id IN (SELECT o.store_id FROM public.store_owners o WHERE o.role = current_user
		                    OFFSET 1));
	-- The newest poll of all belongs to a store the analyst does not own.
	INSERT INTO storemon.store_status
	SELECT store_id, (SELECT max(timestamp_utc) + interval '1 hour' FROM storemon.store_status), 'inactive'
	FROM (SELECT DISTINCT store_id FROM storemon.store_status) s
	WHERE abs(hashtext(store_id)) % 7 = 1 LIMIT 1;
});
grant_reporting($node, $db, 'analyst', 'auditor');
my $owned = $node->safe_psql($db, 'SELECT count(*) FROM public.store_owners');
cmp_ok($owned, '>', 10, "the analyst's chain has $owned stores");

# What the analyst can read, copied into a database with no policies.
$node->safe_psql('postgres', 'CREATE DATABASE visible');
$node->safe_psql('visible', 'CREATE EXTENSION storemon');
my $dir = $node->basedir;
for my $t ('store_status', 'menu_hours', 'timezones')
{
	my ($rc, $out, $err) = $node->psql($db, "SET ROLE analyst; \\copy (SELECT * FROM storemon.$t) TO '$dir/$t.copy'");
	is($rc, 0, "the analyst's view of $t is read") or diag($err);
	$node->safe_psql('visible', "\\copy storemon.$t FROM '$dir/$t.copy'");
}
cmp_ok($node->safe_psql('visible', 'SELECT count(*) FROM storemon.store_status'), '<',
	$node->safe_psql($db, 'SELECT count(*) FROM storemon.store_status'), 'and it is less than the whole feed');

sub as_analyst
{
	my ($sql, $role) = @_;
	return $node->safe_psql($db, 'SET ROLE ' . ($role // 'analyst') . "; $sql");
}

my $as_of = $node->safe_psql('visible', 'SELECT storemon.storemon_default_as_of()');
is(as_analyst('SELECT storemon.storemon_default_as_of()'), $as_of,
	'storemon_default_as_of is the newest poll the analyst may see');
isnt($node->safe_psql($db, 'SELECT storemon.storemon_default_as_of()'), $as_of, '(not the newest of all)');

# Every function, both modes: the same text as the reference's.
for my $mode ('nearest', 'previous')
{
	for my $call (
		"storemon.storemon_compute(NULL, '$mode')",
		"storemon.storemon_compute_exact(NULL, '$mode')",
		"storemon.storemon_compute('$as_of', '$mode')",
		"storemon.storemon_window(NULL, '$mode', '1 day')",
		"storemon.storemon_window('$as_of', '$mode', '30 days')",
		"storemon.storemon_outages(NULL, '$mode', '7 days')",
		"storemon.storemon_data_quality()")
	{
		my $q = "SELECT count(*) || ' ' || md5(string_agg(c::text, E'\\n')) FROM $call c";
		my $want = $node->safe_psql('visible', $q);
		is(as_analyst($q), $want, "$call as the analyst equals the reference ($want)");
	}
}
# The policies matter: the chain store whose hours are hidden is always open for the analyst.
my $no_hours = $node->safe_psql($db, 'SELECT max(store_id) FROM public.store_owners');
my $q = "SELECT business_us FROM storemon.storemon_window(store_ids => ARRAY['$no_hours'])";
is(as_analyst($q), '604800000000', 'a store whose hours the analyst may not see is open the whole week for it');
isnt($node->safe_psql($db, $q), '604800000000', '(it is not, for a role that sees its hours)');
my @ids = split /\n/, $node->safe_psql('visible', 'SELECT DISTINCT store_id FROM storemon.store_status ORDER BY 1 LIMIT 3');
my $hidden = $node->safe_psql($db, q{SELECT min(store_id) FROM storemon.store_status
	WHERE store_id NOT IN (SELECT store_id FROM public.store_owners)});
my $list = join(',', map { "'$_'" } @ids, $hidden);
$q = "SELECT string_agg(c::text, E'\\n') FROM storemon.storemon_compute(store_ids => ARRAY[$list]) c";
is(as_analyst($q), $node->safe_psql('visible', $q), 'chosen stores: a hidden one gets no row');
for my $id (@ids)
{
	$q = "SELECT md5(storemon.storemon_store_svg('$id'))";
	is(as_analyst($q), $node->safe_psql('visible', $q), "the picture of $id is drawn from what the analyst sees");
}
my ($rc, $out, $err) = $node->psql($db, "SET ROLE analyst; SELECT storemon.storemon_store_svg('$hidden')");
is($out, '', 'a hidden store has no picture');

# The parallel report is not used under row security (its ranges come from statistics).
$node->safe_psql($db, 'ANALYZE storemon.store_status; ALTER ROLE analyst SET storemon.parallel_workers = 2');
$q = "SELECT count(*) || ' ' || md5(string_agg(c::text, E'\\n')) FROM storemon.storemon_compute() c";
is($node->safe_psql($db, $q, connstr => $node->connstr($db) . ' user=analyst'),
	$node->safe_psql('visible', $q), 'with storemon.parallel_workers set, the same rows');
$node->safe_psql($db, 'ALTER ROLE analyst RESET storemon.parallel_workers');

# Through the worker: the analyst's report holds the analyst's rows.
my $id = as_analyst('SELECT storemon.storemon_trigger_report()');
is(wait_status($node, $db, $id, 'Complete', 'Failed'), 'Complete', "the analyst's report completes");
is($node->safe_psql($db, "SELECT as_of FROM storemon.reports WHERE id = '$id'"), $as_of,
	'as of the newest poll the analyst may see');
$q = q{SELECT count(*) || ' ' || md5(string_agg(c::text, E'\n' ORDER BY c.store_id))
	FROM (SELECT store_id, uptime_last_hour, uptime_last_day, uptime_last_week, downtime_last_hour,
	             downtime_last_day, downtime_last_week FROM storemon.report_rows WHERE report_id = '%s') c};
is($node->safe_psql($db, sprintf($q, $id)),
	$node->safe_psql('visible', "SELECT count(*) || ' ' || md5(string_agg(c::text, E'\\n')) FROM storemon.storemon_compute() c"),
	'with the rows of the reference');

# A role that bypasses row security, and one that turns it off.
my $all = $node->safe_psql($db, "SELECT count(*) FROM storemon.storemon_compute()");
is(as_analyst('SELECT count(*) FROM storemon.storemon_compute()', 'auditor'), $all,
	'a BYPASSRLS role sees every store, as the table owner does');
my $aid = as_analyst('SELECT storemon.storemon_trigger_report()', 'auditor');
is(wait_status($node, $db, $aid, 'Complete', 'Failed'), 'Complete', "and so does its report");
is($node->safe_psql($db, "SELECT stores_total FROM storemon.reports WHERE id = '$aid'"), $all, 'with every store');
($rc, $out, $err) = $node->psql($db, 'SET ROLE analyst; SET row_security = off; SELECT count(*) FROM storemon.storemon_compute()');
like($err, qr/query would be affected by row-level security policy for table "store_status"/,
	'row_security = off gives the error a SELECT gives');

# Policies on the queue are honoured by the queue's functions.
$node->safe_psql($db, q{
	ALTER TABLE storemon.reports ENABLE ROW LEVEL SECURITY;
	ALTER TABLE storemon.report_rows ENABLE ROW LEVEL SECURITY;
	CREATE POLICY own_requests ON storemon.reports USING (requested_by = current_user);
	CREATE POLICY own_rows ON storemon.report_rows
		USING (report_id IN (SELECT r.id FROM storemon.reports r WHERE r.requested_by = current_user));
});
is(as_analyst('SELECT count(*) FROM storemon.storemon_list_reports()'), '1', "the analyst lists only its own report");
($rc, $out, $err) = $node->psql($db, "SET ROLE analyst; SELECT * FROM storemon.storemon_get_report('$aid')");
like($err, qr/storemon: no report with id/, "another role's report is not found");
is(as_analyst("SELECT count(*) FROM storemon.storemon_get_report('$id')"),
	$node->safe_psql('visible', 'SELECT count(*) FROM storemon.storemon_compute()'), 'its own is read whole');
is(as_analyst("SELECT storemon.storemon_latest_report()"), $id, 'storemon_latest_report finds its own');
my $queued = as_analyst('SELECT storemon.storemon_trigger_report()');
is(wait_status($node, $db, $queued, 'Complete', 'Failed'), 'Complete', 'a request under policies on the queue completes');

ok(!$node->log_contains('terminated by signal'), 'no process crashed');
$node->stop;
done_testing();
