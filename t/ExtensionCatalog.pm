# ExtensionCatalog — is an extension in one database the same as in
# another?  Used to compare a database brought to the current version by
# ALTER EXTENSION ... UPDATE with a new install from sql/<extension>.sql.
#
# Each aspect is a catalog query that says one thing per line about the
# extension's objects, by name (no oids), so the two answers compare as
# lists of lines and a difference names the object.
package ExtensionCatalog;

use strict;
use warnings;
use Test::More;

use Exporter 'import';
our @EXPORT = qw(same_extension);

# The extension's members (pg_depend 'e'), its relations among them, and
# its own schema.  %1$s is the extension's name.
my $with = q{SET search_path = pg_catalog;
WITH ext AS (SELECT oid, extnamespace FROM pg_extension WHERE extname = '%1$s'),
members AS (SELECT d.classid, d.objid FROM pg_depend d, ext
            WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'),
rels AS (SELECT objid AS oid FROM members WHERE classid = 'pg_class'::regclass)
};

my @aspects = (
	[ 'the extension: version, schema, owner, privileges' => q{
	  SELECT e.extname || ' ' || e.extversion || ' relocatable=' || e.extrelocatable
	         || ' schema=' || n.nspname || ' owner=' || n.nspowner::regrole
	         || ' acl=' || coalesce(n.nspacl::text, 'default')
	         || ' : ' || coalesce(obj_description(n.oid, 'pg_namespace'), '-')
	  FROM pg_extension e JOIN ext ON ext.oid = e.oid JOIN pg_namespace n ON n.oid = e.extnamespace} ],
	[ 'members and their comments' => q{
	  SELECT pg_describe_object(classid, objid, 0) || ' : '
	         || coalesce(obj_description(objid, classid::regclass::name), '-')
	  FROM members} ],
	[ 'schemas: owners and privileges' => q{
	  SELECT n.nspname || ' owner=' || n.nspowner::regrole || ' acl=' || coalesce(n.nspacl::text, 'default')
	  FROM pg_namespace n JOIN members m ON m.classid = 'pg_namespace'::regclass AND m.objid = n.oid} ],
	[ 'functions: signatures, results, bodies, settings, privileges' => q{
	  SELECT p.oid::regprocedure || ' (' || pg_get_function_arguments(p.oid) || ')'
	         || ' returns ' || coalesce(pg_get_function_result(p.oid), '-')
	         || ' language=' || l.lanname || ' kind=' || p.prokind::text || ' volatility=' || p.provolatile::text
	         || ' strict=' || p.proisstrict || ' parallel=' || p.proparallel::text
	         || ' security_definer=' || p.prosecdef || ' leakproof=' || p.proleakproof
	         || ' cost=' || p.procost || ' rows=' || p.prorows || ' bin=' || coalesce(p.probin, '-')
	         || ' body_md5=' || md5(p.prosrc)
	         || ' settings=' || coalesce(array_to_string(p.proconfig, ','), '-')
	         || ' owner=' || p.proowner::regrole || ' acl=' || coalesce(p.proacl::text, 'default')
	  FROM pg_proc p JOIN members m ON m.classid = 'pg_proc'::regclass AND m.objid = p.oid
	  JOIN pg_language l ON l.oid = p.prolang} ],
	[ 'tables and sequences: kind, storage options, owner, privileges, row security' => q{
	  SELECT c.oid::regclass || ' kind=' || c.relkind::text || ' persistence=' || c.relpersistence::text
	         || ' options=' || coalesce(array_to_string(c.reloptions, ','), '-')
	         || ' owner=' || c.relowner::regrole || ' acl=' || coalesce(c.relacl::text, 'default')
	         || ' row_security=' || c.relrowsecurity || '/' || c.relforcerowsecurity
	         || ' replica_identity=' || c.relreplident::text
	  FROM pg_class c JOIN rels r ON r.oid = c.oid} ],
	[ 'columns: order, types, collations, defaults, comments' => q{
	  SELECT a.attrelid::regclass || ' #' || row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum)
	         || ' ' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
	         || coalesce(' collate ' || co.collname, '')
	         || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
	         || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
	         || ' identity=' || a.attidentity::text || ' generated=' || a.attgenerated::text
	         || ' acl=' || coalesce(a.attacl::text, 'default')
	         || ' : ' || coalesce(col_description(a.attrelid, a.attnum), '-')
	  FROM pg_attribute a JOIN rels r ON r.oid = a.attrelid
	  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
	  LEFT JOIN pg_collation co ON co.oid = a.attcollation
	  WHERE a.attnum > 0 AND NOT a.attisdropped} ],
	[ 'constraints' => q{
	  SELECT k.conrelid::regclass || ' ' || k.conname || ' ' || pg_get_constraintdef(k.oid)
	         || ' validated=' || k.convalidated
	         || ' : ' || coalesce(obj_description(k.oid, 'pg_constraint'), '-')
	  FROM pg_constraint k JOIN rels r ON r.oid = k.conrelid} ],
	[ 'indexes and their comments' => q{
	  SELECT pg_get_indexdef(i.indexrelid) || ' clustered=' || i.indisclustered
	         || ' : ' || coalesce(obj_description(i.indexrelid, 'pg_class'), '-')
	  FROM pg_index i JOIN rels r ON r.oid = i.indrelid} ],
	[ 'triggers: definitions, enabled state, comments' => q{
	  SELECT pg_get_triggerdef(t.oid) || ' enabled=' || t.tgenabled::text
	         || ' : ' || coalesce(obj_description(t.oid, 'pg_trigger'), '-')
	  FROM pg_trigger t JOIN rels r ON r.oid = t.tgrelid WHERE NOT t.tgisinternal} ],
	[ 'row security policies' => q{
	  SELECT p.polrelid::regclass || ' ' || p.polname || ' ' || p.polcmd::text || ' permissive=' || p.polpermissive
	         || ' roles=' || p.polroles::regrole[]::text
	         || ' using=' || coalesce(pg_get_expr(p.polqual, p.polrelid), '-')
	         || ' check=' || coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '-')
	  FROM pg_policy p JOIN rels r ON r.oid = p.polrelid} ],
	[ "pg_dump's configuration tables (extconfig, extcondition)" => q{
	  SELECT u.tab::regclass || ' ' || coalesce(nullif(u.cond, ''), '(every row)')
	  FROM pg_extension e JOIN ext ON ext.oid = e.oid, unnest(e.extconfig, e.extcondition) u (tab, cond)} ],
	[ 'sequences: settings and owning column' => q{
	  SELECT s.seqrelid::regclass || ' ' || format_type(s.seqtypid, NULL) || ' start=' || s.seqstart
	         || ' increment=' || s.seqincrement || ' min=' || s.seqmin || ' max=' || s.seqmax
	         || ' cache=' || s.seqcache || ' cycle=' || s.seqcycle || ' owned_by='
	         || coalesce((SELECT d.refobjid::regclass || '.' || a.attname FROM pg_depend d
	                      JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
	                      WHERE d.classid = 'pg_class'::regclass AND d.objid = s.seqrelid
	                        AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')), '-')
	  FROM pg_sequence s JOIN rels r ON r.oid = s.seqrelid} ],
	[ "privileges pg_dump takes as the extension's own (pg_init_privs)" => q{
	  SELECT pg_describe_object(ip.classoid, ip.objoid, ip.objsubid) || ' ' || ip.privtype::text
	         || ' ' || ip.initprivs::text
	  FROM pg_init_privs ip
	  WHERE (ip.classoid, ip.objoid) IN (SELECT classid, objid FROM members)} ],
);

# Lines in @$a that @$b lacks, counted: a line twice in one and once in
# the other is a difference too.
sub missing_from
{
	my ($a, $b) = @_;
	my %left;
	$left{$_}++ for @$b;
	return grep { !($left{$_}-- > 0) } @$a;
}

# One test per aspect: $ext in database $got of $node is what it is in
# $want ("$what: <aspect>").  A difference is shown line by line.
sub same_extension
{
	my ($node, $got, $want, $ext, $what) = @_;
	for my $aspect (@aspects)
	{
		my ($name, $query) = @$aspect;
		my $sql = sprintf($with, $ext) . $query;
		my @got = split /\n/, $node->safe_psql($got, $sql);
		my @want = split /\n/, $node->safe_psql($want, $sql);
		my @only_got = missing_from(\@got, \@want);
		my @only_want = missing_from(\@want, \@got);
		# the first aspects describe every extension: empty, the query saw nothing
		my $seen = @got && @want || $name !~ /^(the extension|members|functions)/;
		ok($seen && !@only_got && !@only_want, "$what: $name")
		  or diag(join("\n", (map { "  only in $got:  $_" } @only_got),
				(map { "  only in $want: $_" } @only_want)));
	}
	return;
}

1;
