# Attack (attack round 3), on the coordinator's own guard: check_shards
# refuses a shard whose connection string does not pin search_path, by two
# regular expressions over the text (one "options=-csearch_path=" preceded
# and followed by white space, and one options keyword).  libpq reads an
# escaped space as part of a value, so in
#     dbname=... application_name=coordinator\ options=-csearch_path=
# "options=-csearch_path=" is the tail of application_name's value: the
# text passes both expressions, and the connection runs with the shard's
# own search_path, which its owner sets (ALTER DATABASE ... SET
# search_path), so the type names PL/Proxy sends resolve to the owner's
# types (the threat the check exists for; sql/storemon_coordinator.sql).
# The administrator writes the string, so this is a check that can be
# fooled by a plausible string, not a way in by itself.
# Fails on 1.3 as it is.
use strict;
use warnings;
use lib 't';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use StoremonNode;

my $db = 'coord';
my $node = database_node('attack_shard_connstr', $db, roles => ['owner'], owner => 'owner', bare => 1);
$node->safe_psql('postgres', 'CREATE DATABASE shard0 OWNER owner');
# The shard's owner puts its own schema first for every session.
$node->safe_psql('shard0', 'ALTER DATABASE shard0 SET search_path = public, pg_catalog');
$node->safe_psql($db, 'CREATE EXTENSION storemon_coordinator CASCADE');

my $connstr = sprintf('host=%s port=%d dbname=shard0 application_name=coordinator\ options=-csearch_path=',
	$node->host, $node->port);

# Control: what libpq makes of that string.
my ($rc, $out, $err) = $node->psql('postgres', 'SHOW search_path',
	connstr => $connstr);
is($out, 'public, pg_catalog', 'a connection made with that string does not pin search_path (control)')
  or diag($err);

(my $option = $connstr) =~ s/'/''/g;
$node->safe_psql($db, "CREATE SERVER storemon_shards FOREIGN DATA WRAPPER plproxy
	OPTIONS (modular_mapping '1', p0 '$option')");
($rc, $out, $err) = $node->psql($db, 'SELECT storemon_coordinator.check_shards()');
like($err, qr/does not pin search_path/, 'check_shards refuses the shard');

done_testing();
