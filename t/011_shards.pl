# storemon over three shard clusters and a coordinator (storemon_coordinator,
# PL/Proxy), all on this machine over unix sockets: the loader routes each
# record to its store's shard, all shards or none; reports on the coordinator
# equal the single-node report row for row in both modes; chosen stores go
# to their shards only; a down shard fails a report with its name, and a
# retry after it is back completes.
use strict;
use warnings;
use lib 't';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use StoremonNode;
use ExtensionCatalog;

# Shard 0 may wait for a synchronous standby (6. below): that needs WAL senders.
my @shards = map { storemon_node("shard$_", preload => 'storemon', $_ == 0 ? (wal_level => 'replica', max_wal_senders => 2) : ()) } 0 .. 2;
$shards[$_]->safe_psql('postgres', "CREATE DATABASE shard$_") for 0 .. 2;
$shards[$_]->safe_psql("shard$_", 'CREATE EXTENSION storemon') for 0 .. 2;
$shards[$_]->safe_psql('postgres', q{ALTER SYSTEM SET track_functions = 'all'; SELECT pg_reload_conf()}) for 0 .. 2;
my $coord = storemon_node('coordinator', 'storemon.worker_idle_timeout' => '60s');
my $db = 'storemon_test';
$coord->safe_psql('postgres', "CREATE DATABASE $db");
# Each connection string pins an empty search_path, as the README says it must.
my $partitions = join(', ', map { "p$_ 'dbname=shard$_ host=" . $shards[$_]->host . ' port=' . $shards[$_]->port
	  . " options=-csearch_path='" } 0 .. 2);
$coord->safe_psql($db, qq{
	CREATE EXTENSION storemon;
	ALTER DATABASE $db SET search_path = "\$user", public, storemon;
	CREATE SCHEMA plproxy;
	CREATE EXTENSION plproxy SCHEMA plproxy;
	CREATE EXTENSION storemon_coordinator;
	CREATE SERVER storemon_shards FOREIGN DATA WRAPPER plproxy OPTIONS (modular_mapping '1', $partitions);
	CREATE USER MAPPING FOR PUBLIC SERVER storemon_shards;
	CREATE EXTENSION pg_cron;});
# The single-node reference: the same files in one ordinary database.
load_sample($coord, 'single');

sub load_coordinator
{
	my ($env, @args) = @_;
	my ($out, $err);
	local %ENV = (%ENV, %$env);
	my $ok = IPC::Run::run(['./storemon-load', @args, '--', '-h', $coord->host, '-p', $coord->port, '-d', $db],
		'>', \$out, '2>', \$err);
	return ($ok, $out, $err);
}
sub shard_polls { join(',', map { $shards[$_]->safe_psql("shard$_", 'SELECT count(*) FROM storemon.store_status') } 0 .. 2) }
my @sample = ('--status', 'data/store_status.csv', '--hours', 'data/menu_hours.csv', '--zones', 'data/timezones.csv');

# 1. Loading: each store's rows on the shard the hash rule names.
my ($ok, $out, $err) = load_coordinator({}, @sample);
ok($ok, 'storemon-load pointed at the coordinator loads the shards') or diag($err);
like($out, qr/loaded into 3 of 3 shards, each committed/, 'and says every shard committed');
my $total = 0;
for my $i (0 .. 2)
{
	my $ids = $shards[$i]->safe_psql("shard$i",
		q{SELECT string_agg(DISTINCT quote_literal(store_id), ',') FROM (SELECT store_id FROM storemon.store_status
		  UNION SELECT store_id FROM storemon.menu_hours UNION SELECT store_id FROM storemon.timezones) s});
	is($coord->safe_psql($db, "SELECT count(*) FROM unnest(ARRAY[$ids]) id WHERE storemon_coordinator.shard_of(id) <> $i"),
		'0', "shard $i holds only stores whose hash maps to it, with their polls, hours and zone");
	$total += $shards[$i]->safe_psql("shard$i", 'SELECT count(*) FROM storemon.store_status');
}
is($total, $coord->safe_psql('single', 'SELECT count(*) FROM storemon.store_status'), 'no poll lost or doubled');

