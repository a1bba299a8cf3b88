# The loader against hostile input: file names that would be commands in a
# generated psql script, paths with every awkward character, and content
# that must not reach SQL.  Nothing runs, everything loads or is refused
# with the file named, and a refused load changes nothing.
use strict;
use warnings;
use lib 't';
use File::Temp qw(tempdir);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use StoremonNode;

my $node = storemon_node('loader', preload => 'storemon');
$node->safe_psql('postgres', 'CREATE DATABASE feeds');
$node->safe_psql('feeds', 'CREATE EXTENSION storemon');
my $dir = tempdir(CLEANUP => 1);
my $canary = "pwned_by_loader"; # a command that ran would leave it in the working directory
unlink $canary;

sub load
{
	my (@args) = @_;
	my ($out, $err);
	my $ok = IPC::Run::run(['./storemon-load', @args, '--', '-h', $node->host, '-p', $node->port, '-d', 'feeds'],
		'>', \$out, '2>', \$err);
	return ($ok, $out, $err);
}

sub write_file
{
	my ($path, $text) = @_;
	open my $fh, '>', $path or die "$path: $!";
	print $fh $text;
	close $fh;
}

my $zones = "store_id,timezone_str\nz1,Asia/Tokyo\n";
my @names = (
	"with space.csv",
	"quote'single.csv",
	"quote\"double.csv",
	"back\\slash.csv",
	"new\nline.csv",
	"new\n\\! touch $canary\n.csv",
	"semi;colon \$(touch $canary).csv",
	"`touch $canary`.csv",
	"\xc3\xa9t\xc3\xa9 (UTF-8).csv",
	"latin1 \xe9 (not UTF-8).csv");
for my $name (@names)
{
	my $path = "$dir/$name";
	write_file($path, $zones);
	my ($ok, $out, $err) = load('--zones', $path);
	(my $shown = $name) =~ s/([\n\x80-\xff])/sprintf('\\x%02X', ord($1))/ge;
	ok($ok, "a file named \"$shown\" loads") or diag($err);
}
ok(!-e $canary, 'no file name ran a command');
is($node->safe_psql('feeds', 'SELECT timezone_str FROM storemon.timezones'), 'Asia/Tokyo', 'and the rows landed');

# Content: SQL in a value is data.
write_file("$dir/sql.csv", "store_id,timezone_str\n\"x'); DROP TABLE storemon.timezones; --\",UTC\n");
my ($ok, $out, $err) = load('--zones', "$dir/sql.csv");
ok($ok, 'a value holding SQL loads as a value') or diag($err);
is($node->safe_psql('feeds', 'SELECT store_id FROM storemon.timezones'),
	"x'); DROP TABLE storemon.timezones; --", 'verbatim');

# A header-only file replaces nothing; a missing file is named.
write_file("$dir/empty.csv", "store_id,timezone_str\n");
($ok, $out, $err) = load('--zones', "$dir/empty.csv");
ok(!$ok, 'a header-only zones file is refused');
like($err, qr/\Q$dir\E\/empty\.csv: the file has no data rows; timezones was left as it is/, 'naming the file');
is($node->safe_psql('feeds', 'SELECT count(*) FROM storemon.timezones'), '1', 'and the zones are kept');
($ok, $out, $err) = load('--zones', "$dir/no such file.csv");
like($err, qr/no such file\.csv: cannot read the file/, 'a missing file is named');

# A bad row after good ones in another file: nothing of either lands.
write_file("$dir/hours.csv", "store_id,day,start_time_local,end_time_local\nz1,0,09:00,17:00\n");
write_file("$dir/status.csv", "store_id,status,timestamp_utc\nz1,active,2023-01-22 12:00:00 UTC\n"
	  . "z1,active,2023-01-22 13:00:00 UTC\nz1,maybe,2023-01-22 14:00:00 UTC\n");
