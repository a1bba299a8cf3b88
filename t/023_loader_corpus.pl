# Both load paths accept and refuse exactly the same bytes.  Each record of
# a corpus of odd bytes (NUL, invalid UTF-8, CR and LF alone and in quotes,
# a BOM, quotes, long and empty fields, separators too many or too few,
# tabs and spaces, control characters, timestamps and times at their edges)
# is loaded twice, as line 3 of a polls or hours file: once after a clean
# line 2, so the direct way takes it when it is clean, and once after a
# line 2 the staged way must take, so it is staged too.  Both loads must
# end alike, with the same messages and the same rows.
use strict;
use warnings;
use lib 't';
use File::Temp qw(tempdir);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use StoremonNode;

my $node = storemon_node('corpus', preload => 'storemon', log_statement => "'all'");
my $dir = tempdir(CLEANUP => 1);
my %session;
for my $db ('direct', 'staged')
{
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, 'CREATE EXTENSION storemon');
	$session{$db} = $node->background_psql($db);
}


my $ts = '2023-01-22 12:00:00 UTC';
my @ids = ('x', 'x y', ' x', 'x ', '   ', '', '""', '"x"', '"x,y"', '"x""y"', 'x"y', '"x"y', "\"x\ny\"",
	"\"x\r\ny\"", "\"x\ry\"", "x\ry", "x\ty", "\tx", "x\x00y", "x\xffy", "x\xc3", "x\xc3\xa9", "\xef\xbb\xbfx",
	"\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc0\xaf", "\xe2\x82\xac", "x\x01", "x\x1b", "x\x7f", 'a' x 1024,
	'a' x 1025, "\xc3\xa9" x 512, "\xc3\xa9" x 513, 'a' x 70000, 'a' x (1 << 20), '\\N', 'NULL', '\\.', 'x\\y',
	'"x\\"', "x;y", "x'y");
my @statuses = ('active', 'inactive', 'ACTIVE', ' active', 'active ', 'act ive', '', '""', '"active"',
	"active\t", "\tactive", "inactive\x00", "activ\xc3\xa9", 'Inactive', 'inactive,');
my @stamps = ($ts, '2023-01-22T12:00:00Z', '1000-01-01 00:00:00', '0999-12-31 23:59:59',
	'9999-12-31 23:59:59.999999', '10000-01-01', '2024-02-29 00:00', '2023-02-29 00:00',
	'2023-01-22 24:00:00', '2023-01-22 23:59:60', '2023-01-22 12:00+15', '2023-01-22 12:00+16',
	'2023-01-22 12:00-15:59', '2023-01-22 12:00+05:60', '2023-01-22 12:00 +530', '2023-01-22+05', 'now',
	'2023-01-22 12:00:00.1234567', ' 2023-01-22 ', "\t2023-01-22\t", '"2023-01-22 12:00"', "2023-01-22\x0b",
	'2023-01-22 12:00 utc', '2023-01-22 12:00 UTC ', '', '""', 'infinity', '2023-01-22 12:00:00.',
	'1999-12-31 23:59:59.999999 GMT', '2023-01-22 1:02', '2023-01-22 12:00 Z', '2023-01-22 12:00 PST',
	'2023-1-22', "2023-01-22 12:00\r");
my @status_corpus = (
	(map { "$_,active,$ts\n" } @ids),
	(map { "s1,$_,$ts\n" } @statuses),
	(map { "s2,active,$_\n" } @stamps),
	"s3,active,$ts,\n", "s3,active\n", "   \n", "s3,active,$ts\r\n", "s3,active,$ts\r", "\"s3,active,$ts\n",
	"\n\ns3,active,$ts\n", "s3,\"active\",\"$ts\"\n", "\xef\xbb\xbfs3,active,$ts\n", "s3,active,$ts\n\\.\n",
	"s3\x00,active,$ts\n", 's3,active,' . ('1' x 80) . "\n");
my @days = ('0', '6', '7', '-1', ' 1', '1 ', '01', '1.0', '', '""', '"1"', "\t1", "1\x00");
my @times = ('09:00', '9:00', '09:00:00', '09:00:00.123456', '09:00:00.1234567', '24:00:00', '24:00:01',
	'25:00', '23:59:60', '00:00', '9', '09:00 ', ' 09:00', '12:60', '"09:00"', '', 'allballs', '09:00:00+01',
	"09:00\t", '0:00:00.5');