# 2. Reports on the coordinator equal the single-node report, in both modes.
sub csv_of_single
{
	my ($mode, $as_of) = @_;
	my $id = $coord->safe_psql('single', "SELECT storemon_trigger_report('$as_of', '$mode')");
	wait_status($coord, 'single', $id, 'Complete', 'Failed');
	return $coord->safe_psql('single', "SELECT storemon_report_csv('$id')");
}
for my $mode ('nearest', 'previous')
{
	my $id = $coord->safe_psql($db, "SELECT storemon_trigger_report(interpolation => '$mode')");
	is(wait_status($coord, $db, $id, 'Complete', 'Failed'), 'Complete', "a $mode report on the coordinator completes");
	my $as_of = $coord->safe_psql($db, "SELECT as_of FROM storemon.reports WHERE id = '$id'");
	is($as_of, $coord->safe_psql('single', 'SELECT storemon_default_as_of()'),
		'with as_of the latest poll across all shards');
	is($coord->safe_psql($db, "SELECT storemon_report_csv('$id')"), csv_of_single($mode, $as_of),
		"its CSV equals the single-node report's, row for row, $mode");
}
is($coord->safe_psql($db, q{SELECT md5(string_agg(c::text, ',')) FROM storemon_coordinator.storemon_compute(NULL, 'previous') c}),
	$coord->safe_psql('single', q{SELECT md5(string_agg(c::text, ',')) FROM storemon_compute(NULL, 'previous') c}),
	'storemon_coordinator.storemon_compute equals storemon_compute on one node');

# 3. Chosen stores are asked of their own shards only.
my @ids = split /\n/, $coord->safe_psql('single', 'SELECT store_id FROM storemon.store_status GROUP BY 1 ORDER BY 1 LIMIT 2');
my $list = join(',', map { "'$_'" } @ids);
my %busy = map { $_ => 1 } split /\n/, $coord->safe_psql($db, "SELECT storemon_coordinator.shard_of(id) FROM unnest(ARRAY[$list]) id");
my $calls_sql = q{SELECT coalesce(sum(calls), 0) FROM pg_stat_user_functions WHERE funcname = 'storemon_compute'};
sub compute_calls
{
	my ($i) = @_;
	return $shards[$i]->safe_psql("shard$i", $calls_sql);
}
my @calls_before = map { compute_calls($_) } 0 .. 2;
is($coord->safe_psql($db, "SELECT string_agg(c::text, ';') FROM storemon_coordinator.storemon_compute(store_ids => ARRAY[$list]) c"),
	$coord->safe_psql('single', "SELECT string_agg(c::text, ';') FROM storemon_compute(store_ids => ARRAY[$list]) c"),
	'storemon_compute(store_ids) on the coordinator equals one node');
# the shards' sessions report their function calls once idle for a second:
# those holding the stores, and two seconds more for any other
$shards[$_]->poll_query_until("shard$_", "SELECT ($calls_sql) > $calls_before[$_]") for sort keys %busy;
sleep 2;
my @asked = grep { compute_calls($_) > $calls_before[$_] } 0 .. 2;
is(join(',', @asked), join(',', sort keys %busy), 'and only the shards holding those stores were asked');

# 4. A down shard fails a report with its name; once it is back, a retry completes.
$shards[1]->stop;
my $down = $coord->safe_psql($db, 'SELECT storemon_trigger_report()');
is(wait_status($coord, $db, $down, 'Complete', 'Failed'), 'Failed', 'with shard 1 down the report is Failed');
like($coord->safe_psql($db, "SELECT error FROM storemon.reports WHERE id = '$down'"), qr/\[shard1\]/,
	'and its error names the shard');
my $polls = shard_polls_up();
($ok, $out, $err) = load_coordinator({}, @sample);
ok(!$ok, 'a load while shard 1 is down fails');
like($err, qr/shard 1 .*\n.*no shard was changed/s, 'naming the shard, and no shard was changed');
is(shard_polls_up(), $polls, 'the shards that were up are unchanged');
$shards[1]->start;
my $retry = $coord->safe_psql($db, 'SELECT storemon_trigger_report()');
is(wait_status($coord, $db, $retry, 'Complete', 'Failed'), 'Complete', 'after shard 1 is back a retry completes');

# 4b. A shard restarts between two reports: the connection the coordinator's
#     worker holds to it is gone, and the next report completes anyway
#     (a lost connection is retried once).
my $worker = $coord->safe_psql('postgres',
	"SELECT pid FROM pg_stat_activity WHERE backend_type = 'storemon worker' AND datname = '$db'");
