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

# Pages of $table holding rows that the visibility map does not mark
# $marks: from PostgreSQL 16 on a bulk load extends the table by several
# pages at once, and the empty ones at its end stay unmarked.
sub unmarked_pages
{
	my ($table, $marks) = @_;
	return $node->safe_psql('feeds', qq{SELECT count(*) FROM pg_visibility_map('$table') WHERE NOT ($marks)
		AND blkno IN (SELECT DISTINCT (ctid::text::point)[0]::bigint FROM $table)});
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
is(unmarked_pages('storemon.store_status', 'all_visible'), '0', 'leaves every page of the polls all-visible');
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
# indexes in bulk; they come back with the same definitions and comments
# (bulk_rebuild_indexes holds a copy of both), and a role that does not own
# the table keeps them as they are.
my $defs = q{SELECT string_agg(pg_get_indexdef(indexrelid) || ' : ' || coalesce(obj_description(indexrelid, 'pg_class'), '-'),
	'; ' ORDER BY indexrelid::regclass::text) FROM pg_index WHERE indrelid = 'storemon.store_status'::regclass};
my $before = $node->safe_psql('feeds', $defs);
write_file("$dir/big.csv", "store_id,status,timestamp_utc\n"
	  . join('', map { "b$_,inactive,2023-01-23 12:00:00 UTC\n" } 1 .. 12000));
$ok = IPC::Run::run(['./storemon-load', '--status', "$dir/big.csv", '--', '-h', $node->host,
		'-p', $node->port, '-d', 'feeds', '-U', 'loader'], '>', \$out, '2>', \$err);
like($out, qr/^store_status: 12000 rows appended$/m, 'a big load by a role that does not own the table keeps the indexes');
($ok, $out, $err) = load('--status', "$dir/big.csv");
like($out, qr/12000 rows appended; indexes rebuilt in bulk/, 'the owner\'s load of as many rows as the table holds rebuilds them');
is($node->safe_psql('feeds', $defs), $before, 'with the same definitions and comments');
is($node->safe_psql('feeds', q{SET enable_seqscan = off; SELECT count(*) FROM storemon.store_status WHERE store_id = 'b77'}),
	'2', 'and the rows of both loads are found through them');

# A clean polls file goes straight into store_status by COPY
# (src/client/direct_status.c): in binary, its timestamps (offsets too)
# converted by the loader; from a record that needs a trim, a
# lower-casing or a check on, the staged way, the records before it kept
# where the COPY put them (nothing is read twice).  All must store the
# same rows: every shape of timestamp the feed format allows, parsed by the
# server in UTC.
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
ok($log =~ /COPY storemon\.store_status \(store_id, timestamp_utc, status\) FROM STDIN \(FORMAT binary, FREEZE\)/
	  && $log !~ /FORMAT csv|storemon_stage_status|ROLLBACK/,
	'straight into store_status in one binary COPY, the offsets converted too, not staged');
my $direct = $node->safe_psql('feeds', q{SELECT string_agg(format('%s|%s|%s', store_id, timestamp_utc, status), ';' ORDER BY store_id) FROM storemon.store_status});
$node->safe_psql('feeds', 'TRUNCATE storemon.store_status');
$log_start = -s $node->logfile;
($ok, $out, $err) = load('--status', "$dir/unclean.csv");
like($out, qr/^store_status: 14 rows appended$/m, 'a file with one status to clean loads too') or diag($err);
$log = substr(slurp_file($node->logfile), $log_start);
ok($log =~ /FORMAT binary, FREEZE\).*CREATE TEMP TABLE pg_temp\.storemon_stage_status/s && $log !~ /ROLLBACK/,
	'the staged way from the record to clean on, the direct COPY keeping the records before it');
is($node->safe_psql('feeds', q{SELECT string_agg(format('%s|%s|%s', store_id, timestamp_utc, status), ';' ORDER BY store_id) FROM storemon.store_status WHERE store_id <> 'zz'}),
	$direct, 'and both ways store the same rows, every timestamp shape alike');
is($node->safe_psql('feeds', q{SELECT status FROM storemon.store_status WHERE store_id = 'zz'}), 'active',
	'the staged way cleaned the status');

