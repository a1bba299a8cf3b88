#!/usr/bin/env bash
# bench/windows.sh — the answers after the report (1.1), on the Loop-scale feed
# at the report's as_of, serial (storemon.parallel_workers = 0), alternating,
# BENCH_REPS times: every store's outages and windows (7 and 30 days) against
# the serial report, one store by store_ids (a different store each
# time, 20 per repetition), and every store of the feed by store_ids (one
# index descent per store, against the report's one walk).
. "$(dirname "$0")/lib.sh"
suite_begin windows "the 1.1 functions against the serial report"
need_feed

{
	echo "DELETE FROM bench.timings WHERE point = 'windows';"
	echo "SET storemon.parallel_workers = 0;"
	echo "DROP TABLE IF EXISTS bench.all_ids; CREATE TABLE bench.all_ids AS SELECT array_agg(DISTINCT store_id) AS ids FROM storemon.store_status;"
	for rep in $(seq 1 "$reps"); do
		for what in "as:storemon_compute(\$T\$)" "o:storemon_outages(\$T\$)" "w:storemon_window(\$T\$)" \
			"w30:storemon_window(\$T\$, period => '30 days')" \
			"sall:storemon_compute(\$T\$, store_ids => (SELECT ids FROM bench.all_ids))"; do
			echo "INSERT INTO bench.timings SELECT 'windows', '${what%%:*}', $rep, bench.time_ms(replace(\$q\$SELECT count(*) FROM ${what#*:}\$q\$, '\$T\$', quote_literal('$T')));"
		done
		echo "INSERT INTO bench.timings SELECT 'windows', 's', $rep * 100 + n, bench.time_ms(format('SELECT count(*) FROM storemon_compute(%L, store_ids => ARRAY[%L])', '$T', id))
		      FROM (SELECT row_number() OVER () AS n, store_id AS id FROM (SELECT DISTINCT store_id FROM storemon.store_status ORDER BY 1 OFFSET $rep * 500 LIMIT 20) x) y;"
	done
} | q -d bench >/dev/null
as=$(median bench windows as) o=$(median bench windows o) w=$(median bench windows w) w30=$(median bench windows w30)
s=$(q -d bench -c "SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 3) FROM bench.timings WHERE point = 'windows' AND what = 's'")
sall=$(median bench windows sall) nall=$(q -d bench -c "SELECT cardinality(ids) FROM bench.all_ids")
q -d bench -c "DROP TABLE bench.all_ids"
polls_30=$(q -d bench -c "SELECT count(*) FROM storemon.store_status WHERE timestamp_utc <= '$T'")
say "storemon_compute() serial                      $as ms"
say "storemon_outages() every store, 7 days         $o ms ($(calc "$o / $as")x the serial report)"
say "storemon_window() every store, 7 days          $w ms"
say "storemon_window(period => '30 days')           $w30 ms (reads all $polls_30 polls: the feed is $days days long)"
say "storemon_compute(store_ids => one store)       $s ms (median of $((reps * 20)) stores)"
say "storemon_compute(store_ids => all $nall stores) $sall ms ($(calc "$sall / $as")x the serial report)"
