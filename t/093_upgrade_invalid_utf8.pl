# Attack (issue 17), as a careful operator: ALTER EXTENSION storemon UPDATE
# from 1.2 on a database holding the rows 1.2 wrote for a request with a
# mode cut in the middle of a character (issue 17, item 4: an error text
# that is not valid UTF-8).  1.2--1.3's repair of exactly those rows
# raises "invalid byte sequence" inside its own exception handler, so the
# update fails and the database can neither be upgraded nor restored.
# Failed on 1.2; holds since 1.3.
use strict;
use warnings;
use lib 't';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use StoremonNode;

my $node = storemon_node('attack_upgrade');
my $db = 'shop';
# UTF-8 whatever the cluster's encoding: the bytes below are invalid only there
$node->safe_psql('postgres',
	q{CREATE DATABASE shop ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0});
$node->safe_psql($db, q{CREATE EXTENSION storemon VERSION '1.2'});

# What 1.2's worker stored for INSERT INTO storemon.reports (interpolation)
# VALUES (repeat('a', 14) || 'é'), byte for byte (seen on a 1.2 build): the
# mode cut after the first byte of 'é'.  A superuser-only helper writes
# those bytes as text, as 1.2's C code did.
$node->safe_psql($db, q{
	CREATE FUNCTION pg_temp.raw_text(bytea) RETURNS text LANGUAGE internal STRICT AS 'textsend';
	INSERT INTO storemon.reports (status, interpolation, requested_by, attempts, finished_at, error)
	VALUES ('Failed', repeat('a', 14) || 'é', 'reporting', 1, now(),
	        pg_temp.raw_text(pg_catalog.convert_to('storemon: unknown interpolation mode "aaaaaaaaaaaaaa', 'UTF8')
	                         || '\xc3'::bytea
	                         || pg_catalog.convert_to(E'"\nHINT: Accepted modes: nearest, previous.', 'UTF8')));
});
my ($rc, $out, $err) = $node->psql($db, q{SELECT pg_catalog.convert_to(error, 'UTF8') FROM storemon.reports});
like($err, qr/invalid byte sequence/, 'the 1.2 database holds an error text that is not valid UTF-8');

($rc, $out, $err) = $node->psql($db, 'ALTER EXTENSION storemon UPDATE');
is($rc, 0, 'ALTER EXTENSION storemon UPDATE from 1.2 succeeds on it') or diag($err);
is($node->safe_psql($db, q{SELECT extversion FROM pg_extension WHERE extname = 'storemon'}), '1.3',
	'the extension is at 1.3');
($rc, $out, $err) = $node->psql($db, q{SELECT pg_catalog.convert_to(error, 'UTF8') FROM storemon.reports});
is($rc, 0, 'and the error text is valid UTF-8 afterwards') or diag($err);

done_testing();
