# Every SQL entry point survives every argument (issue 17).  The list of
# functions comes from the catalog: every function of storemon,
# storemon_internal and storemon_coordinator that PUBLIC may execute
# (trigger functions excluded).  Each argument is swept, by its type, over
# NULL, empty, huge and extreme values while the others keep a valid
# value, plus one call with every argument NULL; each call is made as a
# role without grants, as a reader of the feed and as the README's
# reporting role, while a report is Running (its worker held on a lock),
# so the shared-memory progress paths are live.  Nothing may crash, take
# longer than a bound, or run SQL the caller did not write; every error
# must be clean: no internal SQLSTATE or raw internal text, no invalid
# UTF-8, not the argument echoed whole.  Across the API, one as_of range
# and one domain of interpolation words, periods and store_ids lists are
# accepted everywhere.
use strict;
use warnings;
use lib 't';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use StoremonNode;

my $started = time;
my $db = 'storemon_test';
my $bound = '10s';    # statement_timeout of every swept call
my @roles = qw(stranger analyst reporting);
my $node = storemon_node('sweep', restart_after_crash => 'on', 'storemon.max_attempts' => 1000,
	'storemon.worker_idle_timeout' => '600s', log_min_error_statement => 'panic',
	log_statement => 'none');
$ENV{PGCLIENTENCODING} = 'UTF8';

# UTF8 databases whatever the locale of the run: "valid UTF-8" must mean something.
$node->safe_psql('postgres', "CREATE DATABASE $_ ENCODING 'UTF8' LOCALE 'C' TEMPLATE template0")
  for ($db, 'shard0');
load_sample($node, $_) for ($db, 'shard0');
my $shard = 'dbname=shard0 host=' . $node->host . ' port=' . $node->port . ' options=-csearch_path=';
$node->safe_psql($db, qq{
	CREATE SCHEMA plproxy;
	CREATE EXTENSION plproxy SCHEMA plproxy;
	CREATE EXTENSION storemon_coordinator;
	CREATE SERVER storemon_shards FOREIGN DATA WRAPPER plproxy OPTIONS (modular_mapping '1', p0 '$shard');
	CREATE USER MAPPING FOR PUBLIC SERVER storemon_shards;
	CREATE EXTENSION pg_cron;
	CREATE ROLE stranger LOGIN;
	CREATE ROLE analyst LOGIN;
	CREATE ROLE reporting LOGIN;
	CREATE ROLE nofeed;
	GRANT USAGE ON SCHEMA cron TO reporting;
	-- the README's multi-server grants for roles that compute directly (and,
	-- as issue 17 asks, USAGE on the coordinator's schema)
	GRANT USAGE ON FOREIGN SERVER storemon_shards TO analyst, reporting;
	GRANT USAGE ON SCHEMA storemon_coordinator TO analyst, reporting;});
# The README's Privileges section, in the coordinator and on the shard.
for my $d ($db, 'shard0')
{
	$node->safe_psql($d, q{
		GRANT SELECT ON storemon.store_status, storemon.menu_hours, storemon.timezones TO reporting, analyst;
		GRANT INSERT (requested_as_of, interpolation), SELECT (id) ON storemon.reports TO reporting;
		GRANT USAGE ON SEQUENCE storemon.reports_seq TO reporting;
		GRANT SELECT ON storemon.reports, storemon.report_rows TO reporting;
		-- queues, but may not read the feed: its reports fail
		GRANT INSERT (requested_as_of, interpolation), SELECT (id) ON storemon.reports TO nofeed;
		GRANT USAGE ON SEQUENCE storemon.reports_seq TO nofeed;});
}