# The binary COPY's timestamps are the server's own: 3,000 random ones of
# every shape it converts (years 1000-9999, leap days, one-digit hours, 0-6
# fractional digits, UTC/GMT/Z in any case or none, offsets of 1 to 4
# digits with or without a colon up to 15:59) against the server's parse
# of the same text.
srand(20231);
my @random;
for my $i (1 .. 3000)
{
	my $y = 1000 + int(rand(9000));
	my $m = 1 + int(rand(12));
	my $leap = ($y % 4 == 0 && $y % 100 != 0) || $y % 400 == 0;
	my $dim = (31, $leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[$m - 1];
	my $d = $i % 7 == 0 ? $dim : 1 + int(rand($dim));
	my $t = sprintf('%04d-%02d-%02d', $y, $m, $d);
	my $form = $i % 5;
	if ($form > 0)
	{
		$t .= ($i % 2 ? ' ' : 'T') . sprintf($i % 3 ? '%02d:%02d' : '%d:%02d', int(rand(24)), int(rand(60)));
		$t .= sprintf(':%02d', int(rand(60))) if $form > 1;
		$t .= '.' . join('', map { int(rand(10)) } 1 .. 1 + int(rand(6))) if $form > 2;
	}
	if ($form > 0 && $i % 3 == 0)
	{
		my ($h, $mi) = (int(rand(16)), int(rand(60)));
		$t .= ('', ' ')[$i % 2] . ('+', '-')[int(rand(2))]
		  . (sprintf('%d', $h), sprintf('%02d', $h), sprintf('%02d%02d', $h, $mi),
			sprintf('%d:%02d', $h, $mi), sprintf('%02d:%02d', $h, $mi), sprintf('%d%02d', $h, $mi))[int(rand(6))];
	}
	else
	{
		$t .= ('', ' UTC', ' utc', 'Z', 'z', ' GMT', ' ')[$i % 7];
	}
	push @random, $t;
}
write_file("$dir/random.csv", "store_id,status,timestamp_utc\n"
	  . join('', map { "r$_,active,$random[$_]\n" } 0 .. $#random));
$node->safe_psql('feeds', 'TRUNCATE storemon.store_status');
$log_start = -s $node->logfile;
($ok, $out, $err) = load('--status', "$dir/random.csv", '--no-vacuum');
like($out, qr/^store_status: 3000 rows appended$/m, '3,000 random timestamps load') or diag($err);
$log = substr(slurp_file($node->logfile), $log_start);
ok($log =~ /FROM STDIN \(FORMAT binary, FREEZE\)/ && $log !~ /FORMAT csv/, 'in one binary COPY, frozen into the empty table');
my $values = join(',', map { "('r$_', '$random[$_]')" } 0 .. $#random);
is($node->safe_psql('feeds', qq{SET TimeZone = 'UTC'; SELECT count(*) FROM (VALUES $values) v (id, t)
	JOIN storemon.store_status s ON s.store_id = v.id WHERE s.timestamp_utc = v.t::timestamptz}),
	'3000', 'each the value the server gives its text');
is(unmarked_pages('storemon.store_status', 'all_visible AND all_frozen'), '0',
	'and every page all-visible and frozen without a VACUUM');

# FREEZE only into an empty table the role may truncate: a second load
# appends without it (the first rows stay), a role without TRUNCATE loads
# without it, and so does the owner when row security could hide rows.
$log_start = -s $node->logfile;
($ok, $out, $err) = load('--status', "$dir/clean.csv");
$log = substr(slurp_file($node->logfile), $log_start);
ok($ok && $log =~ /FORMAT binary\)/ && $log !~ /FREEZE\)|TRUNCATE ONLY/, 'a load into a table with rows takes no FREEZE and truncates nothing') or diag($err);
is($node->safe_psql('feeds', 'SELECT count(*) FROM storemon.store_status'), '3013', 'and keeps the rows it had');
$node->safe_psql('feeds', 'TRUNCATE storemon.store_status');
$log_start = -s $node->logfile;
$ok = IPC::Run::run(['./storemon-load', '--status', "$dir/random.csv", '--no-vacuum', '--', '-h', $node->host,
		'-p', $node->port, '-d', 'feeds', '-U', 'loader'], '>', \$out, '2>', \$err);
$log = substr(slurp_file($node->logfile), $log_start);
ok($ok && $log =~ /FORMAT binary\)/ && $log !~ /FREEZE\)|TRUNCATE ONLY|ERROR/, 'a role without TRUNCATE loads the empty table without it, and no error is logged') or diag($err);
$node->safe_psql('feeds', 'TRUNCATE storemon.store_status; ALTER TABLE storemon.store_status ENABLE ROW LEVEL SECURITY');
$log_start = -s $node->logfile;
($ok, $out, $err) = load('--status', "$dir/random.csv", '--no-vacuum');
$log = substr(slurp_file($node->logfile), $log_start);
ok($ok && $log !~ /FREEZE\)|TRUNCATE ONLY/, 'nor under row security') or diag($err);
$node->safe_psql('feeds', 'ALTER TABLE storemon.store_status DISABLE ROW LEVEL SECURITY');

