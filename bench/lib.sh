# bench/lib.sh — what the suites share (sourced by bench/run and bench/*.sh).
# shellcheck shell=bash
#
# One throwaway cluster serves a whole `bench/run`: the driver starts it and
# exports BENCH_DIR; a suite run on its own (bench/report.sh) starts one for
# itself.  The server runs as a user's does: fsync and synchronous_commit on,
# default WAL settings; every suite prints the settings it ran under.
#
# Huge pages: with shared_buffers in 4 kB pages every new process (a
# parallel worker of storemon.parallel_workers, a new report worker) pays a
# page fault per 4 kB of shared buffers it touches, so p (the report with
# parallel workers) gains less than a production server with huge pages
# would show.  Reserving them is a kernel setting (vm.nr_hugepages), so the
# bench does it only when asked: BENCH_HUGEPAGES=1 (as root) reserves 2300
# pages of 2 MB for the run, says so, and puts the old value back on every
# exit.  The server always has huge_pages = try: it uses them if there are.
#
# Knobs: BENCH_REPS (5) repetitions of each alternating measurement,
# BENCH_STORES (14000) and BENCH_DAYS (8) the generated feed, LOOP_DATA
# (../shared/data/loop-2023, else data/) the real hours and zones it uses,
# BENCH_SCALING=1 the scaling suite in bench/run's default list.

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

reps=${BENCH_REPS:-5}
cores=$(nproc)
stores=${BENCH_STORES:-14000}
days=${BENCH_DAYS:-8}
src=${LOOP_DATA:-../shared/data/loop-2023}
[ -f "$src/menu_hours.csv" ] || src=data
end="'2023-01-25 18:00:00+00'"
export PGOPTIONS="-c client_min_messages=warning"

q() { psql -XAtq -v ON_ERROR_STOP=1 "$@"; }
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

# Figures go to bench/out/SUITE.txt and, under bench/run, also to
# bench/out/figures.txt (BENCH_FIGURES).
say() {
	echo "$*" | tee -a "$out" ${BENCH_FIGURES:+"$BENCH_FIGURES"}
}

# --- the cluster ---------------------------------------------------------

hugepages_was=""
hugepages_set() {
	[ "${BENCH_HUGEPAGES:-0}" = 1 ] || return 0
	local want=2300 now
	now=$(cat /proc/sys/vm/nr_hugepages 2>/dev/null || echo "")
	if [ -n "$now" ] && [ "$now" -ge "$want" ]; then
		echo "bench: BENCH_HUGEPAGES=1: vm.nr_hugepages is already $now, left alone" >&2
	elif [ -z "$now" ] || ! echo "$want" 2>/dev/null >/proc/sys/vm/nr_hugepages; then
		echo "bench: BENCH_HUGEPAGES=1 but vm.nr_hugepages cannot be written (root needed); left alone" >&2
	else
		hugepages_was=$now
		export BENCH_HUGEPAGES_NOTE="BENCH_HUGEPAGES=1: the bench set vm.nr_hugepages from $now to $want (the kernel granted $(cat /proc/sys/vm/nr_hugepages)) and puts $now back on exit"
		echo "bench: $BENCH_HUGEPAGES_NOTE" >&2
	fi
}
hugepages_restore() {
	[ -n "$hugepages_was" ] || return 0
	echo "$hugepages_was" >/proc/sys/vm/nr_hugepages 2>/dev/null &&
		echo "bench: vm.nr_hugepages put back to $hugepages_was" >&2
	hugepages_was=""
}

# The cluster this process started, if any: stopped and removed on every exit.
own_dir=""
cluster_cleanup() {
	if [ -n "$own_dir" ]; then
		scripts/cluster stop "$own_dir" 2>/dev/null || true
		rm -rf "$own_dir"
	fi
	hugepages_restore
}

# Start the throwaway cluster (unless bench/run's is there), build and
# install storemon into it first.
cluster_up() {
	if [ -n "${BENCH_DIR:-}" ]; then
		eval "$(scripts/cluster env "$BENCH_DIR")"
		return
	fi
	make -s
	make -s install
	trap cluster_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	own_dir=$(mktemp -d /tmp/storemon-bench.XXXXXX)
	hugepages_set
	scripts/cluster init "$own_dir" $((30000 + RANDOM % 10000))
	scripts/cluster preload "$own_dir" storemon
	# scripts/cluster turns fsync off for the tests; a user's server has it on.
	cat >>"$own_dir/data/postgresql.conf" <<-CONF
		fsync = on
		synchronous_commit = on
		huge_pages = try
		shared_buffers = 4GB
		work_mem = 256MB
		maintenance_work_mem = 1GB
		storemon.worker_idle_timeout = 60s
	CONF
	scripts/cluster start "$own_dir"
	export BENCH_DIR=$own_dir
	eval "$(scripts/cluster env "$BENCH_DIR")"
}