my @hours_corpus = (
	(map { "$_,1,09:00,17:00\n" } grep { length($_) < 2000 } @ids),
	(map { "h1,$_,09:00,17:00\n" } @days),
	(map { "h2,1,$_,17:00\n" } @times),
	(map { "h3,1,09:00,$_\n" } @times),
	"h4,1,09:00,17:00,\n", "h4,1,09:00\n", "h4,1,09:00,17:00\r\n");

my %feed = (
	status => { header => "store_id,status,timestamp_utc\n", direct => "s0,active,$ts\n",
		staged => "s0, active,$ts\n", corpus => \@status_corpus, table => 'store_status',
		rows => q{SELECT count(*) || ' ' || coalesce(md5(string_agg(format('%s|%s|%s', store_id, timestamp_utc, status), ';' ORDER BY store_id, timestamp_utc, status)), '') FROM storemon.store_status} },
	hours => { header => "store_id,day,start_time_local,end_time_local\n", direct => "s0,1,09:00:00,17:00:00\n",
		staged => "s0, 1,09:00:00,17:00:00\n", corpus => \@hours_corpus, table => 'menu_hours',
		rows => q{SELECT count(*) || ' ' || coalesce(md5(string_agg(format('%s|%s|%s|%s', store_id, day_of_week, start_time_local, end_time_local), ';' ORDER BY store_id, day_of_week, start_time_local, end_time_local)), '') FROM storemon.menu_hours} });

sub load
{
	my ($db, $feed, $path) = @_;
	my ($out, $err);
	my $ok = IPC::Run::run(['./storemon-load', "--$feed", $path, '--no-vacuum', '--', '-h', $node->host,
			'-p', $node->port, '-d', $db], '>', \$out, '2>', \$err);
	$err =~ s/\Q$path\E/FILE/g;
	return (($ok ? 'loaded' : 'refused') . "\n$out$err");
}

my (%differ, %tally);
for my $f ('status', 'hours')
{
	my $spec = $feed{$f};
	my $i = 0;
	for my $entry (@{ $spec->{corpus} })
	{
		my %result;
		$i++;
		for my $way ('direct', 'staged')
		{
			$session{$way}->query_safe("TRUNCATE storemon.$spec->{table}");
			my $path = "$dir/$f-$way-$i.csv";
			append_to_file($path, $spec->{header} . $spec->{$way} . $entry);
			my $log_from = -s $node->logfile;
			$result{$way} = load($way, $f, $path);
			$result{$way} .= 'rows: ' . $session{$way}->query_safe($spec->{rows});
			if ($way eq 'direct')
			{
				my $log = substr(slurp_file($node->logfile), $log_from);
				my $took = $log =~ /storemon_stage_/ ? 'staged' : $result{$way} =~ /^loaded/ ? 'direct' : 'none';
				$tally{$f}{$took}++;
				$tally{$f}{ $result{$way} =~ /^loaded/ ? 'accepted' : 'refused' }++;
			}
		}
		if ($result{direct} ne $result{staged})
		{
			(my $shown = $entry) =~ s/([^\x20-\x7e])/sprintf('\\x%02X', ord($1))/ge;
			$differ{$f} .= substr($shown, 0, 100) . ":\n  direct: $result{direct}\n  staged: $result{staged}\n";
		}
	}
	my $n = scalar @{ $spec->{corpus} };
	is($differ{$f} // '', '', "$f: the $n records of the corpus end alike both ways: accepted or refused, same messages, same rows");
	note("$f: $tally{$f}{accepted} accepted, $tally{$f}{refused} refused; after a clean line, $tally{$f}{direct} stayed on the direct way");
	cmp_ok($tally{$f}{direct}, '>=', 15, "$f: and the direct way took many of them");
	cmp_ok($tally{$f}{accepted}, '>=', 15, "$f: many are accepted");
	cmp_ok($tally{$f}{refused}, '>=', 15, "$f: many are refused");
}
$_->quit for values %session;
$node->stop;
done_testing();