ok($worker, 'the worker that computed it is still there');
$shards[0]->restart;
my $offset = -s $coord->logfile;
my $after_restart = $coord->safe_psql($db, 'SELECT storemon_trigger_report()');
is(wait_status($coord, $db, $after_restart, 'Complete', 'Failed'), 'Complete',
	'the report after shard 0 restarted completes');
is($coord->safe_psql('postgres', "SELECT pid FROM pg_stat_activity WHERE backend_type = 'storemon worker' AND datname = '$db'"),
	$worker, 'computed by the worker whose connection the restart cut');
ok($coord->log_contains(qr/computing the report again: a connection of storemon_coordinator was lost .*\[shard0\] REMOTE FATAL/, $offset),
	'after one retry');

# 4c. A reporting role that is not superuser, with the README's grants on the coordinator.
$coord->safe_psql($db, q{
	CREATE ROLE reporting LOGIN;
	GRANT SELECT ON storemon.store_status, storemon.menu_hours, storemon.timezones TO reporting;
	GRANT INSERT (requested_as_of, interpolation), SELECT (id) ON storemon.reports TO reporting;
	GRANT USAGE ON SEQUENCE storemon.reports_seq TO reporting;
	GRANT SELECT ON storemon.reports, storemon.report_rows TO reporting;
	GRANT USAGE ON SCHEMA storemon_coordinator TO reporting;
	GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA storemon_coordinator TO reporting;
	CREATE USER MAPPING FOR reporting SERVER storemon_shards OPTIONS (user 'storemon_proxy');});
# Each shard as the README sets it up: the role the coordinator connects as reads the feed.
$shards[$_]->safe_psql("shard$_", q{CREATE ROLE storemon_proxy LOGIN;
	GRANT SELECT ON storemon.store_status, storemon.menu_hours, storemon.timezones TO storemon_proxy}) for 0 .. 2;
my $no_server = $coord->safe_psql($db, 'SET ROLE reporting; SELECT storemon_trigger_report()');
is(wait_status($coord, $db, $no_server, 'Complete', 'Failed'), 'Failed',
	'without USAGE on the foreign server, a reporting role\'s report fails ...');
like($coord->safe_psql($db, "SELECT error FROM storemon.reports WHERE id = '$no_server'"),
	qr/permission denied for foreign server storemon_shards/, '... saying so');
$coord->safe_psql($db, 'GRANT USAGE ON FOREIGN SERVER storemon_shards TO reporting');
my $granted = $coord->safe_psql($db, 'SET ROLE reporting; SELECT storemon_trigger_report()');
is(wait_status($coord, $db, $granted, 'Complete', 'Failed'), 'Complete', 'with it, the report completes');
is($coord->safe_psql($db, "SET ROLE reporting; SELECT count(*) FROM storemon_coordinator.storemon_compute()"),
	$coord->safe_psql($db, "SELECT stores_total FROM storemon.reports WHERE id = '$granted'"),
	'and the role computes directly too');

# 4d. A shard's owner shadows the type names PL/Proxy sends ($1::text) with a
#     domain that records every use, and puts its schema first: the
#     coordinator's calls, pinned to an empty search_path, never meet it.
#     Without the pin the coordinator refuses the shard.
$shards[2]->safe_psql('postgres', 'CREATE ROLE shardowner LOGIN; ALTER DATABASE shard2 OWNER TO shardowner');
$shards[2]->safe_psql('shard2', q{SET ROLE shardowner;
	CREATE TABLE public.trapped (who name, at timestamptz DEFAULT now());
	CREATE FUNCTION public.trap(pg_catalog.text) RETURNS boolean LANGUAGE sql
		AS 'INSERT INTO public.trapped (who) VALUES (current_user) RETURNING true';
	CREATE DOMAIN public.text AS pg_catalog.text CHECK (public.trap(VALUE));
	CREATE DOMAIN public.timestamptz AS pg_catalog.timestamptz CHECK (public.trap(VALUE::pg_catalog.text));
	ALTER DATABASE shard2 SET search_path = public, pg_catalog;});
