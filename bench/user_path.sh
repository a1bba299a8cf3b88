#!/usr/bin/env bash
# bench/user_path.sh — the user's whole path on the Loop-scale feed written out
# as three CSV files, BENCH_REPS times, each step from a checkpoint on a quiet
# cluster: raw psql \copy of the files against storemon-load and against the
# server's own steps alone (the floor of a load), the first report right
# after the load (a new session, as a user's) against the same after VACUUM
# ANALYZE, and CSV files -> report against bench/peer_pandas.py (checked
# equal in full).  Then the index as a live feed leaves it against the
# loader's bulk build, the former after REINDEX CONCURRENTLY, and a report
# on a never-vacuumed table.  It reindexes the feed, so it drops it at the
# end: a later suite measures the feed as generate.sql leaves it.
. "$(dirname "$0")/lib.sh"
suite_begin user_path "CSV files -> storemon-load -> first report, against raw \\copy and pandas"
need_feed
need_csv
rows=$(($(cat "$csv"/store_status.csv "$csv"/menu_hours.csv "$csv"/timezones.csv | wc -l) - 3))
q -d bench -c "DELETE FROM bench.timings WHERE point = 'path'"

# What a load cannot avoid: only the server's own steps, from server-side files
# already in the tables' binary or column form (no client, no checks beyond
# the tables' constraints): the polls by COPY FREEZE into the emptied table,
# both index builds, hours in store_id order and zones by COPY, ANALYZE.
q -d bench -c "COPY (SELECT store_id, timestamp_utc, status FROM store_status ORDER BY timestamp_utc) TO '$csv/status.bin' (FORMAT binary)" \
	-c "COPY (SELECT * FROM menu_hours ORDER BY store_id) TO '$csv/hours.sorted' (FORMAT csv)"
floor_rep() {
	local t0
	q -d postgres -c "DROP DATABASE IF EXISTS floordb WITH (FORCE)" -c "CREATE DATABASE floordb"
	q -d floordb -c "CREATE EXTENSION storemon" -c "CHECKPOINT"
	t0=$(date +%s%N)
	q -d floordb -c "BEGIN" -c "TRUNCATE storemon.store_status, storemon.menu_hours, storemon.timezones" \
		-c "DROP INDEX storemon.store_status_store_time_idx, storemon.store_status_time_idx" \
		-c "COPY storemon.store_status (store_id, timestamp_utc, status) FROM '$csv/status.bin' (FORMAT binary, FREEZE)" \
		-c "CREATE INDEX store_status_store_time_idx ON storemon.store_status (store_id, timestamp_utc) INCLUDE (status)" \
		-c "CREATE INDEX store_status_time_idx ON storemon.store_status (timestamp_utc)" \
		-c "COPY storemon.menu_hours FROM '$csv/hours.sorted' (FORMAT csv, FREEZE)" \
		-c "COPY storemon.timezones FROM '$csv/timezones.csv' (FORMAT csv, HEADER, FREEZE)" -c "COMMIT" \
		-c "ANALYZE storemon.store_status, storemon.menu_hours, storemon.timezones"
	q -d bench -c "INSERT INTO bench.timings VALUES ('path', 'floor', $1, $(ms_since "$t0"))"
	q -d postgres -c "DROP DATABASE floordb WITH (FORCE)"
}
# One repetition of the path: raw \copy against storemon-load, the first
# report in a new session, the same after VACUUM ANALYZE, pandas, the floor.
user_path_rep() {
	local rep=$1 t0
	raw_then_load "$csv" userpath path "$rep" bench
	q -d bench -c "INSERT INTO bench.timings VALUES ('path', 'first', $rep, $(first_report_ms userpath))"
	q -d userpath -c "VACUUM ANALYZE"
	q -d bench -c "INSERT INTO bench.timings VALUES ('path', 'vacuumed', $rep, $(first_report_ms userpath))"
	t0=$(date +%s%N)
	/usr/bin/python3 bench/peer_pandas.py "$csv" "$asof_us" >"$csv/pandas.csv"
	q -d bench -c "INSERT INTO bench.timings VALUES ('path', 'pandas', $rep, $(ms_since "$t0"))"
	floor_rep "$rep"
}
asof_us=$(q -d bench -c "SELECT (extract(epoch FROM storemon_default_as_of()) * 1000000)::bigint")
for rep in $(seq 1 "$reps"); do user_path_rep "$rep"; done
raw_ms=$(median bench path raw) load_ms=$(median bench path load) first_ms=$(median bench path first)
vacuumed_ms=$(median bench path vacuumed) pandas_ms=$(median bench path pandas) floor_ms=$(median bench path floor)
path_ms=$(q -d bench -c "SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY l.ms + f.ms)::numeric) FROM bench.timings l JOIN bench.timings f USING (point, rep) WHERE point = 'path' AND l.what = 'load' AND f.what = 'first'")
say "the user's path ($rows rows in three CSV files, $(($(cat "$csv"/store_status.csv "$csv"/menu_hours.csv "$csv"/timezones.csv | wc -c) / 1048576)) MB), medians of $reps, each from a checkpoint:"
say "raw psql \\copy into text tables     $raw_ms ms ($(calc "$rows::bigint * 1000 / $raw_ms" 0) rows/s)"
say "storemon-load (checks, load, vacuum) $load_ms ms ($(calc "$rows::bigint * 1000 / $load_ms" 0) rows/s), $(calc "$load_ms / $raw_ms")x of raw \\copy"
say "the server's steps alone            $floor_ms ms, $(calc "$floor_ms / $raw_ms")x of raw \\copy (binary COPY FREEZE from server-side files, both index builds, hours, zones, ANALYZE; storemon-load takes $(calc "$load_ms / $floor_ms")x of that)"
say "first report after the load          $first_ms ms (new session)"
say "the same after VACUUM ANALYZE        $vacuumed_ms ms (new session), first/vacuumed = $(calc "$first_ms / $vacuumed_ms")"
say "CSV files -> first report            $path_ms ms"
# The pandas peer over the same files, checked equal to storemon's report in full.
q -d userpath -c "COPY (SELECT * FROM storemon_compute()) TO STDOUT (FORMAT csv, HEADER)" >"$csv/storemon.csv"
pandas_differ=$(diff "$csv/storemon.csv" "$csv/pandas.csv" | grep -c '^[<>]' || true)
say "pandas peer (bench/peer_pandas.py)   $pandas_ms ms, CSV files -> report; differs from storemon in $pandas_differ lines"
say "CSV -> report: pandas / storemon = $(calc "$pandas_ms / $path_ms")"
[ "$pandas_differ" = 0 ] || { say "bench: the pandas peer disagrees with storemon"; exit 1; }