# The settings a suite runs under, printed and written beside its figures:
# [EXTRA_SETTING...]
print_settings() {
	local names="'fsync', 'synchronous_commit', 'wal_level', 'max_wal_size', 'shared_buffers', 'work_mem',
		'maintenance_work_mem', 'huge_pages', 'max_worker_processes', 'storemon.parallel_workers'" n
	for n in "$@"; do names+=", '$n'"; done
	say "machine: $cores cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
	say "server: PostgreSQL $(q -d postgres -c 'SHOW server_version'); $(q -d postgres -c "SELECT string_agg(name || ' = ' || current_setting(name), ', ' ORDER BY array_position(ARRAY[$names], name)) FROM pg_settings WHERE name IN ($names)")"
	say "huge pages for shared_buffers: $(awk '/HugePages_Total/ {t = $2} /HugePages_Free/ {f = $2} END {print (t > f ? "in use" : "not in use")}' /proc/meminfo) (vm.nr_hugepages = $(cat /proc/sys/vm/nr_hugepages 2>/dev/null || echo '?'); ${BENCH_HUGEPAGES_NOTE:-left as it was, BENCH_HUGEPAGES=1 to reserve them})"
}

# A suite's start: SUITE "what it measures".
suite_begin() {
	mkdir -p bench/out
	out=bench/out/$1.txt
	: >"$out"
	cluster_up
	say ""
	say "== $1: $2 =="
	print_settings "${@:3}"
	say "reps per measurement: $reps, medians in ms"
}

# --- feeds ---------------------------------------------------------------

feed_line() {
	q -d "$1" -c "SELECT format('%s stores, %s polls (%s%% inactive), %s hours rows, %s zones', (SELECT count(DISTINCT store_id) FROM store_status), (SELECT count(*) FROM store_status), (SELECT round(100.0 * avg((status = 'inactive')::int), 1) FROM store_status), (SELECT count(*) FROM menu_hours), (SELECT count(*) FROM timezones))"
}

# A database holding one generated feed: NAME STORES DAYS
make_feed() {
	local db=$1 n=$2 d=$3 t0
	t0=$(date +%s)
	createdb "$db"
	q -d "$db" -c "CREATE EXTENSION storemon" -c "ALTER DATABASE \"$db\" SET search_path = \"\$user\", public, storemon"
	PGDATABASE=$db ./storemon-load --hours "$src/menu_hours.csv" --zones "$src/timezones.csv" >/dev/null
	psql -Xq -v ON_ERROR_STOP=1 -d "$db" -v stores="$n" -v days="$d" -v seed=42 -v end="$end" -f bench/generate.sql
	q -d "$db" -c "VACUUM ANALYZE"
	q -d "$db" -f bench/timing.sql
	q -d "$db" -f bench/peer.sql
	say "feed $db: $(feed_line "$db"), made in $(($(date +%s) - t0)) s"
}

# The Loop-scale feed "bench", made if this cluster has none yet.  A suite
# that changes it (user_path reindexes it) drops it after, so every suite
# measures the feed as generate.sql leaves it.
need_feed() {
	if [ "$(q -d postgres -c "SELECT count(*) FROM pg_database WHERE datname = 'bench'")" = 1 ]; then
		say "feed bench: $(feed_line bench) (made by an earlier suite)"
	else
		make_feed bench "$stores" "$days"
	fi
	T=$(q -d bench -c "SELECT storemon_default_as_of()")
}

# The bench feed as the three CSV files a user would have, in $csv.
need_csv() {
	csv=$BENCH_DIR/csv
	[ -f "$csv/store_status.csv" ] && return
	mkdir -p "$csv"
	chmod 777 "$csv"
	export_csv bench "$csv"
}
# A database's feed as CSV files: DB DIR
export_csv() {
	q -d "$1" -c "SET TimeZone = 'UTC'" \
		-c "COPY (SELECT store_id, status, to_char(timestamp_utc, 'YYYY-MM-DD HH24:MI:SS.US') || ' UTC' AS timestamp_utc FROM store_status ORDER BY timestamp_utc) TO '$2/store_status.csv' (FORMAT csv, HEADER)" \
		-c "COPY (SELECT store_id, day_of_week AS \"dayOfWeek\", start_time_local, end_time_local FROM menu_hours) TO '$2/menu_hours.csv' (FORMAT csv, HEADER)" \
		-c "COPY (SELECT store_id, timezone_str FROM timezones) TO '$2/timezones.csv' (FORMAT csv, HEADER)"
}

# --- timing --------------------------------------------------------------

QA="SELECT count(*) FROM storemon_compute(\$T\$)"
QC="SELECT count(*) FROM bench.peer_report(\$T\$)"
QD="SELECT count(*), max(status) FROM (SELECT store_id, timestamp_utc, status FROM store_status WHERE timestamp_utc > \$T\$::timestamptz - interval '169 hours' AND timestamp_utc <= \$T\$ ORDER BY store_id, timestamp_utc) p"