my $pinned = $coord->safe_psql($db, 'SELECT storemon_trigger_report()');
is(wait_status($coord, $db, $pinned, 'Complete', 'Failed'), 'Complete', 'a report with a hostile shard owner completes');
is($shards[2]->safe_psql('shard2', 'SELECT count(*) FROM public.trapped'), '0', 'and ran none of its look-alikes');
$shards[2]->safe_psql('shard2', q{SET search_path = public, pg_catalog; SELECT 'x'::text});
is($shards[2]->safe_psql('shard2', 'SELECT count(*) FROM public.trapped'), '1', 'control: the look-alike is live unqualified');
$shards[2]->safe_psql('shard2', 'TRUNCATE public.trapped');
my $p2 = $coord->safe_psql($db, q{SELECT option_value FROM pg_foreign_server s, pg_options_to_table(s.srvoptions)
	WHERE srvname = 'storemon_shards' AND option_name = 'p2'});
(my $unpinned = $p2) =~ s/ options=-csearch_path=//;
$coord->safe_psql($db, "ALTER SERVER storemon_shards OPTIONS (SET p2 '$unpinned')");
my $refused = $coord->safe_psql($db, 'SELECT storemon_trigger_report()');
is(wait_status($coord, $db, $refused, 'Complete', 'Failed'), 'Failed', 'a shard whose connection string does not pin search_path ...');
like($coord->safe_psql($db, "SELECT error FROM storemon.reports WHERE id = '$refused'"),
	qr/connection string of shard\(s\) p2 does not pin search_path/, '... fails the report, naming it');
my ($rc, $out2, $err2) = $coord->psql($db, q{SELECT count(*) FROM storemon_coordinator.storemon_compute()});
like($err2, qr/does not pin search_path/, 'and computing directly too');
is($shards[2]->safe_psql('shard2', 'SELECT count(*) FROM public.trapped'), '0', 'before any call reaches the shard');
$coord->safe_psql($db, "ALTER SERVER storemon_shards OPTIONS (SET p2 '$p2')");
$shards[2]->safe_psql('shard2', 'ALTER DATABASE shard2 RESET search_path');
sub shard_polls_up { join(',', map { $shards[$_]->safe_psql("shard$_", 'SELECT count(*) FROM storemon.store_status') } 0, 2) }

# 5. A bad row bound for one shard leaves every shard as it was.
my $bad = $PostgreSQL::Test::Utils::tmp_check . '/bad_status.csv';
my @lines = split /\n/, slurp_file('data/store_status.csv');
$lines[-1] =~ s/active|inactive/broken/;
PostgreSQL::Test::Utils::append_to_file($bad, join("\n", @lines) . "\n");
my $before = shard_polls();
($ok, $out, $err) = load_coordinator({}, '--status', $bad);
ok(!$ok, 'a file with a bad last row fails');
like($err, qr/bad_status\.csv: line ${\ scalar(@lines)}: status 'broken' is neither active nor inactive/,
	'naming the file, the line and the value, as on one node');
is(shard_polls(), $before, 'and no shard has any of its rows');

# 6. Loaded cut off between the shards' commits, by faults of the servers
#    (no hook in the loader): shard 0's commit waits for a synchronous
#    standby that is not there, and while it waits shard 1's session is
#    terminated; then shard 0's commit is let go.  The loader says which
#    shards to finish; running it again for those completes the load.
$shards[0]->safe_psql('postgres', q{ALTER SYSTEM SET synchronous_standby_names = 'nobody'; SELECT pg_reload_conf()});
my ($cut_out, $cut_err) = ('', '');
my $cut = do
{
	local %ENV = (%ENV, PGAPPNAME => 'storemon-cut');
	IPC::Run::start(['./storemon-load', '--status', 'data/store_status.csv', '--', '-h', $coord->host, '-p', $coord->port,
			'-d', $db], '>', \$cut_out, '2>', \$cut_err, IPC::Run::timeout(120));
};
ok($shards[0]->poll_query_until('postgres', q{SELECT count(*) = 1 FROM pg_stat_activity
	WHERE application_name = 'storemon-cut' AND wait_event = 'SyncRep'}), 'shard 0 commits, and waits');
is($shards[1]->safe_psql('postgres', q{SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
	WHERE application_name = 'storemon-cut'}), '1', 'shard 1 loses the loader\'s session before its commit');
