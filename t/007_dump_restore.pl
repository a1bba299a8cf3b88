# pg_dump and restore of a database using storemon: the extension's own
# schemas come back from CREATE EXTENSION, the feeds, reports and grants
# from the dump, and the restored database computes reports.
use strict;
use warnings;
use lib 't';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use StoremonNode;

my $node = storemon_node('dump', preload => 'storemon');
load_sample($node, 'src');
my $id = $node->safe_psql('src', 'SELECT storemon_trigger_report()');
is(wait_status($node, 'src', $id, 'Complete'), 'Complete', 'the source database has a report');
$node->safe_psql('src', 'CREATE ROLE reporting; GRANT SELECT ON storemon.reports, storemon.report_rows TO reporting');

my $dump = $PostgreSQL::Test::Utils::tmp_check . '/src.sql';
$node->command_ok(['pg_dump', '-d', $node->connstr('src'), '-f', $dump], 'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE dst');
$node->command_ok(['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('dst'), '-f', $dump],
	'the dump restores into a new database');
is($node->safe_psql('dst', 'SELECT count(*) FROM storemon.store_status'),
	$node->safe_psql('src', 'SELECT count(*) FROM storemon.store_status'), 'with every poll');
is($node->safe_psql('dst', "SELECT count(*) FROM storemon.storemon_get_report('$id')"), '250', 'with the report');
is($node->safe_psql('dst', q{SELECT has_table_privilege('reporting', 'storemon.report_rows', 'SELECT')}), 't',
	'with the grants');
my $again = $node->safe_psql('dst', 'SELECT storemon.storemon_trigger_report()');
is(wait_status($node, 'dst', $again, 'Complete'), 'Complete', 'and its worker computes new reports');

# The database's owner, not superuser, dumps it with the README's grants
# (SELECT on storemon's five tables and its sequence); a superuser restores
# (CREATE EXTENSION storemon needs one).
$node->safe_psql('postgres', 'CREATE ROLE dbowner LOGIN; ALTER DATABASE src OWNER TO dbowner');
my $owner_dump = $PostgreSQL::Test::Utils::tmp_check . '/owner.sql';
my ($stdout, $stderr);
IPC::Run::run(['pg_dump', '-d', $node->connstr('src') . ' user=dbowner', '-f', $owner_dump], '>', \$stdout, '2>', \$stderr);
# pg_dump 18 reads the sequences' data first and says so in its own words.
like($stderr, qr/permission denied for (table|sequence) \w+|failed to get data for sequence "\w+"; user may lack SELECT privilege/,
	'without the grants the owner cannot dump the queue or the feed');
$node->safe_psql('src', q{GRANT SELECT ON storemon.store_status, storemon.menu_hours, storemon.timezones,
	storemon.reports, storemon.report_rows, storemon.reports_seq TO dbowner});
$node->command_ok(['pg_dump', '-d', $node->connstr('src') . ' user=dbowner', '-f', $owner_dump],
	'with them, the owner dumps its database');
$node->safe_psql('postgres', 'CREATE DATABASE dst2');
$node->command_ok(['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('dst2'), '-f', $owner_dump],
	'and a superuser restores it');
is($node->safe_psql('dst2', "SELECT count(*) FROM storemon.storemon_get_report('$id')"), '250',
	'with the report');
is($node->safe_psql('dst2', 'SELECT count(*) FROM storemon.store_status'),
	$node->safe_psql('src', 'SELECT count(*) FROM storemon.store_status'), 'and every poll');

$node->stop;
done_testing();
