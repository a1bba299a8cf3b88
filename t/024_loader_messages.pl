# The loader's messages do not depend on the server's language: under
# lc_messages = 'de_DE.UTF-8' (Debian's locales-all, postgresql-15's own
# translations) every refused load still names its file and its physical
# line, one node and sharded, and a role that may not vacuum is told so.
use strict;
use warnings;
use lib 't';
use File::Temp qw(tempdir);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use StoremonNode;

# The translations ship with the server (postgresql-15); a relocated copy of
# an installation may lack its share/locale.  The locale comes from
# locales-all (make deps).
my $localedir = PostgreSQL::Test::Cluster->new('probe')->config_data('--localedir');
plan skip_all => "this installation has no German translations ($localedir/de/LC_MESSAGES)"
  unless glob("$localedir/de/LC_MESSAGES/postgres-*.mo");
my $node = storemon_node('messages', preload => 'storemon', lc_messages => "'de_DE.UTF-8'");
my $dir = tempdir(CLEANUP => 1);
for my $db ('feeds', 'sh0', 'sh1', 'coord')
{
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, 'CREATE EXTENSION storemon');
}
$node->safe_psql('coord', q{CREATE SCHEMA plproxy; CREATE EXTENSION plproxy SCHEMA plproxy; CREATE EXTENSION storemon_coordinator;}
	  . 'CREATE SERVER storemon_shards FOREIGN DATA WRAPPER plproxy OPTIONS (modular_mapping \'1\', '
	  . join(', ', map { "p$_ 'dbname=sh$_ host=" . $node->host . ' port=' . $node->port . "'" } 0, 1) . ');'
	  . 'CREATE USER MAPPING FOR PUBLIC SERVER storemon_shards;');

# The control: the server speaks German.
my ($rc, $out, $err) = $node->psql('feeds', 'SELECT 1/0');
like($err, qr/Division durch Null/, 'the server\'s messages are in German (lc_messages, its translations)');


sub load
{
	my ($db, @args) = @_;
	my ($o, $e);
	IPC::Run::run(['./storemon-load', @args, '--', '-h', $node->host, '-p', $node->port, '-d', $db],
		'>', \$o, '2>', \$e);
	return $e;
}

my $status = "store_id,status,timestamp_utc\n";
my $hours = "store_id,day,start_time_local,end_time_local\n";
append_to_file("$dir/utf8.csv", "$status\"a\nb\",active,2023-01-22 12:00:00 UTC\nc\xff,active,2023-01-22 12:00:00 UTC\n");
append_to_file("$dir/quote.csv", "$status\"a,active,2023-01-22 12:00:00 UTC\n");
append_to_file("$dir/nul.csv", "${status}a,active,2023-01-22 12:00:00 UTC\nb\x00,active,2023-01-22 12:00:00 UTC\n");
append_to_file("$dir/cr.csv", "${status}a,active,2023-01-22 12:00:00 UTC\nb\rc,active,2023-01-22 12:00:00 UTC\n");
append_to_file("$dir/long.csv", "${status}a,active,2023-01-22 12:00:00 UTC\n" . ('9' x 2000000) . ",active,2023-01-22\n");
append_to_file("$dir/hours_25.csv", "${hours}a,1,09:00,17:00\nb,1,25:00,17:00\n");
append_to_file("$dir/sharded_bad.csv", $status . join('', map { "s$_,active,2023-01-22 12:00:00 UTC\n" } 1 .. 100)
	  . "s7,maybe,2023-01-22 12:00:00 UTC\n");

# Each load that must be refused: [arguments, the line named, or undef].
my @refused = (
	[[ '--status', 'test/loader/bad_fraction.csv' ], 3],
	[[ '--status', 'test/loader/bad_status.csv' ], 3],
	[[ '--status', 'test/loader/bad_status_null.csv' ], 3],
	[[ '--status', 'test/loader/bad_date.csv' ], 2],
	[[ '--status', 'test/loader/bad_timestamp.csv' ], 2],
	[[ '--status', 'test/loader/bad_columns.csv' ], 2],
	[[ '--status', 'test/loader/bad_header.csv' ], 1],
	[[ '--hours', 'test/loader/bad_day.csv' ], 3],
	[[ '--hours', 'test/loader/bad_time.csv' ], 2],
	[[ '--hours', 'test/loader/bad_time_null.csv' ], 2],
	[[ '--zones', 'test/loader/bad_zone_store.csv' ], 2],
	[[ '--status', 'test/loader/bad_long_id.csv' ], 3],
	[[ '--status', 'test/loader/bad_status_after_multiline.csv' ], 4],
	[[ '--hours', 'test/loader/bad_hours_columns.csv' ], 3],
	[[ '--status', "$dir/utf8.csv" ], 4],
	[[ '--status', "$dir/quote.csv" ], 2],
	[[ '--status', "$dir/nul.csv" ], 3],
	[[ '--status', "$dir/cr.csv" ], 3],
	[[ '--status', "$dir/long.csv" ], 3],
	[[ '--hours', "$dir/hours_25.csv" ], 3],
	[[ '--hours', 'test/loader/hours_empty.csv' ], undef],
	[[ '--zones', 'test/loader/zones_empty.csv' ], undef],
	[[ '--status', 'test/loader/no_such_file.csv' ], undef]);
for my $case (@refused)
{
	my ($args, $line) = @$case;
	my $file = $args->[1];
	my $e = load('feeds', @$args);
	my $where = defined $line ? "\Q$file\E: line $line: " : "\Q$file\E: ";
	like($e, qr/$where/, "$file: named" . (defined $line ? " with line $line" : '')) or diag($e);
}
is($node->safe_psql('feeds', 'SELECT (SELECT count(*) FROM storemon.store_status) + (SELECT count(*) FROM storemon.menu_hours)
	+ (SELECT count(*) FROM storemon.timezones)'), '0', 'and none of them loaded anything');

# Sharded: the shard's error names the file and the line too.
my $e = load('coord', '--status', "$dir/sharded_bad.csv");
like($e, qr/\Q$dir\E\/sharded_bad\.csv: line 102: status 'maybe'/, 'through a coordinator too') or diag($e);
like($e, qr/no shard was changed/, 'and says no shard was changed');

# A role that may load but not vacuum is told so, whatever the server's language.
$node->safe_psql('feeds', 'CREATE ROLE loader LOGIN; GRANT INSERT ON storemon.store_status TO loader');
append_to_file("$dir/polls.csv", "${status}p1,active,2023-01-22 12:00:00 UTC\n");
$e = '';
{
	my ($o);
	IPC::Run::run(['./storemon-load', '--status', "$dir/polls.csv", '--', '-h', $node->host, '-p', $node->port,
			'-d', 'feeds', '-U', 'loader'], '>', \$o, '2>', \$e);
}
like($e, qr/this role does not own the tables, so they were not vacuumed/, 'a role that may not vacuum is told so');
unlike($e, qr/WARNUNG|WARNING/, 'and the server is not asked to (no warning)');

$node->stop;
done_testing();