($ok, $out, $err) = load('--hours', "$dir/hours.csv", '--status', "$dir/status.csv");
like($err, qr/status\.csv: line 4: status 'maybe' is neither active nor inactive/, 'a bad status names file, line and value');
is($node->safe_psql('feeds', 'SELECT (SELECT count(*) FROM storemon.menu_hours) + (SELECT count(*) FROM storemon.store_status)'),
	'0', 'and nothing of the load landed');

# Invalid UTF-8 on a line after a multi-line record: the physical line is named.
write_file("$dir/utf8.csv", "store_id,status,timestamp_utc\n\"a\nb\",active,2023-01-22 12:00:00 UTC\nc\xff,active,2023-01-22 12:00:00 UTC\n");
($ok, $out, $err) = load('--status', "$dir/utf8.csv");
like($err, qr/utf8\.csv: line 4: .*invalid byte sequence/, 'a byte the server refuses names its physical line');

# An unterminated quote is named too.
write_file("$dir/quote.csv", "store_id,status,timestamp_utc\n\"a,active,2023-01-22 12:00:00 UTC\n");
($ok, $out, $err) = load('--status', "$dir/quote.csv");
like($err, qr/quote\.csv: line 2: a quoted field is not closed/, 'an unclosed quote names its line');

# After the commit the loaded tables are vacuumed and analyzed, so the first
# report reads the polls from the index alone; a role that may load but not
# vacuum is told so, and its load stands.
write_file("$dir/polls.csv", "store_id,status,timestamp_utc\n"
	  . join('', map { "s$_,active,2023-01-22 12:00:00 UTC\n" } 1 .. 5000));
($ok, $out, $err) = load('--status', "$dir/polls.csv");
ok($ok, 'a load as the tables\' owner') or diag($err);
$node->safe_psql('feeds', 'CREATE EXTENSION pg_visibility');
is($node->safe_psql('feeds', q{SELECT count(*) FROM pg_visibility_map('storemon.store_status') WHERE NOT all_visible}),
	'0', 'leaves every page of the polls all-visible');
cmp_ok($node->safe_psql('feeds', q{SELECT reltuples FROM pg_class WHERE oid = 'storemon.store_status'::regclass}),
	'>=', 5000, 'and the table analyzed');
like($node->safe_psql('feeds', q{SELECT array_to_string(reloptions, ',') FROM pg_class WHERE oid = 'storemon.store_status'::regclass}),
	qr/autovacuum_vacuum_insert_threshold=20000/, 'store_status carries autovacuum settings for an insert-only feed');
$node->safe_psql('feeds', q{CREATE ROLE loader LOGIN; GRANT INSERT ON storemon.store_status TO loader});
$ok = IPC::Run::run(['./storemon-load', '--status', "$dir/polls.csv", '--', '-h', $node->host,
		'-p', $node->port, '-d', 'feeds', '-U', 'loader'], '>', \$out, '2>', \$err);
ok($ok, 'a role with INSERT only loads polls');
like($err, qr/this role does not own the tables, so they were not vacuumed/, 'and is told they were not vacuumed');
is($node->safe_psql('feeds', 'SELECT count(*) FROM storemon.store_status'), '10000', 'its rows are there');

# A load at least as large as store_status, by its owner, rebuilds the
# indexes in bulk; they come back with the same definitions, and a role that
# does not own the table keeps them as they are.
my $defs = q{SELECT string_agg(pg_get_indexdef(indexrelid), '; ' ORDER BY indexrelid::regclass::text)
	FROM pg_index WHERE indrelid = 'storemon.store_status'::regclass};
my $before = $node->safe_psql('feeds', $defs);
write_file("$dir/big.csv", "store_id,status,timestamp_utc\n"
	  . join('', map { "b$_,inactive,2023-01-23 12:00:00 UTC\n" } 1 .. 12000));
