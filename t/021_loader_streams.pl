# The loader reads each input once, as a stream: pipes, /dev/stdin, FIFOs,
# process substitution and a pipe that delivers in pieces load every row,
# the same rows as the files do, on one node and through a coordinator.
# No record is read past the bound (1 MiB): /dev/zero and a 300 MB id stop
# with the bound's message, within a small address space, and change
# nothing.
use strict;
use warnings;
use lib 't';
use File::Temp qw(tempdir);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use StoremonNode;

my $node = storemon_node('streams', preload => 'storemon');
my $dir = tempdir(CLEANUP => 1);
my %file = (status => 'data/store_status.csv', hours => 'data/menu_hours.csv', zones => 'data/timezones.csv');
my $conn = '-- -h ' . $node->host . ' -p ' . $node->port . ' -d';

sub make_db
{
	my ($db) = @_;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, 'CREATE EXTENSION storemon');
}

# Run a shell command line (bash: process substitution), within 60 s.
sub sh
{
	my ($cmd) = @_;
	my ($out, $err);
	my $ok = eval {
		IPC::Run::run([ 'bash', '-c', $cmd ], '>', \$out, '2>', \$err, IPC::Run::timeout(60));
	};
	$err .= $@ if $@;
	return ($ok, $out // '', $err // '');
}

# Every row of the three tables, in order: what two loads are compared by.
my $rows_sql = q{SELECT (SELECT count(*) FROM storemon.store_status) || ' polls, '
	|| (SELECT count(*) FROM storemon.menu_hours) || ' hours, ' || (SELECT count(*) FROM storemon.timezones) || ' zones, '
	|| md5((SELECT string_agg(format('%s|%s|%s', store_id, timestamp_utc, status), ';' ORDER BY store_id, timestamp_utc, status) FROM storemon.store_status)
	    || (SELECT string_agg(format('%s|%s|%s|%s', store_id, day_of_week, start_time_local, end_time_local), ';' ORDER BY 1) FROM storemon.menu_hours)
	    || (SELECT string_agg(format('%s|%s', store_id, timezone_str), ';' ORDER BY 1) FROM storemon.timezones))};
sub rows_of { my ($db) = @_; return $node->safe_psql($db, $rows_sql); }

# The reference: the three files as files.
make_db('ref');
my ($ok, $out, $err) = sh("./storemon-load --status $file{status} --hours $file{hours} --zones $file{zones} $conn ref");
ok($ok, 'the files load') or diag($err);
my $want = rows_of('ref');
like($want, qr/^33527 polls, 1442 hours, 244 zones/, 'every row of the sample');

# A writer that delivers a file in pieces, cut inside records, with pauses.
append_to_file("$dir/slowcat", q{#!/usr/bin/perl
$| = 1; local $/; my $all = <STDIN>; my $n = int(length($all) / 5) + 7;
for (my $i = 0; $i < length($all); $i += $n) { print substr($all, $i, $n); select(undef, undef, undef, 0.1); }
});
chmod 0755, "$dir/slowcat";

my @fifos = map { "$dir/$_.fifo" } qw(status hours zones);
system('mkfifo', @fifos) == 0 or die 'mkfifo';
my %ways = (
	'process substitution' => "./storemon-load --status <(cat $file{status}) --hours <(cat $file{hours}) --zones <(cat $file{zones}) $conn DB",
	'/dev/stdin, polls from a pipe' => "cat $file{status} | ./storemon-load --status /dev/stdin --hours $file{hours} --zones $file{zones} $conn DB",
	'/dev/stdin, hours from a pipe' => "cat $file{hours} | ./storemon-load --status $file{status} --hours /dev/stdin --zones $file{zones} $conn DB",
	'/dev/stdin, zones from a pipe' => "cat $file{zones} | ./storemon-load --status $file{status} --hours $file{hours} --zones /dev/stdin $conn DB",
	'FIFOs' => "(cat $file{status} > $fifos[0] & cat $file{hours} > $fifos[1] & cat $file{zones} > $fifos[2] &"
	  . " ./storemon-load --status $fifos[0] --hours $fifos[1] --zones $fifos[2] $conn DB; rc=\$?; wait; exit \$rc)",
	'pipes delivering in pieces' => "./storemon-load --status <($dir/slowcat < $file{status}) --hours <($dir/slowcat < $file{hours})"
	  . " --zones <($dir/slowcat < $file{zones}) $conn DB");
my $n = 0;
for my $way (sort keys %ways)
{
	my $db = 'way' . $n++;
	make_db($db);
	($ok, $out, $err) = sh($ways{$way} =~ s/ DB\b/ $db/r);
	ok($ok, "$way: the load succeeds") or diag($err);
	is(rows_of($db), $want, "$way: every row, the same rows as the files");
}

# The staged way from a pipe too: a record to clean at the end of the polls.
append_to_file("$dir/status_tail.csv", slurp_file($file{status}) . "tail, Active ,2023-01-25 12:00:00 UTC\n");
make_db('staged_ref');
make_db('staged_pipe');
sh("./storemon-load --status $dir/status_tail.csv $conn staged_ref");
($ok, $out, $err) = sh("cat $dir/status_tail.csv | ./storemon-load --status /dev/stdin $conn staged_pipe");
like($out, qr/^store_status: 33528 rows appended/m, 'a pipe whose last record is staged loads every row') or diag($err);
is(rows_of('staged_pipe'), rows_of('staged_ref'), 'the same rows as the file');

# Through a coordinator with two shards, each file from a pipe.
make_db("sh$_") for 0, 1;
make_db('coord');
$node->safe_psql('coord', q{CREATE SCHEMA plproxy; CREATE EXTENSION plproxy SCHEMA plproxy; CREATE EXTENSION storemon_coordinator;}
	  . 'CREATE SERVER storemon_shards FOREIGN DATA WRAPPER plproxy OPTIONS (modular_mapping \'1\', '
	  . join(', ', map { "p$_ 'dbname=sh$_ host=" . $node->host . ' port=' . $node->port . "'" } 0, 1) . ');'
	  . 'CREATE USER MAPPING FOR PUBLIC SERVER storemon_shards;');
($ok, $out, $err) = sh("./storemon-load --status <(cat $file{status}) --hours <(cat $file{hours}) --zones <(cat $file{zones}) $conn coord");
like($out, qr/loaded into 2 of 2 shards, each committed/, 'a sharded load from pipes commits on both shards') or diag($err);
my @counts = map { $node->safe_psql("sh$_", 'SELECT count(*) FROM storemon.store_status') } 0, 1;
is($counts[0] + $counts[1], 33527, 'and the shards hold every poll');
ok($counts[0] > 0 && $counts[1] > 0, 'split between them');
is($node->safe_psql('sh0', 'SELECT count(*) FROM storemon.menu_hours') + $node->safe_psql('sh1', 'SELECT count(*) FROM storemon.menu_hours'),
	1442, 'and every hours row');

# The bound: no record is read past 1 MiB, and memory stays small (the
# loader runs in 256 MB of address space).
my $limit = 'ulimit -v 262144;';
my $before = rows_of('ref');
for my $feed (qw(status hours zones))
{
	($ok, $out, $err) = sh("$limit ./storemon-load --$feed /dev/zero $conn ref");
	ok(!$ok, "--$feed /dev/zero fails");
	like($err, qr{^storemon-load: /dev/zero: line 1: a record longer than 1048576 bytes, the most the loader reads$}m,
		'with the bound\'s message, at the header') or diag($err);
}
my $header = 'store_id,status,timestamp_utc\ns1,active,2023-01-22 12:00:00 UTC\n';
($ok, $out, $err) = sh("$limit ./storemon-load --status <(printf '$header'; head -c 300000000 /dev/zero | tr '\\0' 9;"
	  . " printf ',active,2023-01-22 12:00:00 UTC\\n') $conn ref");
ok(!$ok, 'a 300 MB id fails');
like($err, qr{^storemon-load: /dev/fd/\d+: line 3: a record longer than 1048576 bytes, the most the loader reads$}m,
	'with the bound\'s message, naming its line') or diag($err);
# Exactly at the bound a record is read, and the id check names it.
my $fill = 1048576 - length(',active,2023-01-22 12:00:00 UTC');
($ok, $out, $err) = sh("./storemon-load --status <(printf '$header'; head -c $fill /dev/zero | tr '\\0' 9;"
	  . " printf ',active,2023-01-22 12:00:00 UTC\\n') $conn ref");
like($err, qr/line 3: store_id '9{60}'\.\.\. \($fill characters\) is longer than 1024 bytes/,
	'a record of exactly 1 MiB is read: its id is refused by the id check') or diag($err);
$fill++;
($ok, $out, $err) = sh("./storemon-load --status <(printf '$header'; head -c $fill /dev/zero | tr '\\0' 9;"
	  . " printf ',active,2023-01-22 12:00:00 UTC\\n') $conn ref");
like($err, qr/line 3: a record longer than 1048576 bytes/, 'one byte more is past the bound') or diag($err);
# A quoted field never closed stops at the bound too, not at the end of a huge input.
($ok, $out, $err) = sh("$limit ./storemon-load --zones <(printf 'store_id,timezone_str\\n\"'; yes 'a,b' | head -c 5000000) $conn ref");
like($err, qr/line 2: a record longer than 1048576 bytes/, 'an unclosed quote in a 5 MB input stops at the bound') or diag($err);
is(rows_of('ref'), $before, 'none of it changed anything');

$node->stop;
done_testing();
