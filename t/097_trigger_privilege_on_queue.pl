# Attack (issue 17): "whatever a role was granted on reports" includes
# GRANT ALL, which t/013 tests and which carries the TRIGGER privilege.  A
# role with it creates a trigger on storemon.report_rows (or reports) whose
# function lives in its own pg_temp schema, so it needs CREATE nowhere and
# leaves nothing behind when it disconnects.  The worker, the bootstrap
# superuser, fires it when it stores a report.  Failed on 1.2; holds since 1.3.
use strict;
use warnings;
use lib 't';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use StoremonNode;

my $db = 'shop';
my $node = database_node('attack_trigger', $db, roles => ['granted']);
$node->safe_psql($db, q{
	GRANT SELECT ON storemon.store_status, storemon.menu_hours, storemon.timezones TO granted;
	GRANT ALL ON storemon.reports, storemon.report_rows TO granted;
	GRANT USAGE ON SEQUENCE storemon.reports_seq TO granted;
});

for my $table ('report_rows', 'reports')
{
	my $event = $table eq 'reports' ? 'UPDATE' : 'INSERT';
	my $s = $node->background_psql($db);
	$s->query_safe('SET ROLE granted');
	my ($out, $ret) = $s->query(qq{
		CREATE FUNCTION pg_temp.trap() RETURNS trigger LANGUAGE plpgsql AS \$\$
		BEGIN
			IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
				EXECUTE 'ALTER ROLE granted SUPERUSER';
			END IF;
			RETURN NULL;
		END \$\$;
		CREATE TRIGGER zz_trap AFTER $event ON storemon.$table
			FOR EACH STATEMENT EXECUTE FUNCTION pg_temp.trap()});
	my $id = $node->safe_psql($db, 'SET ROLE granted; SELECT storemon.storemon_trigger_report()');
	wait_status($node, $db, $id, 'Complete', 'Failed');
	$s->quit;
	is($node->safe_psql('postgres', q{SELECT rolsuper FROM pg_roles WHERE rolname = 'granted'}), 'f',
		"a role granted ALL on storemon.$table is not superuser after the worker wrote it");
	$node->safe_psql('postgres', 'ALTER ROLE granted NOSUPERUSER');
}

done_testing();