$ok = IPC::Run::run(['./storemon-load', '--status', "$dir/big.csv", '--', '-h', $node->host,
		'-p', $node->port, '-d', 'feeds', '-U', 'loader'], '>', \$out, '2>', \$err);
like($out, qr/^store_status: 12000 rows appended$/m, 'a big load by a role that does not own the table keeps the indexes');
($ok, $out, $err) = load('--status', "$dir/big.csv");
like($out, qr/12000 rows appended; indexes rebuilt in bulk/, 'the owner\'s load of as many rows as the table holds rebuilds them');
is($node->safe_psql('feeds', $defs), $before, 'with the same definitions');
is($node->safe_psql('feeds', q{SET enable_seqscan = off; SELECT count(*) FROM storemon.store_status WHERE store_id = 'b77'}),
	'2', 'and the rows of both loads are found through them');

# A clean polls file goes straight into store_status by COPY
# (src/client/direct_status.c); one that needs a trim, a lower-casing or a
# check goes the staged way.  Both must store the same rows: every shape of
# timestamp the feed format allows, parsed by the server in UTC either way.
my @stamps = ('2023-01-22 12:09:39.388884 UTC', '2023-01-22T12:09:39Z', '2023-01-22 12:09 utc',
	'2023-01-22', '2023-01-22 01:02:03.1', '2023-01-22 23:59:59.999999 GMT', '2023-01-22 12:00+05',
	'2023-01-22 12:00:00-0800', '2023-01-22 12:00:00 +05:30', '2024-02-29 00:00:00 UTC',
	' 2023-01-22 12:00:00 UTC', '1999-12-31 23:59:59.5', '2023-03-12 02:30:00');
my $clean = "store_id,timestamp_utc,status\n"
  . join('', map { "\"t,$_\",\"$stamps[$_]\"," . ($_ % 3 ? 'active' : 'inactive') . "\n" } 0 .. $#stamps);
write_file("$dir/clean.csv", $clean);
write_file("$dir/unclean.csv", $clean . "zz,2023-01-22 12:00:00 UTC, Active\n");
$node->safe_psql('feeds', 'TRUNCATE storemon.store_status');
$node->append_conf('postgresql.conf', "log_statement = 'all'");
$node->reload;
my $log_start = -s $node->logfile;
($ok, $out, $err) = load('--status', "$dir/clean.csv");
like($out, qr/^store_status: 13 rows appended$/m, 'a clean file loads') or diag($err);
my $log = substr(slurp_file($node->logfile), $log_start);
ok($log =~ /COPY storemon\.store_status \(store_id, timestamp_utc, status\) FROM STDIN/ && $log !~ /storemon_stage_status/,
	'straight into store_status, not staged');
my $direct = $node->safe_psql('feeds', q{SELECT string_agg(format('%s|%s|%s', store_id, timestamp_utc, status), ';' ORDER BY store_id) FROM storemon.store_status});
$node->safe_psql('feeds', 'TRUNCATE storemon.store_status');
$log_start = -s $node->logfile;
($ok, $out, $err) = load('--status', "$dir/unclean.csv");
like($out, qr/^store_status: 14 rows appended$/m, 'a file with one status to clean loads too') or diag($err);
like(substr(slurp_file($node->logfile), $log_start), qr/ROLLBACK TO SAVEPOINT storemon_direct.*CREATE TEMP TABLE storemon_stage_status/s,
	'the staged way, after the direct COPY stopped at the record to clean');
is($node->safe_psql('feeds', q{SELECT string_agg(format('%s|%s|%s', store_id, timestamp_utc, status), ';' ORDER BY store_id) FROM storemon.store_status WHERE store_id <> 'zz'}),
	$direct, 'and both ways store the same rows, every timestamp shape alike');
is($node->safe_psql('feeds', q{SELECT status FROM storemon.store_status WHERE store_id = 'zz'}), 'active',
	'the staged way cleaned the status');

$node->stop;
done_testing();
