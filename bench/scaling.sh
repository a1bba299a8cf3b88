#!/usr/bin/env bash
# bench/scaling.sh — how the report grows with history and with stores, at
# the same as_of: a (storemon_compute) and d (the floor, bench/report.sh) on
# the Loop-scale feed, on 4x its history, and on 10x its stores (with p, the
# worker's report and memory, and the load of its CSV files against raw
# \copy).  One feed at a time, the previous one dropped, so each point runs
# with its own data in shared buffers.  Long: the 10x feed is 19 M polls.
. "$(dirname "$0")/lib.sh"
suite_begin scaling "time against history length and number of stores"
need_feed
time_point 1x bench a d p
a=$(median bench 1x a) d=$(median bench 1x d) p=$(median bench 1x p)
q -d postgres -c "DROP DATABASE bench WITH (FORCE)"

make_feed bench4h "$stores" $((days * 4))
time_point 4xhist bench4h a d
a4=$(median bench4h 4xhist a) d4=$(median bench4h 4xhist d)
q -d postgres -c "DROP DATABASE bench4h WITH (FORCE)"

make_feed bench10x $((stores * 10)) "$days"
# The loader at 10x: the 10x feed as CSV files, raw \copy against storemon-load.
csv10=$BENCH_DIR/csv10
mkdir -p "$csv10"
chmod 777 "$csv10"
export_csv bench10x "$csv10"
rows10=$(($(cat "$csv10"/*.csv | wc -l) - 3))
q -d bench10x -c "DELETE FROM bench.timings WHERE point = '10xload'"
raw_then_load "$csv10" load10x 10xload 1 bench10x
q -d postgres -c "DROP DATABASE load10x WITH (FORCE)"
rm -rf "$csv10"
raw10=$(median bench10x 10xload raw) load10=$(median bench10x 10xload load)
time_point 10x bench10x a d p
a10=$(median bench10x 10x a) d10=$(median bench10x 10x d) p10=$(median bench10x 10x p)
id=$(q -d bench10x -c "SELECT storemon_trigger_report()")
b10=$(q -d bench10x -c "SELECT round(bench.wait_ms('$id')::numeric, 1)")
worker10=$(worker_pid bench10x)
say "1x:          a $a ms, d $d ms, p $p ms"
say "4x history:  a $a4 ms ($(calc "$a4 / $a")x of 1x), d $d4 ms ($(calc "$d4 / $d")x)"
say "10x stores:  a $a10 ms ($(calc "$a10 / $a")x of 1x), d $d10 ms ($(calc "$d10 / $d")x); worker report $b10 ms, worker private memory $(anon_mb "$worker10") MB, peak resident $(hwm_mb "$worker10") MB"
say "10x stores, storemon.parallel_workers = $((cores - 1)): $p10 ms ($(calc "$a10 / $p10")x faster than a)"
say "10x stores, loading $rows10 CSV rows: raw psql \\copy $raw10 ms ($(calc "$rows10::bigint * 1000 / $raw10" 0) rows/s), storemon-load $load10 ms ($(calc "$rows10::bigint * 1000 / $load10" 0) rows/s), $(calc "$load10 / $raw10")x of raw \\copy"
q -d postgres -c "DROP DATABASE bench10x WITH (FORCE)"
