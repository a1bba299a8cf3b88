# A superuser runs storemon-load on a hostile owner's databases: nothing
# the owner planted may run.  The owner plants, in schema public and first
# on the database's and its own search_path, a look-alike of every
# function, operator, type and relation name the loader's SQL uses.  That
# list is not typed here: every path of the loader (frozen, direct, staged,
# a failing load, sharded) first runs on clean databases with
# log_statement = 'all', and the names are read out of the SQL it sent.
# Each look-alike, if it ever runs, logs a warning, writes a row and makes
# the owner superuser when it can.  A control calls each one unqualified to
# show it is live.
use strict;
use warnings;
use lib 't';
use File::Temp qw(tempdir);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use StoremonNode;

my $node = storemon_node('lookalikes', preload => 'storemon', log_statement => "'all'",
	log_line_prefix => "'%m [%p] db=%d app=%a|'");
my $dir = tempdir(CLEANUP => 1);


# The feeds each path needs: clean ones go straight in (frozen when the
# table is empty, indexes rebuilt when the load is large), unclean ones are
# staged, a bad one fails.
append_to_file("$dir/big.csv", "store_id,status,timestamp_utc\n"
	  . join('', map { "s$_,active,2023-01-22 12:00:00 UTC\n" } 1 .. 12000));
append_to_file("$dir/small.csv", "store_id,status,timestamp_utc\n"
	  . join('', map { "s$_,inactive,2023-01-22 13:00:00+05:30\n" } 1 .. 50));
append_to_file("$dir/unclean.csv", "store_id,status,timestamp_utc\n"
	  . join('', map { " s$_ , Active ,2023-01-22 14:00:00 UTC\n" } 1 .. 50));
append_to_file("$dir/bad.csv", "store_id,status,timestamp_utc\ns1,active,2023-01-22 15:00 UTC\ns2,maybe,2023-01-22 15:00 UTC\n");
append_to_file("$dir/hours.csv", "store_id,day,start_time_local,end_time_local\n"
	  . join('', map { "s$_,1,09:00:00,17:00:00\n" } 1 .. 50));
append_to_file("$dir/hours_unclean.csv", "store_id,day,start_time_local,end_time_local\n"
	  . join('', map { "s$_, 2 , 09:00 ,17:00\n" } 1 .. 50));
append_to_file("$dir/zones.csv", "store_id,timezone_str\n" . join('', map { "s$_,Asia/Tokyo\n" } 1 .. 50));

# Each path of the loader, as [arguments, should it succeed].
my @single = (
	[[ '--status', "$dir/big.csv", '--hours', "$dir/hours.csv", '--zones', "$dir/zones.csv" ], 1],
	[[ '--status', "$dir/small.csv", '--hours', "$dir/hours.csv" ], 1],
	[[ '--status', "$dir/unclean.csv", '--hours', "$dir/hours_unclean.csv", '--zones', "$dir/zones.csv" ], 1],
	[[ '--status', "$dir/bad.csv" ], 0],
	[[ '--status', "$dir/small.csv", '--no-vacuum' ], 1]);
my @sharded = (
	[[ '--status', "$dir/big.csv", '--hours', "$dir/hours.csv", '--zones', "$dir/zones.csv" ], 1],
	[[ '--status', "$dir/unclean.csv", '--hours', "$dir/hours_unclean.csv" ], 1],
	[[ '--status', "$dir/bad.csv" ], 0],
	[[ '--status', "$dir/small.csv", '--shards', '1' ], 1]);

# The test's own sessions never meet the owner's search_path.
$ENV{PGOPTIONS} = '-c search_path=pg_catalog';

sub make_db
{
	my ($db, $owner) = @_;
	$node->safe_psql('postgres', qq{CREATE DATABASE "$db" OWNER "$owner"});
	$node->safe_psql($db, 'CREATE EXTENSION storemon');
}

# A coordinator and two shard databases on this server.
sub make_sharded
{
	my ($prefix, $owner) = @_;
	make_db("${prefix}_s$_", $owner) for 0, 1;
	make_db("${prefix}_c", $owner);
	my $partitions = join(', ', map { "p$_ 'dbname=${prefix}_s$_ host=" . $node->host . ' port=' . $node->port . "'" } 0, 1);
	$node->safe_psql("${prefix}_c", qq{
		CREATE SCHEMA plproxy;
		CREATE EXTENSION plproxy SCHEMA plproxy;
		CREATE EXTENSION storemon_coordinator;
		CREATE SERVER storemon_shards FOREIGN DATA WRAPPER plproxy OPTIONS (modular_mapping '1', $partitions);
		CREATE USER MAPPING FOR PUBLIC SERVER storemon_shards;});
	return ("${prefix}_c", "${prefix}_s0", "${prefix}_s1");
}

