# Two loads replacing the same table at once (hours or zones, the direct
# way or the staged way) are ordered by a lock: each stays all-or-nothing
# and the table ends as one of the two files, never their union.  A third
# session holds the table's lock while both loaders start, so both are
# waiting when it lets go; then they run as the loader orders them.
use strict;
use warnings;
use lib 't';
use File::Temp qw(tempdir);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use StoremonNode;

my $node = storemon_node('races', preload => 'storemon');
$node->safe_psql('postgres', 'CREATE DATABASE feeds');
$node->safe_psql('feeds', 'CREATE EXTENSION storemon');
my $dir = tempdir(CLEANUP => 1);


# Files of 50 stores each, a* and b*: clean (the direct way) or with a first
# record to trim (so the whole file is staged).
for my $f ('a', 'b')
{
	my @stores = map { "$f$_" } 1 .. 50;
	append_to_file("$dir/hours_${f}_direct.csv", "store_id,day,start_time_local,end_time_local\n"
		  . join('', map { "$_,1,09:00:00,17:00:00\n" } @stores));
	append_to_file("$dir/hours_${f}_staged.csv", "store_id,day,start_time_local,end_time_local\n"
		  . join('', map { " $_ ,1,09:00:00,17:00:00\n" } @stores));
	append_to_file("$dir/zones_${f}_staged.csv", "store_id,timezone_str\n" . join('', map { "$_,Asia/Tokyo\n" } @stores));
}

my %table = (hours => 'menu_hours', zones => 'timezones');
my $contents = sub { my ($t) = @_; $node->safe_psql('feeds', "SELECT coalesce(string_agg(DISTINCT left(store_id, 1), ''), '') || ':' || count(*) FROM storemon.$t") };

for my $case (['hours', 'direct', 'direct'], ['hours', 'staged', 'staged'], ['hours', 'direct', 'staged'],
	['zones', 'staged', 'staged'])
{
	my ($feed, $way_a, $way_b) = @$case;
	my $t = $table{$feed};
	my $label = "$feed, $way_a and $way_b";
	$node->safe_psql('feeds', "DELETE FROM storemon.$t; INSERT INTO storemon.$t "
		  . ($feed eq 'hours' ? "VALUES ('old', 0, '09:00', '17:00')" : "VALUES ('old', 'UTC')"));
	my $holder = $node->background_psql('feeds');
	$holder->query_safe("BEGIN; LOCK TABLE storemon.$t IN SHARE ROW EXCLUSIVE MODE");
	my (@out, @err, @run);
	for my $i (0, 1)
	{
		my $file = "$dir/${feed}_" . ('a', 'b')[$i] . '_' . ($way_a, $way_b)[$i] . '.csv';
		local $ENV{PGAPPNAME} = 'storemon-race';
		push @run, IPC::Run::start(['./storemon-load', "--$feed", $file, '--', '-h', $node->host, '-p', $node->port,
				'-d', 'feeds'], '>', \$out[$i], '2>', \$err[$i], IPC::Run::timeout(60));
	}
	ok($node->poll_query_until('feeds', q{SELECT count(*) = 2 FROM pg_stat_activity
		WHERE application_name = 'storemon-race' AND wait_event_type = 'Lock'}),
		"$label: both loaders wait for the table");
	$holder->query_safe('COMMIT');
	$holder->quit;
	my @ok = map { eval { $_->finish } } @run;
	ok($ok[0] && $ok[1], "$label: both loads succeed") or diag(join("\n", @err));
	like($out[$_], qr/^$t: 50 rows replaced/m, "$label: load $_ replaced the table") for 0, 1;
	like($contents->($t), qr/^[ab]:50$/, "$label: the table is one of the two files, whole");
}

# The lock is one a loading role's DELETE grant allows, and readers do not wait for it.
$node->safe_psql('feeds', q{CREATE ROLE loader LOGIN;
	GRANT INSERT, DELETE ON storemon.menu_hours, storemon.timezones TO loader});
my ($out, $err);
my $ok = IPC::Run::run(['./storemon-load', '--hours', "$dir/hours_a_staged.csv", '--zones', "$dir/zones_a_staged.csv",
		'--', '-h', $node->host, '-p', $node->port, '-d', 'feeds', '-U', 'loader'], '>', \$out, '2>', \$err);
ok($ok, 'a role with INSERT and DELETE only replaces hours and zones') or diag($err);
my $holder = $node->background_psql('feeds');
$holder->query_safe('BEGIN; LOCK TABLE storemon.menu_hours IN SHARE ROW EXCLUSIVE MODE');
is($node->safe_psql('feeds', q{SET lock_timeout = '1s'; SELECT count(*) FROM storemon.menu_hours}), '50',
	'a reader does not wait for the load\'s lock');
$holder->query_safe('COMMIT');
$holder->quit;

$node->stop;
done_testing();
