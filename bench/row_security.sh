#!/usr/bin/env bash
# bench/row_security.sh — what row security costs the report, on the
# Loop-scale feed at one as_of: SELECT count(*) FROM storemon_compute(T)
#   a) as the tables' owner (no policy applies to it)
#   b) as a role under a policy USING (true) on the three feed tables
#   c) as a role under a per-chain policy on the three tables, a subquery on
#      an owners table (primary key, ANALYZEd) that maps every store to one
#      of ten chains; the role's chain is 10 % of the stores
#   i) c with an index on the owners table's (role, store_id) as well: the
#      policy's subquery runs once per query of a hundred stores, so without
#      it each such query scans the whole owners table (twice)
# alternating, BENCH_REPS times, in one session (SET ROLE), after one
# untimed run of each; medians and b/a, c/a, i/a.  Checked first: b's
# report equals a's, c's and i's equal a's rows of the chain's stores.  The policies, the
# roles and the owners table are removed at the end.
. "$(dirname "$0")/lib.sh"
suite_begin row_security "the report as the owner, under a policy USING (true), under a per-chain policy" row_security
need_feed

feed="storemon.store_status storemon.menu_hours storemon.timezones"
feed_list=${feed// /, }
# Removed on every exit, also from a setup that failed half-way (errors ignored).
teardown() {
	{
		for t in $feed; do
			echo "DROP POLICY IF EXISTS bench_all_rows ON $t; DROP POLICY IF EXISTS bench_chain_rows ON $t;"
			echo "DROP POLICY IF EXISTS bench_indexed_rows ON $t; ALTER TABLE $t DISABLE ROW LEVEL SECURITY;"
		done
		echo "DROP TABLE IF EXISTS public.owners, public.owners_by_role;"
		for r in bench_all bench_chain bench_indexed; do
			echo "REVOKE ALL ON $feed_list FROM $r; REVOKE ALL ON SCHEMA bench FROM $r; DROP ROLE IF EXISTS $r;"
		done
	} | psql -Xq -d bench >/dev/null 2>&1
}
trap 'teardown; cluster_cleanup' EXIT
teardown
{
	echo "CREATE ROLE bench_all NOLOGIN; CREATE ROLE bench_chain NOLOGIN; CREATE ROLE bench_indexed NOLOGIN;"
	echo "GRANT USAGE ON SCHEMA bench TO bench_all, bench_chain, bench_indexed;"
	echo "CREATE TABLE public.owners (store_id text COLLATE \"C\" PRIMARY KEY, role name NOT NULL);"
	# every tenth store of the feed, in id order, is the chain's
	echo "INSERT INTO public.owners SELECT store_id, CASE WHEN n % 10 = 0 THEN 'bench_chain' ELSE 'chain' || n % 10 END
	      FROM (SELECT store_id, row_number() OVER (ORDER BY store_id) AS n FROM (SELECT DISTINCT store_id FROM storemon.store_status) s) x;"
	echo "INSERT INTO public.owners SELECT DISTINCT store_id, 'chain_other' FROM (SELECT store_id FROM storemon.menu_hours UNION SELECT store_id FROM storemon.timezones) s
	      WHERE store_id NOT IN (SELECT store_id FROM public.owners);"
	echo "ANALYZE public.owners;"
	echo "GRANT SELECT ON public.owners TO bench_chain;"
	# the same owners, the chain's stores bench_indexed's, with the index on role
	echo "CREATE TABLE public.owners_by_role (store_id text COLLATE \"C\" PRIMARY KEY, role name NOT NULL);"
	echo "INSERT INTO public.owners_by_role SELECT store_id, CASE role WHEN 'bench_chain' THEN 'bench_indexed' ELSE role END FROM public.owners;"
	echo "CREATE INDEX ON public.owners_by_role (role, store_id); ANALYZE public.owners_by_role;"
	echo "GRANT SELECT ON public.owners_by_role TO bench_indexed;"
	for t in $feed; do
		echo "GRANT SELECT ON $t TO bench_all, bench_chain, bench_indexed;"
		echo "ALTER TABLE $t ENABLE ROW LEVEL SECURITY;"
		echo "CREATE POLICY bench_all_rows ON $t FOR SELECT TO bench_all USING (true);"
		echo "CREATE POLICY bench_chain_rows ON $t FOR SELECT TO bench_chain
		      USING (store_id IN (SELECT o.store_id FROM public.owners o WHERE o.role = current_user));"
		echo "CREATE POLICY bench_indexed_rows ON $t FOR SELECT TO bench_indexed
		      USING (store_id IN (SELECT o.store_id FROM public.owners_by_role o WHERE o.role = current_user));"
	done
} | q -d bench

# Each report as a row hash: ROLE ('' for the owner) [WHERE ...]
report_md5() {
	q -d bench -c "SET ROLE ${1:-NONE}" -c "SELECT count(*) || ' rows, ' || md5(coalesce(string_agg(c::text, ',' ORDER BY c.store_id), '')) FROM storemon_compute('$T') c ${2:-}"
}
owner_all=$(report_md5 "") owner_chain=$(report_md5 "" "WHERE c.store_id IN (SELECT store_id FROM public.owners WHERE role = 'bench_chain')")
all=$(report_md5 bench_all) chain=$(report_md5 bench_chain) indexed=$(report_md5 bench_indexed)
visible=$(q -d bench -c "SET ROLE bench_chain" -c "SELECT count(DISTINCT store_id) FROM storemon.store_status")
say "check: under USING (true) the report equals the owner's: $([ "$all" = "$owner_all" ] && echo yes || echo NO) (${all%%,*})"
say "check: under the per-chain policy it equals the owner's rows of the chain's stores: $([ "$chain" = "$owner_chain" ] && echo yes || echo NO) (${chain%%,*}; the role may SELECT the polls of $visible stores)"
say "check: with the index on role as well: $([ "$indexed" = "$owner_chain" ] && echo yes || echo NO)"
if [ "$all" != "$owner_all" ] || [ "$chain" != "$owner_chain" ] || [ "$indexed" != "$owner_chain" ]; then
	say "bench: a report under row security differs from the owner's"
	exit 1
fi

{
	echo "DELETE FROM bench.timings WHERE point = 'rls';"
	for who in "" bench_all bench_chain bench_indexed; do
		echo "${who:+SET ROLE $who;} SELECT count(*) FROM storemon_compute('$T'); RESET ROLE;" # warm-up, not timed
	done
	for rep in $(seq 1 "$reps"); do
		for who in owner: all:bench_all chain:bench_chain indexed:bench_indexed; do
			role=${who#*:}
			echo "${role:+SET ROLE $role;}"
			echo "SELECT bench.time_ms(\$q\$SELECT count(*) FROM storemon_compute('$T')\$q\$) AS ms \\gset"
			echo "RESET ROLE;"
			echo "INSERT INTO bench.timings VALUES ('rls', '${who%%:*}', $rep, :ms);"
		done
	done
} | q -d bench >/dev/null
a=$(median bench rls owner) b=$(median bench rls all) c=$(median bench rls chain) i=$(median bench rls indexed)
say "a) the tables' owner, no policy applies         $a ms"
say "b) a role under USING (true) on the three tables $b ms, b/a = $(calc "$b / $a")"
say "c) a role under the per-chain policy (10 %)      $c ms, c/a = $(calc "$c / $a")"
say "i) c with an index on owners (role, store_id)    $i ms, i/a = $(calc "$i / $a")"
