# Attack (issue 17), "nothing lost": a report computed as its requester is
# what storemon_compute gives that role.  A common row-security pattern
# keys the policy on a setting each tenant role carries (ALTER ROLE ... IN
# DATABASE ... SET app.prefix).  The worker computes as the role but
# without the role's settings, so the policy sees none and the report is
# Complete with no stores, while the same role's storemon_compute sees
# its stores.  Now the worker applies the role's own (dotted) settings: the
# report equals what the role computes.  Failed on 1.2; holds since 1.3.
use strict;
use warnings;
use lib 't';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use StoremonNode;

my $db = 'shop';
my $node = database_node('attack_role_settings', $db, roles => ['tenant']);
grant_reporting($node, $db, 'tenant');
my $as_of = '2023-01-25 18:00:00+00';
$node->safe_psql($db, q{
	ALTER TABLE storemon.store_status ENABLE ROW LEVEL SECURITY;
	CREATE POLICY by_prefix ON storemon.store_status FOR SELECT
		USING (store_id LIKE current_setting('app.prefix', true) || '%');
	ALTER ROLE tenant IN DATABASE shop SET app.prefix = '11';
});

# The role's own sessions carry its setting.
my ($rc, $mine, $err) = $node->psql($db, "SELECT count(*) FROM storemon.storemon_compute('$as_of')",
	extra_params => ['-U', 'tenant']);
cmp_ok($mine, '>', 0, "the tenant's storemon_compute sees $mine stores") or diag($err);

my $id = ($node->psql($db, "SELECT storemon.storemon_trigger_report('$as_of')", extra_params => ['-U', 'tenant']))[1];
my $status = wait_status($node, $db, $id, 'Complete', 'Failed');
is($status, 'Complete', "the tenant's report completes");
my $rows = q{SELECT count(*) || ' ' || md5(string_agg(r::text, E'\n' ORDER BY r.store_id)) FROM (%s) r};
my $direct = $node->safe_psql($db, sprintf($rows, "SELECT * FROM storemon.storemon_compute('$as_of')"),
	extra_params => ['-U', 'tenant']);
my $stored = $node->safe_psql($db, sprintf($rows,
	"SELECT store_id, uptime_last_hour, uptime_last_day, uptime_last_week, downtime_last_hour,
	        downtime_last_day, downtime_last_week FROM storemon.storemon_get_report('$id')"),
	extra_params => ['-U', 'tenant']);
is($stored, $direct, "with the rows the tenant's storemon_compute gives (its role's app.prefix applied)");

done_testing();