# The index as a live feed leaves it (bench: polls inserted in time order
# with the indexes kept up row by row) against the loader's bulk build
# (userpath): the same polls, heap in the same order, both vacuumed; warm
# medians, one database after the other.
q -d userpath -f bench/timing.sql >/dev/null
time_point order bench a
time_point order userpath a
idx_mb() { q -d "$1" -c "SELECT round(pg_relation_size('storemon.store_status_store_time_idx') / 1048576.0)"; }
say "index built in time order (bench)    report $(median bench order a) ms, index $(idx_mb bench) MB"
say "index built in bulk (the loader)     report $(median userpath order a) ms, index $(idx_mb userpath) MB"
# Upkeep: the time-ordered index rebuilt in place, as an owner's weekly job would.
t0=$(date +%s%N)
q -d bench -c "REINDEX INDEX CONCURRENTLY storemon.store_status_store_time_idx"
reindex_ms=$(ms_since "$t0")
time_point reindexed bench a
say "the time-ordered one after REINDEX INDEX CONCURRENTLY ($reindex_ms ms): report $(median bench reindexed a) ms, index $(idx_mb bench) MB"
q -d postgres -c "DROP DATABASE userpath WITH (FORCE)" -c "DROP DATABASE bench WITH (FORCE)"

# A report that meets a stale visibility map: the same polls copied in by
# hand (not frozen, never vacuumed, autovacuum off), the first report (it
# also sets hint bits), the next, and the same after VACUUM ANALYZE.
createdb stale
q -d stale -c "CREATE EXTENSION storemon" -c "ALTER DATABASE stale SET search_path = \"\$user\", public, storemon"
PGDATABASE=stale ./storemon-load --hours "$csv/menu_hours.csv" --zones "$csv/timezones.csv" >/dev/null
q -d stale -c "ALTER TABLE storemon.store_status SET (autovacuum_enabled = off)" \
	-c "DROP INDEX storemon.store_status_store_time_idx, storemon.store_status_time_idx" \
	-c "\copy storemon.store_status (store_id, status, timestamp_utc) FROM '$csv/store_status.csv' (FORMAT csv, HEADER)" \
	-c "CREATE INDEX store_status_store_time_idx ON storemon.store_status (store_id, timestamp_utc) INCLUDE (status)" \
	-c "CREATE INDEX store_status_time_idx ON storemon.store_status (timestamp_utc)" -c "CHECKPOINT"
stale_first=$(first_report_ms stale) stale_next=$(first_report_ms stale)
q -d stale -c "VACUUM ANALYZE storemon.store_status"
stale_vacuumed=$(first_report_ms stale)
say "never vacuumed (visibility map empty) first report $stale_first ms, next $stale_next ms; after VACUUM ANALYZE $stale_vacuumed ms: $(calc "$stale_next / $stale_vacuumed")x"
q -d postgres -c "DROP DATABASE stale WITH (FORCE)"