# The harness: a canary that SQL smuggled through an argument would run
# (a sequence for each role: its calls survive the rollback), a UTF-8 check of results,
# the ids of live reports, and the driver that makes one call and says
# what came of it, the texts in hex so every byte arrives as sent.
$node->safe_psql($db, q{
	CREATE SCHEMA sweep;
	GRANT USAGE ON SCHEMA sweep TO PUBLIC;
	CREATE SEQUENCE sweep.canary_stranger;
	CREATE SEQUENCE sweep.canary_analyst;
	CREATE SEQUENCE sweep.canary_reporting;
	SELECT nextval('sweep.canary_stranger'), nextval('sweep.canary_analyst'), nextval('sweep.canary_reporting');
	GRANT USAGE, SELECT ON SEQUENCE sweep.canary_stranger TO stranger;
	GRANT USAGE, SELECT ON SEQUENCE sweep.canary_analyst TO analyst;
	GRANT USAGE, SELECT ON SEQUENCE sweep.canary_reporting TO reporting;
	CREATE FUNCTION sweep.canary() RETURNS bigint LANGUAGE sql AS $$
		SELECT nextval(format('sweep.%I', 'canary_' || current_user)) $$;
	CREATE FUNCTION sweep.canary_count() RETURNS bigint LANGUAGE plpgsql AS $$
	DECLARE
		n bigint;
	BEGIN
		EXECUTE format('SELECT last_value FROM sweep.%I', 'canary_' || current_user) INTO n;
		RETURN n;
	END $$;
	CREATE FUNCTION sweep.utf8_ok(t text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE STRICT AS $$
	BEGIN
		PERFORM convert_from(textsend(t), 'UTF8');
		RETURN true;
	EXCEPTION WHEN OTHERS THEN
		RETURN false;
	END $$;
	CREATE TABLE sweep.ids (name text PRIMARY KEY, id uuid);
	CREATE FUNCTION sweep.id(k text) RETURNS uuid LANGUAGE sql STABLE SECURITY DEFINER
		SET search_path = pg_catalog AS $$ SELECT id FROM sweep.ids WHERE name = k $$;
	CREATE FUNCTION sweep.hello() RETURNS void LANGUAGE plpgsql AS $$
	BEGIN
		RAISE NOTICE 'SWEEP|pid|%', pg_backend_pid();
	END $$;
	CREATE FUNCTION sweep.one(i int, call text) RETURNS void LANGUAGE plpgsql AS $$
	DECLARE
		t0 timestamptz;
		n bigint;
		ok boolean;
		st text := '00000';
		m text := '';
		d text;
		h text;
		c0 bigint;
		c1 bigint;
	BEGIN
		RAISE NOTICE 'SWEEP|start|%', i;
		c0 := sweep.canary_count();
		t0 := clock_timestamp();
		BEGIN
			EXECUTE format('SELECT count(*), coalesce(bool_and(sweep.utf8_ok(r::text)), true) FROM (%s) r', call)
				INTO n, ok;
		EXCEPTION WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, m = MESSAGE_TEXT,
				d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
		END;
		c1 := sweep.canary_count();
		d := coalesce(d, '');
		h := coalesce(h, '');
		-- lengths and validity of the whole texts; the texts themselves cut at 4000 bytes
		RAISE NOTICE 'SWEEP|done|%|%|%|%|%|%|%|%|%|%|%', i, st,
			round(extract(epoch FROM clock_timestamp() - t0) * 1000), coalesce(n, -1),
			coalesce(ok::text, ''), c1 <> c0,
			octet_length(m) + octet_length(d) + octet_length(h),
			sweep.utf8_ok(m) AND sweep.utf8_ok(d) AND sweep.utf8_ok(h),
			encode(substring(textsend(m) FROM 1 FOR 4000), 'hex'),
			encode(substring(textsend(d) FROM 1 FOR 4000), 'hex'),
			encode(substring(textsend(h) FROM 1 FOR 4000), 'hex');
	END $$;});

# Reports in each state: Complete, Failed, one Running (its worker waits
# for report_rows, which another session holds in SHARE mode: reads of the
# tables go on, the worker's INSERT waits) and one Queued behind it.
my $complete = $node->safe_psql($db, 'SELECT storemon.storemon_trigger_report()');
is(wait_status($node, $db, $complete, 'Complete', 'Failed'), 'Complete', 'a Complete report to read');
my $failed = $node->safe_psql($db, q{SET ROLE nofeed; SELECT storemon.storemon_trigger_report()});
is(wait_status($node, $db, $failed, 'Complete', 'Failed'), 'Failed', 'a Failed report to read');
$node->safe_psql($db, "INSERT INTO sweep.ids VALUES ('complete', '$complete'), ('failed', '$failed'),
	('running', NULL), ('queued', NULL)");
my $locker;

# A report Running and its worker waiting on the lock; after a crash, again.
sub hold_a_report
{
	eval { $locker->quit } if $locker;
	$locker = $node->background_psql($db);
	$locker->query_safe('BEGIN; LOCK TABLE storemon.report_rows IN SHARE MODE');
	# Polled until one is; when none is left to claim (the held one completed
	# before the lock), the poll queues one more and answers false.
	$node->poll_query_until($db, q{
		SELECT CASE WHEN EXISTS (SELECT FROM storemon.reports r WHERE r.status = 'Running'
		                         AND storemon_internal.progress(r.id) ~ '^waiting for a lock') THEN true
		            WHEN NOT EXISTS (SELECT FROM storemon.reports WHERE status IN ('Queued', 'Running'))
		            THEN storemon.storemon_trigger_report() IS NULL
		            ELSE false END})
	  or die 'no report could be held Running';
	$node->safe_psql($db, q{
		UPDATE sweep.ids SET id = (SELECT id FROM storemon.reports WHERE status = 'Running' LIMIT 1)
		WHERE name = 'running';
		SELECT storemon.storemon_trigger_report();
		UPDATE sweep.ids SET id = (SELECT id FROM storemon.reports WHERE status = 'Queued'
		                           ORDER BY seq DESC LIMIT 1) WHERE name = 'queued';});
}
$node->safe_psql($db, 'SELECT storemon.storemon_trigger_report()');
hold_a_report();
like($node->safe_psql($db, q{SELECT detail FROM storemon.storemon_get_report(sweep.id('running'))}),
	qr/^waiting for a lock \(relation\)/, 'a report is Running, its worker computing it and waiting on a lock');

my $real = $node->safe_psql($db, 'SELECT min(store_id) FROM storemon.store_status');
my $data_as_of = $node->safe_psql($db, 'SELECT storemon.storemon_default_as_of()');

# Values by type, as SQL expressions with a label each.
my $canary = 'sweep.canary()';
my @text_values = (
	[ 'NULL' => 'NULL' ],
	[ "''" => q{''} ],
	[ "' '" => q{' '} ],
	[ 'a real store id' => "'$real'" ],
	[ "'nearest'" => q{'nearest'} ],
	[ "'previous'" => q{'previous'} ],
	[ "' Previous '" => q{' Previous '} ],
	[ "'NEAREST'" => q{'NEAREST'} ],
	[ "'linear'" => q{'linear'} ],
	[ "E'\\tnearest\\n'" => q{E'\tnearest\n'} ],
	[ "E'nearest\\v'" => q{E'nearest\v'} ],
	[ "'previous' + 7 spaces + '<-- anything'" => q{'previous       <-- anything'} ],
	[ "'nearest' + 7 spaces + 'é' (é at bytes 15-16)" => q{'nearest       é'} ],
	[ "14 'a' + 'é' (é at bytes 15-16)" => q{repeat('a', 14) || 'é'} ],
	[ "15 'a' + 'é' (bytes 16-17)" => q{repeat('a', 15) || 'é'} ],
	[ "13 'a' + '€' (bytes 14-16)" => q{repeat('a', 13) || '€'} ],
	[ "14 'a' + '€' (bytes 15-17)" => q{repeat('a', 14) || '€'} ],
	[ "13 'a' + U+1F600 (bytes 14-17)" => q{repeat('a', 13) || U&'\+01F600'} ],
	[ "39 'a' + 'é' (bytes 40-41)" => q{repeat('a', 39) || 'é'} ],
	[ "40 'a' + 'é' (bytes 41-42)" => q{repeat('a', 40) || 'é'} ],
	[ "41 'a' + 'é' (bytes 42-43)" => q{repeat('a', 41) || 'é'} ],
	[ "39 'a' + '€' (bytes 40-42)" => q{repeat('a', 39) || '€'} ],
	[ "40 'a'" => q{repeat('a', 40)} ],
	[ "41 'a'" => q{repeat('a', 41)} ],
	[ "42 'a'" => q{repeat('a', 42)} ],
	[ "59 'a' + 'é' (cut at 60 characters)" => q{repeat('a', 59) || 'é' || 'tail'} ],
	[ '1024 bytes' => q{repeat('1', 1024)} ],
	[ '1025 bytes' => q{repeat('1', 1025)} ],
	[ "1022 'a' + 'é' (1024 bytes)" => q{repeat('a', 1022) || 'é'} ],
	[ "1023 'a' + 'é' (1025 bytes)" => q{repeat('a', 1023) || 'é'} ],
	[ '10 MB ASCII' => q{repeat('x', 10485760)} ],
	[ "10 MB of 'é'" => q{repeat('é', 5242880)} ],
	[ "E'\\x01'" => q{E'\x01'} ],
	[ "E'nearest\\x01'" => q{E'nearest\x01'} ],
	[ 'ANSI escape' => q{E'\x1b[31mred\x1b[0m'} ],
	[ 'newline and a fake log line' => q{E'x\nERROR:  fake'} ],
	[ "E'\\x7f'" => q{E'\x7f'} ],
	[ 'BOM + nearest' => q{U&'\FEFFnearest'} ],
	[ 'zero-width space + nearest' => q{U&'\200Bnearest'} ],
	[ 'right-to-left override' => q{U&'\202Etsaraen'} ],
	[ 'fullwidth nearest' => q{U&'\FF4E\FF45\FF41\FF52\FF45\FF53\FF54'} ],
	[ 'U+10FFFF' => q{U&'\+10FFFF'} ],
	[ 'combining accent' => q{U&'e\0301'} ],
	[ 'mojibake' => q{'Ã©'} ],
	[ 'text "\\xC3\\x28"' => q{'\xC3\x28'} ],
	[ 'format directives' => q{'%s%n%x%d%%'} ],
	[ 'quote injection' => qq{'x''); SELECT $canary; --'} ],
	[ 'dollar-quote injection' => qq{'\$\$; SELECT $canary; \$\$'} ],
	[ 'identifier injection' => qq{'"; SELECT $canary; --'} ],
	[ 'a bare SELECT' => qq{'SELECT $canary'} ],
	[ 'an expression' => qq{'$canary\:\:text'} ],
	[ 'markup' => q{'<script>alert(1)</script>]]><!--&amp;'} ],
	[ 'Complete' => q{'Complete'} ],
	[ "' failed '" => q{' failed '} ],
	[ 'active' => q{'active'} ],
	[ "'0 * * * *'" => q{'0 * * * *'} ],
	[ 'a stage table name' => q{'storemon_stage_status'} ],
	[ 'a zone' => q{'America/New_York'} ],
	[ 'a feed timestamp' => q{'2023-01-22 12:09:39.388884 UTC'} ]);
my @text_array_values = (
	[ 'NULL' => 'NULL' ],
	[ "'{}'" => q{'{}'} ],
	[ "'{NULL}'" => q{'{NULL}'} ],
	[ q{'{""}'} => q{'{""}'} ],
	[ 'one real store id' => "ARRAY['$real']" ],
	[ 'a real id twice' => "ARRAY['$real', '$real']" ],
	[ 'a real id and NULL' => "ARRAY['$real', NULL]" ],
	[ "14 'a' + 'é'" => q{ARRAY[repeat('a', 14) || 'é']} ],
	[ 'a 1025-byte id' => q{ARRAY[repeat('1', 1025)]} ],
	[ 'a 10 MB id' => q{ARRAY[repeat('x', 10485760)]} ],
	[ '100,000 ids' => q{ARRAY(SELECT 'id' || i FROM generate_series(1, 100000) i)} ],
	[ '2-D' => q{'{{a,b},{c,d}}'} ],
	[ 'lower bound 0' => q{'[0:1]={a,b}'} ],
	[ 'injections' => qq{ARRAY['x''); SELECT $canary; --', 'SELECT $canary']} ],
	[ 'a header' => q{'{store_id,status,timestamp_utc}'} ]);
my @timestamptz_values = (
	[ 'NULL' => 'NULL' ],
	[ 'infinity' => q{'infinity'} ],
	[ '-infinity' => q{'-infinity'} ],
	[ 'the smallest timestamptz' => q{'4714-11-24 00:00:00+00 BC'} ],
	[ 'the largest timestamptz' => q{'294276-12-31 23:59:59.999999+00'} ],
	[ 'the first accepted as_of' => q{'4714-12-08 00:00:00+00 BC'} ],
	[ '1 µs before the first accepted as_of' => q{'4714-12-07 23:59:59.999999+00 BC'} ],
	[ 'the last accepted as_of' => q{'294276-12-18 00:00:00+00'} ],
	[ '1 µs after the last accepted as_of' => q{'294276-12-18 00:00:00.000001+00'} ],
	[ '1970-01-01' => q{'1970-01-01 00:00:00+00'} ],
	[ '2000-01-01 (0 inside)' => q{'2000-01-01 00:00:00+00'} ],
	[ 'the latest poll' => "'$data_as_of'" ],
	[ 'a year after the latest poll' => "'$data_as_of'::timestamptz + interval '1 year'" ],
	[ 'a spring DST change' => q{'2023-03-12 07:00:00+00'} ]);
my @interval_values = (
	[ 'NULL' => 'NULL' ],
	[ '0' => q{'0'} ],
	[ '-1 day' => q{'-1 day'} ],
	[ '-1 µs' => q{'-00:00:00.000001'} ],
	[ '1 µs' => q{'00:00:00.000001'} ],
	[ '1 hour' => q{'1 hour'} ],
	[ '7 days' => q{'7 days'} ],
	[ '1 month' => q{'1 mon'} ],
	[ '-1 month 30 days' => q{'-1 mon 30 days'} ],
	[ '1 day -24 hours' => q{'1 day -24 hours'} ],
	[ '3660 days' => q{'3660 days'} ],
	[ '3660 days + 1 µs' => q{'3660 days 00:00:00.000001'} ],
	[ '2147483647 days' => q{'2147483647 days'} ],
	[ '-2147483648 days' => q{'-2147483648 days'} ],
	[ '178000000 years' => q{'178000000 years'} ],
	[ '2562047788 hours' => q{'2562047788 hours'} ]);
my @uuid_values = (
	[ 'NULL' => 'NULL' ],
	[ 'nil uuid' => q{'00000000-0000-0000-0000-000000000000'} ],
	[ 'all-ones uuid' => q{'ffffffff-ffff-ffff-ffff-ffffffffffff'} ],
	[ 'a random uuid' => q{gen_random_uuid()} ],
	[ 'the Complete report' => q{sweep.id('complete')} ],
	[ 'the Failed report' => q{sweep.id('failed')} ],
	[ 'the Running report' => q{sweep.id('running')} ],
	[ 'a Queued report' => q{sweep.id('queued')} ]);
my @bool_values = ([ 'NULL' => 'NULL' ], [ 'true' => 'true' ], [ 'false' => 'false' ]);
my @int_values = ([ 'NULL' => 'NULL' ], [ '0' => '0' ], [ '-1' => '-1' ], [ '1' => '1' ],
	[ 'max' => '2147483647' ], [ 'min' => '(-2147483648)' ]);
my @bigint_values = ([ 'NULL' => 'NULL' ], [ '0' => '0' ], [ '-1' => '-1' ], [ '1' => '1' ],
	[ 'max' => '9223372036854775807' ], [ 'min' => '(-9223372036854775808)' ]);
my %values_of = (
	'text' => \@text_values,
	'text[]' => \@text_array_values,
	'timestamp with time zone' => \@timestamptz_values,
	'interval' => \@interval_values,
	'uuid' => \@uuid_values,
	'boolean' => \@bool_values,
	'integer' => \@int_values,
	'bigint' => \@bigint_values);

# A valid value for an argument without a default: by its name, else its type.
my %valid_by_name = (
	report_id => q{sweep.id('complete')},
	older_than => q{'100 years'},
	store_id => "'$real'",
	shards => '1',
	new_rows => '0',
	v => q{'2023-01-22 12:09:39.388884 UTC'},
	status => q{'active'},
	file => q{'sweep.csv'},
	stage => q{'storemon_stage_status'},
	header => q{'{store_id,status,timestamp_utc}'},
	accepted => q{'{store_id}'},
	problem_sql => q{'NULL'},
	insert_sql => q{'SELECT 1'},
	casts => q{'{}'},
	col => q{'c1'},
	colname => q{'store_id'},
	typ => q{'text'},
	target => q{'menu_hours'},
	allow_empty => 'false',
	defs => 'NULL',
	as_of => "'$data_as_of'",
	interpolation => q{'nearest'},
	store_ids => "ARRAY['$real']");
my %valid_by_type = (
	'text' => q{'x'},
	'text[]' => q{'{}'},
	'timestamp with time zone' => "'$data_as_of'",
	'interval' => q{'7 days'},
	'uuid' => q{sweep.id('complete')},
	'boolean' => 'false',
	'integer' => '0',
	'bigint' => '0');

# The functions, from the catalog.
my @functions;
for my $row (split /\n/, $node->safe_psql($db, q{
	SELECT p.oid, n.nspname, p.proname, p.pronargs, p.pronargdefaults,
	       coalesce(array_to_string(p.proargnames, ','), ''), coalesce(array_to_string(p.proargmodes, ','), ''),
	       (SELECT coalesce(string_agg(format_type(t, NULL), ',' ORDER BY o), '')
	        FROM unnest(p.proargtypes) WITH ORDINALITY u (t, o))
	FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
	WHERE n.nspname IN ('storemon', 'storemon_internal', 'storemon_coordinator')
	  AND p.prokind = 'f'
	  AND p.prorettype NOT IN ('trigger'::regtype, 'event_trigger'::regtype)
	  AND has_function_privilege('public', p.oid, 'EXECUTE')
	ORDER BY n.nspname, p.proname, p.oid}))
{
	my ($oid, $schema, $name, $nargs, $ndefaults, $names, $modes, $types) = split /\|/, $row, -1;
	my @all_names = split /,/, $names, -1;
	my @modes = split /,/, $modes, -1;
	my @in_names = @modes ? @all_names[grep { $modes[$_] =~ /^[ibv]$/ } 0 .. $#modes] : @all_names;
	my @types = split /,/, $types;
	my @args = map {
		{ name => $in_names[$_] // '', type => $types[$_], has_default => $_ >= $nargs - $ndefaults }
	} 0 .. $nargs - 1;
	push @functions, { oid => $oid, schema => $schema, name => $name, args => \@args,
		sig => "$schema.$name(" . join(', ', map { $_->{type} } @args) . ')' };
}
cmp_ok(scalar(@functions), '>=', 30, scalar(@functions) . ' functions PUBLIC may execute, from the catalog');

# The calls of one function: the valid call, each argument swept, every argument NULL.
sub call_sql
{
	my ($f, %given) = @_;
	my @parts;
	for my $a (@{ $f->{args} })
	{
		my $v = $given{ $a->{name} };
		next if !defined $v && $a->{has_default};
		$v //= $valid_by_name{ $a->{name} } // $valid_by_type{ $a->{type} }
		  // die "no valid value for $a->{name} $a->{type}";
		push @parts, ($a->{name} ne '' ? "$a->{name} => " : '') . "($v)::$a->{type}";
	}
	return "SELECT * FROM $f->{schema}.$f->{name}(" . join(', ', @parts) . ')';
}

sub calls_of
{
	my ($f) = @_;
	my (@calls, %seen);
	my $add = sub {
		my ($arg, $label, $sql) = @_;
		push @calls, { arg => $arg, value => $label, sql => $sql } unless $seen{$sql}++;
	};
	$add->('', 'valid', call_sql($f));
	for my $a (@{ $f->{args} })
	{
		my $set = $values_of{ $a->{type} } or die "no values for type $a->{type}";
		$add->($a->{name}, $_->[0], call_sql($f, $a->{name} => $_->[1])) for @$set;
	}
	$add->('all', 'NULL', call_sql($f, map { $_->{name} => 'NULL' } @{ $f->{args} })) if @{ $f->{args} };
	return @calls;
}

# What a role's session needs before its calls: the loader's staging tables.
my $preamble = <<'EOF';
\set SHOW_CONTEXT never
SET client_min_messages = notice;
CREATE TEMP TABLE storemon_stage_status (line bigint, c1 text, c2 text, c3 text);
INSERT INTO storemon_stage_status VALUES (2, 'sweep-store', 'active', '2023-01-25 17:00:00 UTC');
CREATE TEMP TABLE storemon_stage_hours (line bigint, c1 text, c2 text, c3 text, c4 text);
INSERT INTO storemon_stage_hours VALUES (2, 'sweep-store', '0', '09:00', '17:00');
CREATE TEMP TABLE storemon_stage_zones (line bigint, c1 text, c2 text);
INSERT INTO storemon_stage_zones VALUES (2, 'sweep-store', 'America/New_York');
EOF

# The psql script of $role's calls $from .. the last.
sub batch
{
	my ($role, $calls, $from) = @_;
	my $script = $preamble . "SET statement_timeout = '$bound';\nSELECT sweep.hello();\n";
	$script .= "SELECT sweep.one($_, \$sweep_call\$$calls->[$_]{sql}\$sweep_call\$);\n" for $from .. $#$calls;
	my $file = "${PostgreSQL::Test::Utils::tmp_check}/sweep_$role.sql";
	open my $fh, '>', $file or die "$file: $!";
	print $fh $script;
	close $fh;
	return { role => $role, from => $from, file => $file, out => '', err => '' };
}

# Run the batches side by side (one harness, so no session waits on a full pipe).
sub run_batches
{
	my @spec;
	for my $b (@_)
	{
		push @spec, '&' if @spec;
		push @spec, [ 'psql', '-X', '-q', '-At', '-h', $node->host, '-p', $node->port,
			'-U', $b->{role}, '-d', $db, '-f', $b->{file} ], '<', '/dev/null', '>', \$b->{out}, '2>', \$b->{err};
	}
	IPC::Run::run(@spec);
	return;
}

# Parse a finished batch into $results->[$i]; return the index of the call
# that was running when the session was lost (undef if none was).
sub parse_batch
{
	my ($b, $calls, $results) = @_;
	my ($pid, $current, %extra);
	for my $line (split /\n/, $b->{err})
	{
		if ($line =~ /NOTICE:\s+SWEEP\|pid\|(\d+)/)
		{
			$pid = $1;
		}
		elsif ($line =~ /NOTICE:\s+SWEEP\|start\|(\d+)/)
		{
			$current = $1;
		}
		elsif ($line =~ /NOTICE:\s+SWEEP\|done\|(\d+)\|(\w*)\|(\d+)\|(-?\d+)\|(\w*)\|(\w+)\|(\d+)\|(\w+)\|(\w*)\|(\w*)\|(\w*)/)
		{
			$results->[$1] = { state => $2, ms => $3, rows => $4, output_utf8 => $5, canary => $6 eq 't',
				length => $7, texts_utf8 => $8 eq 't',
				message => pack('H*', $9), detail => pack('H*', $10), hint => pack('H*', $11),
				extra => $extra{$1} // '' };
			undef $current;
		}
		elsif (defined $current)
		{
			$extra{$current} .= "$line\n";
			if ($line =~ /canceling statement due to statement timeout/)
			{
				$results->[$current] = { state => 'timeout', message => $line, extra => '' };
				undef $current;
			}
		}
	}
	$b->{pid} = $pid;
	for my $i ($b->{from} .. $#$calls)
	{
		return $i unless defined $results->[$i];
	}
	return undef;
}

# The server as a control session sees it: its start time, and whether
# the session it opened at the start is still the same backend.
my $control = $node->background_psql('postgres', on_error_stop => 0, timeout => 10);
$control->set_query_timer_restart();
my $control_backend = $control->query('SELECT pg_backend_pid()');
my $postmaster_start = $node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()');
my $log_offset = -s $node->logfile;

sub server_unchanged
{
	my $now = eval { $node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()') } // '';
	my $backend = eval { $control->query('SELECT pg_backend_pid()') } // '';
	return $now eq $postmaster_start && $backend eq $control_backend;
}

sub reopen_control
{
	eval { $control->quit };
	$control = $node->background_psql('postgres', on_error_stop => 0, timeout => 10);
	$control->set_query_timer_restart();
	$control_backend = $control->query('SELECT pg_backend_pid()');
	$postmaster_start = $node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()');
}

# Which server processes were killed by a signal since the last look.
sub crashed_pids
{
	my $log = slurp_file($node->logfile, $log_offset);
	$log_offset = -s $node->logfile;
	my %pids;
	$pids{$1} = $2 while $log =~ /server process \(PID (\d+)\) was terminated by signal (\d+)/g;
	return %pids;
}

# Sweep one function as every role at once; results per role.
my %outcome;    # "$sig\0$role" => [results]
my (%crashes, $sessions_lost);

sub sweep_function
{
	my ($f) = @_;
	my @calls = calls_of($f);
	my %res = map { $_ => [] } @roles;
	my %from = map { $_ => 0 } @roles;
	my %retried;
	my $rounds = 0;
	while (%from)
	{
		# a server that keeps resetting under us: give up on the calls in flight
		my $giving_up = ++$rounds > 20;
		my @batches = map { batch($_, \@calls, $from{$_}) } sort keys %from;
		run_batches(@batches);
		my %lost;
		for my $b (@batches)
		{
			my $stop = parse_batch($b, \@calls, $res{ $b->{role} });
			if (defined $stop) { $lost{ $b->{role} } = [ $stop, $b ] }
			else { delete $from{ $b->{role} } }
		}
		last unless %lost;
		# A session was lost: wait for the server, see whose call crashed it.
		$node->poll_query_until('postgres', 'SELECT true') or die 'the server did not come back';
		my %killed = crashed_pids();
		for my $role (keys %lost)
		{
			my ($i, $b) = @{ $lost{$role} };
			if (defined $b->{pid} && $killed{ $b->{pid} })
			{
				$res{$role}[$i] = { state => 'crash', message => "terminated by signal $killed{$b->{pid}}",
					extra => '' };
				$from{$role} = $i + 1;
			}
			elsif ($giving_up || (!%killed && $retried{"$role $i"}++))
			{
				$res{$role}[$i] = { state => 'lost', message => 'the session was lost: ' . substr($b->{err}, -300),
					extra => '' };
				$from{$role} = $i + 1;
			}
			else
			{
				$from{$role} = $i;    # lost because another session crashed the server: again
			}
			$sessions_lost++;
		}
		delete $from{$_} for grep { $from{$_} > $#calls } keys %from;
		hold_a_report();
		reopen_control();
	}
	$outcome{"$f->{sig}\0$_"} = { calls => \@calls, results => $res{$_} } for @roles;
	return;
}

# UTF-8 as the server accepts it (RFC 3629): well-formed, no surrogates,
# nothing past U+10FFFF, no overlong forms.
sub valid_utf8
{
	my ($s) = @_;
	return 0 unless utf8::decode(my $copy = $s);
	return $s !~ /[\xC0\xC1\xF5-\xFF]|\xE0[\x80-\x9F]|\xED[\xA0-\xBF]|\xF0[\x80-\x8F]|\xF4[\x90-\xBF]/;
}

# A text for a report line: valid UTF-8 as it is, other bytes and controls as \xNN.
sub shown
{
	my ($s, $max) = @_;
	if (length($s) > $max)
	{
		# cut at a character boundary
		$s = substr($s, 0, $max);
		$s =~ s/(?:[\xC0-\xF7][\x80-\xBF]*)\z// unless valid_utf8($s);
		$s .= '...';
	}
	$s =~ s/([\x00-\x1f\x7f])/sprintf('\\x%02x', ord $1)/ge;
	return $s if valid_utf8($s);
	$s =~ s/([\x80-\xff])/sprintf('\\x%02x', ord $1)/ge;
	return $s;
}

# Why an error is not clean (empty: it is).
my @internal_text = (
	qr/cache lookup failed/i, qr/invalid memory alloc request size/i, qr/unrecognized/i,
	qr/could not/i, qr/unexpected/i, qr/null value in column/i, qr/violates (not-null|check|foreign key|unique)/i,
	qr/\bSPI\b|SPI_/, qr/syntax error/i, qr/query string argument of EXECUTE/i,
	qr/(column|relation|function|operator|type|schema) .*does not exist/i,
	qr/division by zero/i, qr/out of range/i, qr/PL\/pgSQL|plpgsql/i, qr/Hash function returned/i,
	qr/array subscript|wrong number of array subscripts|FOREACH/i, qr/corrupt|palloc|pfree|elog/i,
	qr/\bmalformed\b/i, qr/cannot (cast|EXECUTE)/i, qr/invalid input syntax/i);
my @clean_raw = (qr/^storemon: .* is out of range$/, qr/^storemon: as_of .* is out of the range/,
	qr/^storemon: .*period .* (is out of range|reaches back)/);

sub unclean
{
	my ($r) = @_;
	return ('crash') if $r->{state} eq 'crash';
	return ('timeout') if $r->{state} eq 'timeout';
	return ('session lost') if $r->{state} eq 'lost';
	my @why;
	push @why, 'SQL smuggled in an argument ran (canary)' if $r->{canary};
	push @why, 'a result holds invalid UTF-8' if ($r->{output_utf8} // '') eq 'false';
	push @why, 'invalid UTF-8 in the error' unless $r->{texts_utf8};
	push @why, 'invalid UTF-8 in a notice' unless valid_utf8($r->{extra});
	push @why, 'a notice echoes the argument: ' . length($r->{extra}) . ' bytes' if length($r->{extra}) > 4000;
	return @why if $r->{state} eq '00000';
	push @why, "internal SQLSTATE $r->{state}" if $r->{state} =~ /^(XX|58)/;
	push @why, "the error echoes the argument: $r->{length} bytes" if $r->{length} > 2000;
	my $text = join("\n", $r->{message}, $r->{detail}, $r->{hint});
	unless (grep { $r->{message} =~ $_ } @clean_raw)
	{
		for my $re (@internal_text)
		{
			if ($text =~ $re)
			{
				push @why, 'raw internal text';
				last;
			}
		}
	}
	return @why;
}

my @timing;
for my $f (@functions)
{
	my $t0 = time;
	sweep_function($f);
	push @timing, sprintf('%6.1f s %s (%d calls a role)', time - $t0, $f->{sig},
		scalar(@{ $outcome{"$f->{sig}\0$roles[0]"}{calls} }));
	# The server is the one we started with, and its control session is alive.
	my $same = server_unchanged();
	if (!$same)
	{
		push @{ $crashes{ $f->{sig} } }, 'the server restarted or the control session was lost';
		reopen_control();
	}
}
my $sweep_seconds = time - $started;

# Tally and judge, per function.
my %count = (clean => 0, success => 0, unclean => 0, crash => 0, timeout => 0);
my $ncalls = 0;
my $nvalues = 0;
my (@failure_lines, %failed_calls);
for my $f (@functions)
{
	my %groups;
	for my $role (@roles)
	{
		my $o = $outcome{"$f->{sig}\0$role"};
		for my $i (0 .. $#{ $o->{calls} })
		{
			my ($c, $r) = ($o->{calls}[$i], $o->{results}[$i]);
			$ncalls++;
			my @why = unclean($r);
			if ($r->{state} eq 'crash') { $count{crash}++ }
			elsif ($r->{state} eq 'timeout') { $count{timeout}++ }
			elsif (@why) { $count{unclean}++ }
			elsif ($r->{state} eq '00000') { $count{success}++ }
			else { $count{clean}++ }
			next unless @why;
			$failed_calls{ $f->{sig} }++;
			# one line per argument and kind of message: quoted values and ids folded
			(my $kind = shown($r->{message}, 160)) =~ s/"[^"]*"|'[^']*'|\b[0-9a-f]{8}-[0-9a-f-]{27}\b/…/g;
			(my $why = join('; ', @why)) =~ s/\d+ bytes/N bytes/g;
			my $key = "$c->{arg}\0$why [$r->{state}] $kind";
			push @{ $groups{$key}{values}{ $c->{value} } }, $role;
			$groups{$key}{example} //= shown($r->{message}, 200);
		}
	}
	my @lines;
	for my $key (sort keys %groups)
	{
		my ($arg, $what) = split /\0/, $key;
		my $v = $groups{$key}{values};
		my @labels = sort keys %$v;
		my $vals = join(', ', map { "$_ [" . join('/', @{ $v->{$_} }) . ']' } @labels[0 .. ($#labels < 5 ? $#labels : 5)]);
		$vals .= sprintf(' and %d more values', @labels - 6) if @labels > 6;
		push @lines, "$f->{sig}: " . ($arg eq '' ? 'the valid call' : $arg eq 'all' ? 'every argument NULL' : "$arg = $vals")
		  . ": $what" . ($what =~ /…|N bytes/ ? "\n    e.g. $groups{$key}{example}" : '');
	}
	push @lines, map { "$f->{sig}: $_" } @{ $crashes{ $f->{sig} } // [] };
	push @failure_lines, @lines;
	ok(!@lines, "$f->{sig} survives every argument, every error clean") or diag(join("\n", @lines));
}
$nvalues += scalar(@{ $outcome{"$_->{sig}\0$roles[0]"}{calls} }) for @functions;
# For the record, not judged: what a role without grants may call and get an answer from.
my @open_to_all = map { $_->{sig} } grep { ($outcome{"$_->{sig}\0stranger"}{results}[0]{state} // '') eq '00000' } @functions;
note("a role without grants gets an answer from: $_") for @open_to_all;

# One as_of range, one argument domain: a value accepted by one function
# taking that argument is accepted by all of them, as the reporting role
# (who may do everything these functions need), among the functions whose
# valid call succeeds for it.
for my $arg (qw(as_of interpolation period store_ids))
{
	my (%accepted, %refused, @excluded, @compared);
	for my $f (grep { grep { $_->{name} eq $arg } @{ $_->{args} } } @functions)
	{
		my $o = $outcome{"$f->{sig}\0reporting"};
		if (($o->{results}[0]{state} // '') ne '00000')
		{
			push @excluded, "$f->{sig} (its valid call fails: $o->{results}[0]{message})";
			next;
		}
		push @compared, $f->{sig};
		for my $i (grep { $o->{calls}[$_]{arg} eq $arg } 0 .. $#{ $o->{calls} })
		{
			my ($c, $r) = ($o->{calls}[$i], $o->{results}[$i]);
			if ($r->{state} eq '00000') { push @{ $accepted{ $c->{value} } }, $f->{sig} }
			else
			{
				push @{ $refused{ $c->{value} } }, "$f->{sig} (" . shown($r->{message}, 120) . ')';
			}
		}
	}
	my @split = map { "$arg = $_: accepted by " . join(', ', @{ $accepted{$_} })
		  . '; refused by ' . join(', ', @{ $refused{$_} }) }
	  grep { $accepted{$_} && $refused{$_} } sort keys %{ { %accepted, %refused } };
	push @failure_lines, @split;
	ok(!@split, "one domain of $arg accepted everywhere (" . scalar(@compared) . ' functions compared)')
	  or diag(join("\n", @split));
	note("$arg: not compared: $_") for @excluded;
}

# Helpers PUBLIC may execute that neither the API's bodies, the tables'
# constraints nor the C code (server or loader) call.
my $bodies = $node->safe_psql($db, q{
	SELECT string_agg(p.prosrc, ' ') FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
	WHERE n.nspname IN ('storemon', 'storemon_coordinator') AND has_function_privilege('public', p.oid, 'EXECUTE')});
my $constraints = $node->safe_psql($db, q{
	SELECT string_agg(DISTINCT d.refobjid::regproc::text, ' ') FROM pg_depend d
	JOIN pg_constraint c ON d.classid = 'pg_constraint'::regclass AND d.objid = c.oid
	WHERE d.refclassid = 'pg_proc'::regclass});
my $c_code = join(' ', map { slurp_file($_) } glob('src/*.c src/client/*.c'));
my %needed;
my $callers = "$bodies $constraints $c_code";
$needed{$1} = 1 while $callers =~ /storemon_internal\.(\w+)/g;
# and what those helpers call in turn
my $more = 1;
while ($more)
{
	$more = 0;
	for my $name (keys %needed)
	{
		my $src = $node->safe_psql($db, "SELECT string_agg(prosrc, ' ') FROM pg_proc
			WHERE pronamespace = 'storemon_internal'::regnamespace AND proname = '$name'");
		while ($src =~ /storemon_internal\.(\w+)/g) { $more = 1 unless $needed{$1}++ }
	}
}
my @unneeded = map { $_->{sig} } grep { $_->{schema} eq 'storemon_internal' && !$needed{ $_->{name} } } @functions;
push @failure_lines, map { "$_: PUBLIC may execute it, and nothing storemon ships calls it" } @unneeded;
ok(!@unneeded, 'PUBLIC may execute no internal helper the API does not call') or diag(join("\n", @unneeded));

# The report stayed Running through the sweep.
like($node->safe_psql($db, q{SELECT detail FROM storemon.storemon_get_report(sweep.id('running'))}),
	qr/^waiting for a lock/, 'the report was still Running at the end of the sweep');

# What the sweep queued (every request the reporting role's calls were
# allowed to make) the worker now serves: each ends Complete, or Failed
# with a clean error.
$locker->query_safe('COMMIT');
my $queued = $node->safe_psql($db, q{SELECT count(*) FROM storemon.reports WHERE requested_by = 'reporting'});
$node->poll_query_until($db, q{SELECT count(*) = 0 FROM storemon.reports WHERE status IN ('Queued', 'Running')});
my @served;
for my $row (split /\n/, $node->safe_psql($db, q{
	SELECT status, coalesce(requested_as_of::text, 'NULL'), encode(textsend(interpolation), 'hex'),
	       sweep.utf8_ok(coalesce(error, '')), octet_length(coalesce(error, '')),
	       encode(substring(textsend(coalesce(error, '')) FROM 1 FOR 4000), 'hex')
	FROM storemon.reports WHERE requested_by = 'reporting' ORDER BY seq}))
{
	my ($status, $as_of, $mode, $utf8, $length, $error) = split /\|/, $row, -1;
	my %r = (state => $status eq 'Failed' ? 'P0001' : '00000', texts_utf8 => $utf8 eq 't',
		length => $length, message => pack('H*', $error), detail => '', hint => '', extra => '');
	my @why = ($status =~ /^(Complete|Failed)$/ ? () : ("still $status")), unclean(\%r);
	push @served, "queued report (as_of $as_of, interpolation " . shown(pack('H*', $mode), 60) . "): $status: "
	  . join('; ', @why) . ': ' . shown($r{message}, 200) if @why;
}
push @failure_lines, @served;
ok(!@served, "the $queued requests the sweep queued are each Complete or Failed with a clean error")
  or diag(join("\n", @served));

# Nothing crashed, worker included.
my $log = slurp_file($node->logfile);
ok($log !~ /terminated by signal/, 'no server process was terminated by a signal')
  or diag(join("\n", $log =~ /^.*terminated by signal.*$/mg));

my $summary = sprintf('sweep: %d functions x %d argument values x %d roles = %d calls: %d clean errors, '
	  . '%d successes, %d unclean errors, %d crashes, %d timeouts (bound %s), %d sessions lost; %.0f s',
	scalar(@functions), $nvalues, scalar(@roles), $ncalls, $count{clean}, $count{success},
	$count{unclean}, $count{crash}, $count{timeout}, $bound, $sessions_lost // 0, $sweep_seconds);
diag($summary);
if ($ENV{SWEEP_REPORT})
{
	open my $fh, '>', $ENV{SWEEP_REPORT} or die "$ENV{SWEEP_REPORT}: $!";
	print $fh "$summary\n", map { "$_\n" } @failure_lines;
	print $fh "\na role without grants gets an answer from:\n", map { "$_\n" } @open_to_all;
	print $fh "\ncalls that failed, per function (all roles):\n",
	  map { "$failed_calls{$_} $_\n" } sort keys %failed_calls;
	print $fh "\ntime per function:\n", map { "$_\n" } @timing;
	my @slow;
	for my $key (keys %outcome)
	{
		my ($sig, $role) = split /\0/, $key;
		my $o = $outcome{$key};
		push @slow, map { [ $o->{results}[$_]{ms} // 0, "$sig $o->{calls}[$_]{arg} = $o->{calls}[$_]{value} ($role)" ] }
		  0 .. $#{ $o->{calls} };
	}
	@slow = sort { $b->[0] <=> $a->[0] } @slow;
	print $fh "\nslowest calls:\n", map { "$_->[0] ms $_->[1]\n" } @slow[0 .. 40];
	close $fh;
}

eval { $locker->quit };
eval { $control->quit };
$node->stop;
done_testing();