$shards[0]->safe_psql('postgres', q{ALTER SYSTEM RESET synchronous_standby_names; SELECT pg_reload_conf()});
$ok = eval { $cut->finish };
ok(!$ok, 'a load cut off after shard 0 committed');
like($cut_err, qr/the load was committed on shard\(s\) 0 but not on 1 2; to finish it, run the same command again with --shards 1,2/,
	'and the loader names the shards to finish') or diag($cut_err);
my @after = split /,/, shard_polls();
my @prev = split /,/, $before;
ok($after[0] > $prev[0] && $after[1] == $prev[1] && $after[2] == $prev[2], 'shard 0 has the new polls, 1 and 2 not');
($ok, $out, $err) = load_coordinator({}, '--status', 'data/store_status.csv', '--shards', '1,2');
ok($ok, 'the same load with --shards 1,2 finishes it') or diag($err);
IPC::Run::run(['./storemon-load', '--status', 'data/store_status.csv', '--', '-h', $coord->host, '-p', $coord->port, '-d', 'single']);
my $id = $coord->safe_psql($db, 'SELECT storemon_trigger_report()');
is(wait_status($coord, $db, $id, 'Complete', 'Failed'), 'Complete', 'the sharded report completes');
is($coord->safe_psql($db, "SELECT storemon_report_csv('$id')"),
	csv_of_single('nearest', $coord->safe_psql($db, "SELECT as_of FROM storemon.reports WHERE id = '$id'")),
	'and equals one node loaded twice alike');

# 7. A header written loosely (case, tabs, spaces, quotes) is read as the server
#    reads it, so its rows are routed by their store ids too.
my $loose = $PostgreSQL::Test::Utils::tmp_check . '/loose_header.csv';
PostgreSQL::Test::Utils::append_to_file($loose, qq{"\t Store_ID ",status,timestamp_utc\n}
	  . join('', map { "loose$_,active,2023-01-25 12:00:00 UTC\n" } 1 .. 40));
($ok, $out, $err) = load_coordinator({}, '--status', $loose);
ok($ok, 'a file whose header names store_id loosely loads') or diag($err);
my $misplaced = 0;
for my $i (0 .. 2)
{
	$misplaced += $coord->safe_psql($db, "SELECT count(*) FROM unnest(ARRAY["
		  . join(',', map { "'$_'" } split /\n/, $shards[$i]->safe_psql("shard$i",
			q{SELECT store_id FROM storemon.store_status WHERE store_id LIKE 'loose%'}))
		  . "]::text[]) id WHERE storemon_coordinator.shard_of(id) <> $i");
}
is($misplaced, 0, 'and each of its stores is on the shard its hash names');

# 8. pg_cron on the coordinator, as on one node.
my $job = $coord->safe_psql($db, q{SELECT storemon_schedule('sharded', '0 3 * * *')});
my $queued = $coord->safe_psql($db, $coord->safe_psql($db, "SELECT command FROM cron.job WHERE jobid = $job"));
is(wait_status($coord, $db, $queued, 'Complete', 'Failed'), 'Complete', 'the pg_cron job\'s command completes a sharded report');

# 9. storemon_coordinator 1.0 updated to the current version is the same
# extension as a new install, which runs sql/storemon_coordinator.sql.
my ($coordinator_version) = slurp_file('storemon_coordinator.control') =~ /^default_version = '([^']+)'/m;
my $script = $coord->config_data('--sharedir') . "/extension/storemon_coordinator--$coordinator_version.sql";
ok(-f $script && slurp_file($script) eq slurp_file('sql/storemon_coordinator.sql'),
	"a new install runs sql/storemon_coordinator.sql (installed as storemon_coordinator--$coordinator_version.sql)");
# Both in databases of their own: the one above has the grants of 4c.
for my $new ([ 'coord10', q{VERSION '1.0'; ALTER EXTENSION storemon_coordinator UPDATE} ], [ 'coordnew', '' ])
{
	$coord->safe_psql('postgres', "CREATE DATABASE $new->[0]");
	$coord->safe_psql($new->[0], q{CREATE EXTENSION storemon; CREATE SCHEMA plproxy; CREATE EXTENSION plproxy SCHEMA plproxy;
		CREATE EXTENSION storemon_coordinator } . $new->[1]);
}
same_extension($coord, 'coord10', 'coordnew', 'storemon_coordinator',
	"storemon_coordinator 1.0 updated to $coordinator_version, as a new install");

$_->stop for @shards, $coord;
done_testing();
