#!/usr/bin/env bash
# bench/sharded.sh — storemon_coordinator through PL/Proxy: the Loop-scale
# feed's CSV files loaded through a coordinator into 1 shard and into 3
# (databases of this one server: on 2 cores this measures the overheads, not
# a speed-up), then per shard the report's compute, and on the coordinator
# the gathered report and trigger -> Complete, all at the same as_of,
# BENCH_REPS times; the sharded reports checked equal to the single node's.
. "$(dirname "$0")/lib.sh"
suite_begin sharded "the same CSV files through a PL/Proxy coordinator, 1 shard and 3"
need_feed
need_csv

sharded() {
	local coord=$1 n=$2 parts="" t0
	for i in $(seq 0 $((n - 1))); do
		createdb "${coord}_s$i"
		q -d "${coord}_s$i" -c "CREATE EXTENSION storemon" -f bench/timing.sql >/dev/null
		parts+="${parts:+, }p$i 'dbname=${coord}_s$i host=$PGHOST port=$PGPORT options=-csearch_path='"
	done
	createdb "$coord"
	q -d "$coord" -c "CREATE EXTENSION storemon" -c "ALTER DATABASE $coord SET search_path = \"\$user\", public, storemon" \
		-c "CREATE SCHEMA plproxy" -c "CREATE EXTENSION plproxy SCHEMA plproxy" -c "CREATE EXTENSION storemon_coordinator" \
		-c "CREATE SERVER storemon_shards FOREIGN DATA WRAPPER plproxy OPTIONS (modular_mapping '1', $parts)" \
		-c "CREATE USER MAPPING FOR PUBLIC SERVER storemon_shards" -f bench/timing.sql >/dev/null
	t0=$(date +%s%N)
	./storemon-load --status "$csv/store_status.csv" --hours "$csv/menu_hours.csv" --zones "$csv/timezones.csv" -- -d "$coord" >/dev/null
	eval "load_$n=$(ms_since "$t0")"
	{
		for rep in $(seq 1 "$reps"); do
			echo "INSERT INTO bench.timings SELECT 'sharded', 'gather', $rep, bench.time_ms(\$q\$SELECT count(*) FROM storemon_coordinator.storemon_compute('$T')\$q\$);"
			# the request must commit before the worker can see it
			echo "SELECT storemon_trigger_report('$T') AS id \\gset"
			echo "INSERT INTO bench.timings SELECT 'sharded', 'worker', $rep, bench.wait_ms(:'id');"
		done
	} | q -d "$coord" >/dev/null
	for i in $(seq 0 $((n - 1))); do
		for rep in $(seq 1 "$reps"); do
			echo "INSERT INTO bench.timings SELECT 'shard', 'compute', $rep, bench.time_ms(\$q\$SELECT count(*) FROM storemon.storemon_compute('$T')\$q\$);"
		done | q -d "${coord}_s$i" >/dev/null
	done
	eval "gather_$n=$(median "$coord" sharded gather) worker_$n=$(median "$coord" sharded worker)"
	eval "shard_$n=$(for i in $(seq 0 $((n - 1))); do median "${coord}_s$i" shard compute; done | sort -n | tail -1)"
	eval "same_$n=$(q -d "$coord" -c "SELECT md5(string_agg(c::text, ',')) FROM storemon_coordinator.storemon_compute('$T') c")"
}
sharded coord1 1
sharded coord3 3
single_md5=$(q -d bench -c "SELECT md5(string_agg(c::text, ',')) FROM storemon_compute('$T') c")
say "                                     1 shard    3 shards"
say "storemon-load into the coordinator   $load_1     $load_3"
say "slowest shard's storemon_compute     $shard_1     $shard_3"
say "coordinator storemon_compute         $gather_1     $gather_3   (transfer + gather: $(calc "$gather_1 - $shard_1" 1) / $(calc "$gather_3 - $shard_3" 1))"
say "trigger -> Complete (worker)         $worker_1     $worker_3"
say "check: the sharded reports equal the single-node report: $([ "$same_1" = "$single_md5" ] && [ "$same_3" = "$single_md5" ] && echo yes || echo NO)"
for c in coord1 coord3; do q -d postgres -c "DROP DATABASE $c WITH (FORCE)"; done
for d in coord1_s0 coord3_s0 coord3_s1 coord3_s2; do q -d postgres -c "DROP DATABASE $d WITH (FORCE)"; done
