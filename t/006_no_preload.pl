# storemon needs shared_preload_libraries (its launcher, shared memory and
# DROP DATABASE guard exist only then): without it, CREATE EXTENSION says
# what to do and creates nothing.
use strict;
use warnings;
use lib 't';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use StoremonNode;

my $node = storemon_node('no_preload', preload => '');
my ($rc, $out, $err) = $node->psql('postgres', 'CREATE EXTENSION storemon');
isnt($rc, 0, 'CREATE EXTENSION storemon without preloading fails');
like($err, qr/storemon must be loaded via shared_preload_libraries/, 'saying why');
like($err, qr/HINT:  Add storemon to shared_preload_libraries/, 'and what to do');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'storemon%'}), '0',
	'and leaves nothing behind');

# Preloaded after a restart, the same command works.
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'storemon'\n");
$node->restart;
($rc, $out, $err) = $node->psql('postgres', 'CREATE EXTENSION storemon');
is($rc, 0, 'once preloaded, CREATE EXTENSION storemon works') or diag($err);
$node->stop;
done_testing();
