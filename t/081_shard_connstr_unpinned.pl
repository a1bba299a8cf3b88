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
# Failed on 1.3 as first written; check_shards now reads each string with
# libpq's own parser (storemon_internal.conninfo_value), and agrees with
# libpq on every string below.
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

my $base = sprintf('host=%s port=%d dbname=shard0', $node->host, $node->port);
my $uri = sprintf('postgresql:///shard0?host=%s&port=%d', $node->host, $node->port);
# Each string, and whether a connection made with it runs with an empty
# search_path: check_shards must agree with libpq on every one.
my @strings = (
	[1, "$base options=-csearch_path="],
	[1, "$base options='-c search_path='"],
	[1, "$base options = '-csearch_path='"],
	[1, "options=-cwork_mem=1MB $base options=-csearch_path="],
	[1, "$uri&options=-csearch_path%3D"],
	[0, "$base application_name=coordinator\\ options=-csearch_path="],
	[0, "$base application_name='coordinator options=-csearch_path='"],
	[0, "$base options=-csearch_path= options=-cwork_mem=1MB"],
	[0, "$base options='-csearch_path= -csearch_path=public'"],
	[0, $base],
	[0, "$uri&application_name=x%20options%3D-csearch_path%3D"],
);
my $i = 0;
for my $case (@strings)
{
	my ($pinned, $connstr) = @$case;
	# Control: what libpq makes of the string.
	my ($rc, $out, $err) = $node->psql('postgres', 'SHOW search_path', connstr => $connstr);
	is($rc == 0 && $out eq '' ? 1 : 0, $pinned, "libpq: $connstr " . ($pinned ? 'pins' : 'does not pin') . ' search_path')
	  or diag($err);
	(my $option = $connstr) =~ s/'/''/g;
	my $server = $i++ ? 'ALTER SERVER storemon_shards OPTIONS (SET' : 'CREATE SERVER storemon_shards FOREIGN DATA WRAPPER plproxy OPTIONS (modular_mapping \'1\',';
	$node->safe_psql($db, "$server p0 '$option')");
	($rc, $out, $err) = $node->psql($db, 'SELECT storemon_coordinator.check_shards()');
	if ($pinned)
	{
		is($rc, 0, "check_shards accepts it") or diag($err);
	}
	else
	{
		like($err, qr/connection string of shard\(s\) p0 does not pin search_path/, 'check_shards refuses it');
	}
}

# A string libpq cannot read pins nothing either, and is refused the same way.
$node->safe_psql($db, "ALTER SERVER storemon_shards OPTIONS (SET p0 'host=''unterminated options=-csearch_path=')");
my ($rc, $out, $err) = $node->psql($db, 'SELECT storemon_coordinator.check_shards()');
like($err, qr/shard\(s\) p0 does not pin search_path/, 'a string libpq cannot read is refused, naming the shard');
($rc, $out, $err) = $node->psql($db, q{SELECT storemon_internal.conninfo_value('host=''x', 'options')});
like($err, qr/libpq cannot read the connection string: unterminated quoted string/, 'conninfo_value says what libpq said');
($rc, $out, $err) = $node->psql($db, q{SELECT storemon_internal.conninfo_value('host=x', 'no_such_keyword')});
like($err, qr/"no_such_keyword" is not a libpq connection keyword/, 'and names a keyword libpq does not know');
is($node->safe_psql($db, q{SELECT storemon_internal.conninfo_value('host=x', 'options') IS NULL}), 't',
	'an absent keyword is NULL');

done_testing();
