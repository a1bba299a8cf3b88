# Attack (issue 17): storemon_coordinator's control file names its schema,
# and CREATE EXTENSION uses that schema as it finds it.  A database owner
# creates "storemon_coordinator" before the superuser installs the
# extension, so the schema holding every coordinator function is the
# owner's.  The owner renames it and plants a schema of that name whose
# functions the installed ones call by name (check_shards, compute_each,
# storemon_default_as_of).  The next report a superuser asks for (a pg_cron
# job of postgres, say) is computed as that superuser through
# storemon_report_rows, and runs the owner's code.  storemon itself refuses
# taken schema names; storemon_coordinator 1.0 did not.  Failed on
# storemon_coordinator 1.0; holds since 1.1.
use strict;
use warnings;
use lib 't';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use StoremonNode;

my $db = 'coord';
my $node = database_node('attack_coordinator_schema', $db, roles => ['owner'], owner => 'owner', bare => 1);
$node->safe_psql($db, q{SET ROLE owner; CREATE SCHEMA storemon_coordinator});

my ($rc, $out, $err) = $node->psql($db, 'CREATE EXTENSION storemon_coordinator CASCADE');
ok($rc != 0 && $err =~ /schema storemon_coordinator belongs to owner, who is not a superuser/,
	'CREATE EXTENSION refuses a schema the database owner made, naming its owner') or diag($err);
is($node->safe_psql($db, q{SELECT count(*) FROM pg_extension WHERE extname LIKE 'storemon%'}), '0',
	'and installs nothing, storemon included');

# Had it installed, the owner's planted functions must still not run as superuser.
SKIP:
{
	skip 'the extension was refused', 1 if $rc != 0;

	($rc, $out, $err) = $node->psql($db, q{SET ROLE owner;
		ALTER SCHEMA storemon_coordinator RENAME TO installed;
		CREATE SCHEMA storemon_coordinator;
		GRANT USAGE ON SCHEMA storemon_coordinator TO PUBLIC;
		CREATE FUNCTION storemon_coordinator.trap() RETURNS void LANGUAGE plpgsql AS $$
		BEGIN
			IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
				EXECUTE 'ALTER ROLE owner SUPERUSER';
			END IF;
		END $$;
		CREATE FUNCTION storemon_coordinator.check_shards() RETURNS void LANGUAGE sql
			AS $$ SELECT storemon_coordinator.trap() $$;
		CREATE FUNCTION storemon_coordinator.storemon_default_as_of() RETURNS timestamptz LANGUAGE sql
			AS $$ SELECT storemon_coordinator.trap(); SELECT '2023-01-25 18:00+00'::timestamptz $$;
		CREATE FUNCTION storemon_coordinator.compute_each(as_of timestamptz, interpolation text)
			RETURNS TABLE (store_id text, uptime_last_hour numeric, uptime_last_day numeric,
			               uptime_last_week numeric, downtime_last_hour numeric, downtime_last_day numeric,
			               downtime_last_week numeric)
			LANGUAGE sql AS $$ SELECT NULL::text, 0::numeric, 0::numeric, 0::numeric, 0::numeric,
			                          0::numeric, 0::numeric WHERE false $$;
	});
	diag($err) if $rc != 0;
	my $id = $node->safe_psql($db, 'SELECT storemon.storemon_trigger_report()');
	wait_status($node, $db, $id, 'Complete', 'Failed');
	is($node->safe_psql('postgres', q{SELECT rolsuper FROM pg_roles WHERE rolname = 'owner'}), 'f',
		'the database owner is not superuser after a superuser\'s report on the coordinator');
}
done_testing();