# time_point POINT DB WHAT...: alternate the measurements, reps times, all in
# one session (a long-lived backend, like the worker: a new backend's first
# touch of shared buffers is not what we measure).  WHAT: a storemon_compute,
# p the same with parallel workers, c the plain-SQL peer, d the floor,
# b trigger -> Complete through the worker.
time_point() {
	local point=$1 db=$2 T script
	shift 2
	T=$(q -d "$db" -c "SELECT storemon_default_as_of()")
	script=$(mktemp)
	echo "DELETE FROM bench.timings WHERE point = '$point';" >>"$script"
	echo "SELECT count(*) FROM storemon_compute('$T');" >>"$script" # warm-up, not timed
	for rep in $(seq 1 "$reps"); do
		for what in "$@"; do
			case $what in
			a) echo "INSERT INTO bench.timings SELECT '$point', 'a', $rep, bench.time_ms(replace(\$q\$$QA\$q\$, '\$T\$', quote_literal('$T')));" ;;
			p) echo "SET storemon.parallel_workers = $((cores - 1));"
			   echo "INSERT INTO bench.timings SELECT '$point', 'p', $rep, bench.time_ms(replace(\$q\$$QA\$q\$, '\$T\$', quote_literal('$T')));"
			   echo "RESET storemon.parallel_workers;" ;;
			c) echo "INSERT INTO bench.timings SELECT '$point', 'c', $rep, bench.time_ms(replace(\$q\$$QC\$q\$, '\$T\$', quote_literal('$T')));" ;;
			d) echo "INSERT INTO bench.timings SELECT '$point', 'd', $rep, bench.time_ms(replace(\$q\$$QD\$q\$, '\$T\$', quote_literal('$T')), false);" ;;
			b) echo "SELECT storemon_trigger_report('$T') AS id \\gset"
			   echo "INSERT INTO bench.timings SELECT '$point', 'b', $rep, bench.wait_ms(:'id');" ;;
			esac >>"$script"
		done
	done
	psql -Xq -v ON_ERROR_STOP=1 -d "$db" -f "$script" >/dev/null
	rm -f "$script"
}

# The median of one measurement: DB POINT WHAT
median() { q -d "$1" -c "SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1) FROM bench.timings WHERE point = '$2' AND what = '$3'"; }
# Arithmetic on figures, rounded: ratio EXPR [DIGITS]
calc() { q -d postgres -c "SELECT round(($1)::numeric, ${2:-2})"; }

# The first report of a new session, as a user's, in ms: DB
first_report_ms() { psql -XAtq -d "$1" -c '\timing on' -c 'SELECT count(*) FROM storemon_compute()' | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p'; }

# Anonymous memory (private, not shared_buffers) of a process, in MB: now and at its peak.
anon_mb() { awk '/^RssAnon/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
hwm_mb() { awk '/^VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
worker_pid() { q -d "$1" -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'storemon worker' AND datname = '$1' LIMIT 1"; }

# raw psql \copy of DIR's files into text tables, then storemon-load into a
# new database DB, each from a checkpoint on a quiet cluster (the raw copy's
# database dropped before the load, or autovacuum would process its rows
# during the load); the times go to bench.timings of database TIMINGS as
# POINT raw / load: DIR DB POINT REP TIMINGS
raw_then_load() {
	local dir=$1 db=$2 point=$3 rep=$4 timings=$5 t0
	q -d postgres -c "CREATE DATABASE rawcopy"
	q -d rawcopy -c "CREATE TABLE s (store_id text, status text, timestamp_utc text); CREATE TABLE h (store_id text, d text, s text, e text); CREATE TABLE z (store_id text, z text)" -c "CHECKPOINT"
	t0=$(date +%s%N)
	q -d rawcopy -c "\copy s FROM '$dir/store_status.csv' (FORMAT csv, HEADER)" -c "\copy h FROM '$dir/menu_hours.csv' (FORMAT csv, HEADER)" -c "\copy z FROM '$dir/timezones.csv' (FORMAT csv, HEADER)"
	q -d "$timings" -c "INSERT INTO bench.timings VALUES ('$point', 'raw', $rep, $(ms_since "$t0"))"
	q -d postgres -c "DROP DATABASE rawcopy WITH (FORCE)" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
	q -d "$db" -c "CREATE EXTENSION storemon" -c "ALTER DATABASE $db SET search_path = \"\$user\", public, storemon" -c "CHECKPOINT"
	t0=$(date +%s%N)
	./storemon-load --status "$dir/store_status.csv" --hours "$dir/menu_hours.csv" --zones "$dir/timezones.csv" -- -d "$db" >/dev/null
	q -d "$timings" -c "INSERT INTO bench.timings VALUES ('$point', 'load', $rep, $(ms_since "$t0"))"
}