# A clean hours file replaces menu_hours with one COPY (src/client/
# direct_hours.c); one with a value to trim or a time the server refuses
# goes the staged way, with its message.  Both store the same rows.
my $hours = "dayOfWeek,store_id,start_time_local,end_time_local\n"
  . join('', map { "$_,\"h,$_\"," . ('09:00', '9:30:00', '00:00:00.5', '23:59:59.999999', '10:00:00', '24:00:00', '0:00')[$_] . ",17:00:00\n" } reverse 0 .. 6);
write_file("$dir/hours_clean.csv", $hours);
$log_start = -s $node->logfile;
($ok, $out, $err) = load('--hours', "$dir/hours_clean.csv");
$log = substr(slurp_file($node->logfile), $log_start);
like($out, qr/^menu_hours: 7 rows replaced$/m, 'a clean hours file loads') or diag($err);
ok($log =~ /COPY storemon\.menu_hours \(store_id, day_of_week, start_time_local, end_time_local\) FROM STDIN/
	  && $log !~ /storemon_stage_hours/, 'straight into menu_hours, not staged');
is(unmarked_pages('storemon.menu_hours', 'all_visible AND all_frozen'), '0', 'frozen into the empty table');
is($node->safe_psql('feeds', q{SELECT array_agg(store_id ORDER BY ctid) = array_agg(store_id ORDER BY store_id) FROM storemon.menu_hours}),
	't', 'in store_id order, whatever the file\'s order');
my $hours_rows = q{SELECT string_agg(format('%s|%s|%s|%s', store_id, day_of_week, start_time_local, end_time_local), ';' ORDER BY store_id) FROM storemon.menu_hours};
my $direct_hours = $node->safe_psql('feeds', $hours_rows);
write_file("$dir/hours_spaced.csv", $hours . " 3 ,\" h,x \",09:00 ,17:00\n");
$log_start = -s $node->logfile;
($ok, $out, $err) = load('--hours', "$dir/hours_spaced.csv");
like($out, qr/^menu_hours: 8 rows replaced$/m, 'an hours file with values to trim loads') or diag($err);
$log = substr(slurp_file($node->logfile), $log_start);
ok($log =~ /CREATE TEMP TABLE pg_temp\.storemon_stage_hours/ && $log !~ /COPY storemon\.menu_hours/,
	'the staged way, the clean records held before it staged too');
is($node->safe_psql('feeds', $hours_rows . q{ WHERE store_id <> 'h,x'}), $direct_hours, 'and both ways store the same rows');
write_file("$dir/hours_bad.csv", $hours . "3,\"h,x\",25:00,17:00\n");
($ok, $out, $err) = load('--hours', "$dir/hours_bad.csv");
like($err, qr/hours_bad\.csv: line 9: start_time_local '25:00' is not a valid time/, 'a time the server refuses is named by the staged way');
is($node->safe_psql('feeds', $hours_rows . q{ WHERE store_id <> 'h,x'}), $direct_hours, 'and the hours are as they were');

$node->stop;
done_testing();