# Run every path into $db (one node) and $coord (sharded), as the superuser
# and with the environment a user has: no PGOPTIONS.
sub run_paths
{
	my ($db, $coord, $label) = @_;
	for my $run ([ $db, \@single ], [ $coord, \@sharded ])
	{
		my ($target, $paths) = @$run;
		for my $path (@$paths)
		{
			my ($args, $good) = @$path;
			my ($out, $err);
			local %ENV = %ENV;
			delete @ENV{qw(PGOPTIONS PGAPPNAME)};
			my $ok = IPC::Run::run(['./storemon-load', @$args, '--', '-h', $node->host, '-p', $node->port,
					'-d', $target], '>', \$out, '2>', \$err);
			my $shown = join(' ', map { s/^\Q$dir\E\///r } @$args);
			is($ok ? 1 : 0, $good, "$label: $target: storemon-load $shown " . ($good ? 'loads' : 'fails'))
			  or diag($err);
		}
	}
}

# The SQL texts the loader sent to databases named like $prefix since log
# offset $from: statements and extended-protocol executes, continuation
# lines included.
sub logged_sql
{
	my ($prefix, $from) = @_;
	my @sql;
	my $in = 0;
	for my $line (split /\n/, substr(slurp_file($node->logfile), $from))
	{
		if ($line =~ /^\S.*? db=(\S*) app=([^|]*)\|(?:LOG|ERROR|STATEMENT|DETAIL|WARNING|NOTICE|HINT|CONTEXT):/)
		{
			my ($db, $app) = ($1, $2);
			$in = 0;
			next unless index($db, $prefix) == 0 && ($app eq 'storemon-load' || $app eq '[unknown]');
			if ($line =~ /\|LOG:  (?:statement|execute [^:]*): (.*)$/)
			{
				push @sql, $1;
				$in = 1;
			}
		}
		elsif ($in && $line =~ /^\t(.*)$/)
		{
			$sql[-1] .= "\n$1";
		}
	}
	return @sql;
}

# Every identifier (the last part of a qualified name) and operator in a
# SQL text, outside literals, parameters and comments.
sub sql_names
{
	my ($sql, $idents, $ops) = @_;
	pos($sql) = 0;
	while (pos($sql) < length($sql))
	{
		if ($sql =~ /\G\s+/gc) { }
		elsif ($sql =~ /\G--[^\n]*/gc) { }
		elsif ($sql =~ /\G[Ee]'(?:[^'\\]|\\.|'')*'/gc) { }
		elsif ($sql =~ /\G'(?:[^']|'')*'/gc) { }
		elsif ($sql =~ /\G(\$[A-Za-z_]\w*\$|\$\$).*?\1/gcs) { }
		elsif ($sql =~ /\G\$\d+/gc) { }
		elsif ($sql =~ /\G"((?:[^"]|"")*)"/gc) { (my $n = $1) =~ s/""/"/g; $idents->{$n} = 1 }
		elsif ($sql =~ /\G([A-Za-z_][A-Za-z0-9_\$]*)/gc) { $idents->{ lc $1 } = 1 }
		elsif ($sql =~ /\G::/gc) { }
		elsif ($sql =~ /\G([-+*\/<>=~!@#%^&|`?]+)/gc) { $ops->{$1} = 1 }
		elsif ($sql =~ /\G[0-9.]+/gc) { }
		else { $sql =~ /\G./gcs }
	}
	return;
}

sub array_literal
{
	my (@v) = @_;
	return 'ARRAY[' . join(',', map { my $s = $_; $s =~ s/'/''/g; "'$s'" } sort @v) . ']::text[]';
}

# 1. The clean run: every path on databases without traps, every statement logged.
$node->safe_psql('postgres', 'CREATE ROLE evil LOGIN');
make_db('recon', 'postgres');
my ($recon_coord) = make_sharded('recon', 'postgres');
my $log_from = -s $node->logfile;
run_paths('recon', $recon_coord, 'clean run');
my @recon_sql = logged_sql('recon', $log_from);
my (%idents, %ops);
sql_names($_, \%idents, \%ops) for @recon_sql;
cmp_ok(scalar(@recon_sql), '>', 50, 'the clean run logged the loader\'s statements');

# 2. The hostile databases, owned by evil, each with the traps planted by evil.
my @hostile = ('hostile', make_sharded('hostile', 'evil'));
make_db('hostile', 'evil');
my $names = array_literal(keys %idents);
my $opnames = array_literal(keys %ops);
my $plant = qq{
SET ROLE evil;
SET search_path = pg_catalog;
CREATE TABLE public.trap_log (what text, ran_as name);
GRANT ALL ON public.trap_log TO PUBLIC;
-- Run: a warning in the log (it survives a rollback), a row, and superuser
-- for evil when the caller is one.  Under evil.trap_control = on (the
-- control below) it raises instead, to show it was reached.
CREATE FUNCTION public.storemon_trap(what text) RETURNS boolean LANGUAGE plpgsql
SET search_path = pg_catalog AS \$\$
BEGIN
	IF current_setting('evil.trap_control', true) OPERATOR(pg_catalog.=) 'on' THEN
		RAISE EXCEPTION 'storemon trap hit: %', what;
	END IF;
	RAISE WARNING 'storemon trap % ran as %', what, current_user;
	INSERT INTO public.trap_log VALUES (what, current_user);
	IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) current_user)
	   AND current_setting('evil.tried', true) IS NULL THEN
		PERFORM set_config('evil.tried', 'yes', false); -- once a session: a trap may run per row
		BEGIN
			-- another of the loader's open transactions may have done it already
			SET LOCAL lock_timeout = '1s';
			ALTER ROLE evil SUPERUSER;
		EXCEPTION WHEN lock_not_available THEN
			NULL;
		END;
	END IF;
	RETURN true;
END \$\$;
CREATE TABLE public.planted (kind text, what text, control text, error text);
CREATE FUNCTION public.storemon_plant(kind text, what text, ddl text, control text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog AS \$\$
BEGIN
	EXECUTE ddl;
	INSERT INTO public.planted VALUES (kind, what, control, NULL);
EXCEPTION WHEN others THEN
	INSERT INTO public.planted VALUES (kind, what, NULL, SQLERRM);
END \$\$;
DO \$plant\$
DECLARE
	names text[] := $names;
	ops text[] := $opnames;
	r record;
	label text;
	callargs text;
	nulls text;
BEGIN
	-- relations: a view that runs the trap when read
	FOR r IN SELECT DISTINCT c.relname FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
	         WHERE c.relname = ANY (names) AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
	           AND s.nspname <> 'public' AND s.nspname NOT LIKE 'pg_temp%' AND s.nspname NOT LIKE 'pg_toast%'
	LOOP
		label := 'relation ' || r.relname;
		PERFORM public.storemon_plant('relation', r.relname,
			format('CREATE VIEW public.%I AS SELECT public.storemon_trap(%L) AS trapped', r.relname, label),
			format('SELECT * FROM %I', r.relname));
	END LOOP;
	-- types: a domain over the real type whose check runs the trap
	FOR r IN SELECT DISTINCT ON (t.typname) t.typname, s.nspname FROM pg_type t JOIN pg_namespace s ON s.oid = t.typnamespace
	         WHERE t.typname = ANY (names) AND t.typtype IN ('b', 'd', 'e', 'r', 'm') AND t.typcategory <> 'A'
	           AND s.nspname <> 'public'
	           AND NOT EXISTS (SELECT FROM public.planted p WHERE p.what = t.typname AND p.kind = 'relation')
	         ORDER BY t.typname, s.nspname <> 'pg_catalog'
	LOOP
		label := 'type ' || r.typname;
		PERFORM public.storemon_plant('type', r.typname,
			format('CREATE DOMAIN public.%I AS %I.%I CHECK (public.storemon_trap(%L))', r.typname, r.nspname, r.typname, label),
			format('SELECT CAST(NULL AS %I)', r.typname));
	END LOOP;
	-- functions: every overload, same arguments and result, delegating after the trap
	FOR r IN SELECT p.oid, p.proname, s.nspname, p.pronargs, p.provariadic,
	                pg_get_function_arguments(p.oid) AS args, pg_get_function_result(p.oid) AS result,
	                (SELECT bool_or(t.typtype = 'p') FROM unnest(p.proargtypes) a JOIN pg_type t ON t.oid = a) AS polymorphic
	         FROM pg_proc p JOIN pg_namespace s ON s.oid = p.pronamespace
	         WHERE p.proname = ANY (names) AND p.prokind = 'f' AND s.nspname <> 'public'
	LOOP
		label := format('function %s.%s(%s)', r.nspname, r.proname, pg_get_function_identity_arguments(r.oid));
		SELECT string_agg(CASE WHEN r.provariadic <> 0 AND i = r.pronargs THEN 'VARIADIC ' ELSE '' END || '\$' || i, ', ' ORDER BY i),
		       string_agg(CASE WHEN r.provariadic <> 0 AND i = r.pronargs THEN 'VARIADIC ' ELSE '' END
		                  || format('NULL::%I.%I', tn.nspname, t.typname), ', ' ORDER BY i)
		INTO callargs, nulls
		FROM generate_series(1, r.pronargs) i
		JOIN pg_proc p ON p.oid = r.oid
		JOIN pg_type t ON t.oid = p.proargtypes[i - 1]
		JOIN pg_namespace tn ON tn.oid = t.typnamespace;
		PERFORM public.storemon_plant('function', label,
			format('CREATE FUNCTION public.%I(%s) RETURNS %s LANGUAGE sql AS %L', r.proname, r.args, r.result,
			       format('SELECT public.storemon_trap(%L); SELECT * FROM %I.%I(%s)', label, r.nspname, r.proname,
			              coalesce(callargs, ''))),
			CASE WHEN NOT coalesce(r.polymorphic, false)
			     THEN format('SELECT %I(%s)', r.proname, coalesce(nulls, '')) END);
	END LOOP;
	-- operators: every one of each name, the trap then the real operator
	FOR r IN SELECT o.oid, o.oprname, s.nspname, o.oprleft, o.oprright, o.oprresult,
	                format_type(o.oprleft, NULL) AS l, format_type(o.oprright, NULL) AS rt,
	                format_type(o.oprresult, NULL) AS res,
	                (SELECT format('%I.%I', tn.nspname, t.typname) FROM pg_type t JOIN pg_namespace tn ON tn.oid = t.typnamespace WHERE t.oid = o.oprleft) AS lq,
	                (SELECT format('%I.%I', tn.nspname, t.typname) FROM pg_type t JOIN pg_namespace tn ON tn.oid = t.typnamespace WHERE t.oid = o.oprright) AS rq,
	                (SELECT bool_or(t.typtype = 'p') FROM pg_type t WHERE t.oid IN (o.oprleft, o.oprright)) AS polymorphic
	         FROM pg_operator o JOIN pg_namespace s ON s.oid = o.oprnamespace
	         WHERE o.oprname = ANY (ops) AND s.nspname <> 'public'
	LOOP
		label := format('operator %s.%s(%s, %s)', r.nspname, r.oprname, r.l, r.rt);
		IF r.oprleft = 0 THEN
			PERFORM public.storemon_plant('operator', label,
				format('CREATE FUNCTION public.storemon_op_%s(%s) RETURNS %s LANGUAGE sql AS %L; '
				       'CREATE OPERATOR public.%s (RIGHTARG = %s, FUNCTION = public.storemon_op_%s)',
				       r.oid, r.rt, r.res,
				       format('SELECT public.storemon_trap(%L); SELECT OPERATOR(%I.%s) \$1', label, r.nspname, r.oprname),
				       r.oprname, r.rt, r.oid),
				CASE WHEN NOT coalesce(r.polymorphic, false) THEN format('SELECT %s NULL::%s', r.oprname, r.rq) END);
		ELSE
			PERFORM public.storemon_plant('operator', label,
				format('CREATE FUNCTION public.storemon_op_%s(%s, %s) RETURNS %s LANGUAGE sql AS %L; '
				       'CREATE OPERATOR public.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = public.storemon_op_%s)',
				       r.oid, r.l, r.rt, r.res,
				       format('SELECT public.storemon_trap(%L); SELECT \$1 OPERATOR(%I.%s) \$2', label, r.nspname, r.oprname),
				       r.oprname, r.l, r.rt, r.oid),
				CASE WHEN NOT coalesce(r.polymorphic, false)
				     THEN format('SELECT NULL::%s %s NULL::%s', r.lq, r.oprname, r.rq) END);
		END IF;
	END LOOP;
END
\$plant\$;
ALTER DATABASE :"DBNAME" SET search_path = public, pg_catalog;
};
for my $db (@hostile)
{
	my ($rc, $out, $err) = $node->psql($db, $plant, extra_params => [ '-v', 'ON_ERROR_STOP=1' ]);
	is($rc, 0, "evil plants its look-alikes in $db") or diag($err);
}
$node->safe_psql('postgres', 'ALTER ROLE evil SET search_path = public, pg_catalog');

# Every name of the clean run that names an object has look-alikes, and
# each look-alike is live: called unqualified under evil's search_path it
# runs the trap.
my $planted = $node->safe_psql('hostile', q{SELECT kind, count(*) FILTER (WHERE error IS NULL),
	count(*) FILTER (WHERE error IS NOT NULL) FROM public.planted GROUP BY kind ORDER BY kind});
note("look-alikes planted (kind|planted|not plantable):\n$planted");
note('names in the clean run\'s SQL: ' . join(' ', sort keys %idents) . '  operators: ' . join(' ', sort keys %ops));
ok(exists $idents{$_}, "the names read from the clean run include $_")
  for qw(has_table_privilege current_setting text regclass pg_class storemon_load_staged);
is($node->safe_psql('hostile', q{SELECT string_agg(DISTINCT split_part(what, '(', 1), ', ') FROM public.planted p
	WHERE error IS NOT NULL AND NOT EXISTS (SELECT FROM public.planted q WHERE q.error IS NULL
	  AND split_part(q.what, '(', 1) = split_part(p.what, '(', 1))}), '',
	'every named object has at least one live look-alike (an overload only C can declare may be left out)');
my $unplanted = $node->safe_psql('hostile', q{SELECT string_agg(what || ': ' || error, E'\n') FROM public.planted WHERE error IS NOT NULL});
note("overloads not plantable in SQL:\n$unplanted") if $unplanted ne '';
my ($rc, $out, $err) = $node->psql('hostile', q{
	SET ROLE evil; SET search_path = pg_catalog; SET evil.trap_control = on;
	DO $$
	DECLARE r record; got text; want text; missed text := '';
	BEGIN
		FOR r IN SELECT * FROM public.planted WHERE control IS NOT NULL LOOP
			want := 'storemon trap hit: ' || CASE r.kind WHEN 'relation' THEN 'relation ' WHEN 'type' THEN 'type ' ELSE '' END || r.what;
			BEGIN
				EXECUTE 'SET LOCAL search_path = public, pg_catalog';
				EXECUTE r.control;
				EXECUTE 'SET LOCAL search_path = pg_catalog';
				got := 'ran without the trap';
			EXCEPTION WHEN others THEN
				got := SQLERRM;
			END;
			IF got IS DISTINCT FROM want THEN
				missed := missed || r.control || ' -> ' || got || E'\n';
			END IF;
		END LOOP;
		RAISE NOTICE 'missed: %', missed;
	END $$;}, extra_params => [ '-v', 'ON_ERROR_STOP=1' ]);
like($err, qr/NOTICE:  missed: $/m, 'control: every look-alike, called unqualified as evil, runs its trap') or diag($err);
my $controls = $node->safe_psql('hostile', 'SELECT count(*) FROM public.planted WHERE control IS NOT NULL');
cmp_ok($controls, '>', 50, "and that is $controls look-alikes called");

# 3. The superuser runs every path on evil's databases.
$log_from = -s $node->logfile;
run_paths('hostile', 'hostile_c', 'hostile run');
my $log = substr(slurp_file($node->logfile), $log_from);
my (%idents2, %ops2);
sql_names($_, \%idents2, \%ops2) for logged_sql('hostile', $log_from);
my @ran = $log =~ /(storemon trap .* ran as .*)/g;
is(scalar(@ran), 0, 'no look-alike ran during any load') or diag(join("\n", @ran));
for my $db (@hostile)
{
	is($node->safe_psql($db, 'SELECT count(*) FROM public.trap_log'), '0', "$db: no trap left a row");
}
is($node->safe_psql('postgres', q{SELECT rolsuper FROM pg_roles WHERE rolname = 'evil'}), 'f', 'evil is not superuser');
# The hostile run sent no name the clean run did not (so the look-alikes covered it).
is(join(' ', grep { !exists $idents{$_} } sort keys %idents2), '', 'the hostile run used no identifier the clean run did not');
is(join(' ', grep { !exists $ops{$_} } sort keys %ops2), '', 'nor any operator');
like($log, qr/db=hostile_s1 app=storemon-load\|LOG:  statement: SELECT pg_catalog\.set_config\('search_path', '', false\)/,
	'each shard connection pins an empty search_path first');

# The control for the whole: the same call unqualified, by a superuser under
# evil's search_path, hands evil superuser.
$node->safe_psql('hostile', q{SET search_path = public, pg_catalog;
	SELECT has_table_privilege('storemon.store_status'::pg_catalog.regclass, 'TRUNCATE')});
is($node->safe_psql('postgres', q{SELECT rolsuper FROM pg_roles WHERE rolname = 'evil'}), 't',
	'control: a superuser calling has_table_privilege unqualified there makes evil superuser');

$node->stop;
done_testing();
