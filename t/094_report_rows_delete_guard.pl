# Attack (issue 17): report rows are "written by storemon's worker only"
# (guard_report_rows), but only INSERT and UPDATE are guarded.  A role with
# the README's purging grants (SELECT, DELETE on reports and report_rows)
# deletes some rows of a Complete report: the report stays Complete, and
# every reader, its summary and its CSV now show a fleet without its worst
# stores.  Failed on 1.2; holds since 1.3.
use strict;
use warnings;
use lib 't';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use StoremonNode;

my $db = 'shop';
my $node = database_node('attack_rows', $db, roles => ['purger']);
$node->safe_psql($db, q{GRANT SELECT, DELETE ON storemon.reports, storemon.report_rows TO purger});

my $id = $node->safe_psql($db, q{SELECT storemon.storemon_trigger_report('2023-01-25 18:00+00')});
is(wait_status($node, $db, $id, 'Complete', 'Failed'), 'Complete', 'a report is Complete');
my $rows = $node->safe_psql($db, "SELECT count(*) FROM storemon.report_rows WHERE report_id = '$id'");

my ($rc, $out, $err) = $node->psql($db,
	"SET ROLE purger; DELETE FROM storemon.report_rows WHERE report_id = '$id' AND downtime_last_week > 0");
isnt($rc, 0, 'a purging role cannot delete some rows of a Complete report');
is($node->safe_psql($db, "SELECT count(*) FROM storemon.report_rows WHERE report_id = '$id'"), $rows,
	'the report keeps all its rows');

($rc, $out, $err) = $node->psql($db,
	"SET ROLE purger; SELECT storemon.storemon_purge_reports('0 seconds')");
is($rc, 0, 'purging whole reports still works') or diag($err);
is($node->safe_psql($db, 'SELECT count(*) FROM storemon.report_rows'), '0', 'and takes their rows with them');

done_testing();
