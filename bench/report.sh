#!/usr/bin/env bash
# bench/report.sh — the warm report on the Loop-scale feed (bench/generate.sql:
# 14,000 stores, 8 days, about 1.9 million polls, real hours and zones), BENCH_REPS
# repetitions each, alternating:
#   a) SELECT count(*) FROM storemon_compute(T)
#   b) storemon_trigger_report(T) until Complete, through the worker
#   c) bench/peer.sql: the same report in plain SQL (checked identical first)
#   d) the floor: one index-ordered read of the week's polls, aggregated
#   p) a) again with storemon.parallel_workers = cores - 1
# Medians, the ratios c/a and a/d, and the worker's memory.
. "$(dirname "$0")/lib.sh"
suite_begin report "the warm report against the plain-SQL peer and the floor"
need_feed

differ=$(q -d bench -c "SELECT count(*) FROM ((SELECT * FROM storemon_compute('$T') EXCEPT ALL SELECT * FROM bench.peer_report('$T')) UNION ALL (SELECT * FROM bench.peer_report('$T') EXCEPT ALL SELECT * FROM storemon_compute('$T'))) x")
say "check: storemon_compute and the plain-SQL peer differ in $differ rows (as_of $T)"
[ "$differ" = 0 ] || { say "bench: the peer disagrees with storemon_compute"; exit 1; }

time_point 1x bench a b c d p
a=$(median bench 1x a) b=$(median bench 1x b) c=$(median bench 1x c) d=$(median bench 1x d) p=$(median bench 1x p)
worker=$(worker_pid bench)
say "a) storemon_compute()                 $a ms"
say "b) trigger -> Complete (worker)       $b ms"
say "c) plain SQL (bench/peer.sql)         $c ms"
say "d) floor: ordered read of the week    $d ms"
say "p) a with storemon.parallel_workers = $((cores - 1)) ($cores processes)   $p ms ($(calc "$a / $p")x faster than a)"
say "c/a = $(calc "$c / $a" 1)x   b/c = $(calc "$b / $c" 3)   a/d = $(calc "$a / $d")"
say "worker process: private memory $(anon_mb "$worker") MB now, peak resident $(hwm_mb "$worker") MB (includes shared buffers it touched)"
