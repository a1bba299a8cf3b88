# Workers share the server with everything else: 24 databases on the
# default max_worker_processes all get their reports, and dropping,
# renaming and copying a database work without FORCE right after a report,
# as does DROP EXTENSION during one.
use strict;
use warnings;
use lib 't';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use StoremonNode;

# Defaults for max_worker_processes (8) and the idle timeout (10 s).
my $node = storemon_node('databases');
is($node->safe_psql('postgres', 'SHOW max_worker_processes'), '8', 'max_worker_processes is the default 8');

# 1. 24 databases, one report each, all at once.
my @dbs = map { sprintf('db%02d', $_) } 1 .. 24;
for my $db (@dbs)
{
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, q{CREATE EXTENSION storemon;
		INSERT INTO storemon.timezones VALUES ('s1', 'America/New_York');
		INSERT INTO storemon.menu_hours VALUES ('s1', 0, '09:00', '12:00');
		INSERT INTO storemon.store_status VALUES ('s1', '2023-01-23 15:14:00+00', 'active'),
		                                         ('s1', '2023-01-23 16:15:00+00', 'inactive');});
}
my $offset = -s $node->logfile;
my $t0 = time;
my %ids;
my $warnings = 0;
for my $db (@dbs)
{
	my ($rc, $out, $err) = $node->psql($db, 'SELECT storemon.storemon_trigger_report()');
	$ids{$db} = $out;
	$warnings++ if $err =~ /WARNING/;
}
is($warnings, 0, 'triggering in 24 databases sends clients no warning');
my $complete = 0;
for my $db (@dbs)
{
	$complete++ if wait_status($node, $db, $ids{$db}, 'Complete', 'Failed') eq 'Complete';
}
my $took = time - $t0;
is($complete, 24, sprintf('all 24 reports complete (in %.1f s)', $took));
# 5 slots are free for 24 databases; idle workers yield theirs to a waiting
# database instead of holding it for their 10 s idle timeout (>= 40 s).
cmp_ok($took, '<', 20, 'no report waited for an idle worker\'s timeout');
is($node->safe_psql('db24', "SELECT downtime_last_hour FROM storemon.storemon_get_report('$ids{db24}')"),
	'30.50', 'with the figures of the worked example as of its last poll');

# 2. Right after a report: rename, copy and drop work without FORCE.
my $id = $node->safe_psql('db01', 'SELECT storemon.storemon_trigger_report()');
is(wait_status($node, 'db01', $id, 'Complete'), 'Complete', 'db01 has just computed a report');
ok($node->safe_psql('postgres', q{SELECT count(*) FROM pg_stat_activity WHERE datname = 'db01'}) >= 0,
	'its worker may still be there');
my ($rc, $out, $err) = $node->psql('postgres', 'ALTER DATABASE db01 RENAME TO db01_renamed');
is($rc, 0, 'ALTER DATABASE ... RENAME right after a report') or diag($err);
$id = $node->safe_psql('db01_renamed', 'SELECT storemon.storemon_trigger_report()');
is(wait_status($node, 'db01_renamed', $id, 'Complete'), 'Complete', 'the renamed database computes reports');
($rc, $out, $err) = $node->psql('postgres', 'CREATE DATABASE db01_copy TEMPLATE db01_renamed');
is($rc, 0, 'CREATE DATABASE ... TEMPLATE right after a report') or diag($err);
is($node->safe_psql('db01_copy', q{SELECT count(*) FROM storemon.reports WHERE status = 'Complete'}), '3',
	'the copy holds the reports');
$id = $node->safe_psql('db02', 'SELECT storemon.storemon_trigger_report()');
is(wait_status($node, 'db02', $id, 'Complete'), 'Complete', 'db02 has just computed a report');
$t0 = time;
($rc, $out, $err) = $node->psql('postgres', 'DROP DATABASE db02');
is($rc, 0, 'DROP DATABASE right after a report') or diag($err);
cmp_ok(time - $t0, '<', 3, 'without waiting for the worker\'s idle timeout');
$id = $node->safe_psql('db03', 'SELECT storemon.storemon_trigger_report()');
($rc, $out, $err) = $node->psql('postgres', 'DROP DATABASE db03');
is($rc, 0, 'DROP DATABASE while a report may be running') or diag($err);

# 3. DROP EXTENSION while a report waits on a lock: no deadlock.
my $locker = $node->background_psql('db04');
$locker->query_safe('BEGIN; LOCK TABLE storemon.menu_hours IN ACCESS EXCLUSIVE MODE');
$id = $node->safe_psql('db04', 'SELECT storemon.storemon_trigger_report()');
is(wait_status($node, 'db04', $id, 'Running'), 'Running', 'a report in db04 is Running (blocked)');
my $dropper = $node->background_psql('db04', on_error_stop => 0);
$dropper->query_until(qr/started/, "\\echo started\nDROP EXTENSION storemon;\n\\echo dropped\n");
$locker->query_safe('COMMIT');
$locker->quit;
$dropper->query_until(qr/dropped/, '');
$dropper->quit;
unlike($dropper->{stderr} // '', qr/deadlock/, 'DROP EXTENSION during a report: no deadlock');
is($node->safe_psql('db04', q{SELECT count(*) FROM pg_extension WHERE extname = 'storemon'}), '0',
	'and the extension is gone');

# 4. Databases without storemon cost nothing after the launcher's first look.
ok($node->poll_query_until('postgres', q{SELECT count(*) = 0 FROM pg_stat_activity
	WHERE backend_type = 'storemon worker' AND datname IN ('postgres', 'db04')}),
	'no worker stays in a database without storemon');

$node->stop;
done_testing();
