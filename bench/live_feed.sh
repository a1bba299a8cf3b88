#!/usr/bin/env bash
# bench/live_feed.sh — a live feed: a day of polls, then a week of hourly
# appends in time order with a report after each, in two databases fed
# alike.  "live" relies on autovacuum (store_status's storage parameters);
# "ref" is vacuumed after every append, the warm reference.  A simulated hour
# lasts about 0.7 s, so for the run autovacuum_naptime is 1 s: relative to
# the feed, that is autovacuum's default one minute against a real hour.
. "$(dirname "$0")/lib.sh"
cluster_up
q -d postgres -c "ALTER SYSTEM SET autovacuum_naptime = '1s'" -c "SELECT pg_reload_conf()" >/dev/null
trap 'q -d postgres -c "ALTER SYSTEM RESET autovacuum_naptime" -c "SELECT pg_reload_conf()" >/dev/null || true; cluster_cleanup' EXIT
suite_begin live_feed "a week of hourly appends, a report after each, autovacuum against vacuumed" \
	autovacuum autovacuum_naptime

livefeed_db() {
	local db=$1 vacuum=$2 script
	createdb "$db"
	q -d "$db" -c "CREATE EXTENSION storemon" -c "ALTER DATABASE \"$db\" SET search_path = \"\$user\", public, storemon"
	PGDATABASE=$db ./storemon-load --hours "$src/menu_hours.csv" --zones "$src/timezones.csv" >/dev/null
	psql -Xq -v ON_ERROR_STOP=1 -d "$db" -v stores="$stores" -v days=8 -v seed=42 -v end="$end" -f bench/generate.sql
	q -d "$db" -f bench/timing.sql
	q -d "$db" -c "CREATE TABLE bench.feed AS SELECT * FROM store_status" -c "TRUNCATE store_status" \
		-c "INSERT INTO store_status SELECT * FROM bench.feed WHERE timestamp_utc <= $end::timestamptz - interval '168 hours' ORDER BY timestamp_utc"
	q -d "$db" -c "VACUUM ANALYZE store_status"
	script=$(mktemp)
	for h in $(seq 1 168); do
		echo "INSERT INTO store_status SELECT * FROM bench.feed WHERE timestamp_utc > $end::timestamptz - interval '$((169 - h)) hours' AND timestamp_utc <= $end::timestamptz - interval '$((168 - h)) hours' ORDER BY timestamp_utc;"
		[ "$vacuum" = 0 ] || echo "VACUUM ANALYZE store_status;"
		echo "SELECT pg_sleep(0.3);"
		echo "INSERT INTO bench.timings SELECT '$db', 'a', $h, bench.time_ms('SELECT count(*) FROM storemon_compute()');"
	done >"$script"
	psql -Xq -v ON_ERROR_STOP=1 -d "$db" -f "$script" >/dev/null
	rm -f "$script"
}
livefeed_db live 0
livefeed_db ref 1
q -d postgres -c "ALTER SYSTEM RESET autovacuum_naptime" -c "SELECT pg_reload_conf()" >/dev/null
q -d live -c "CREATE EXTENSION dblink" >/dev/null
pair="FROM bench.timings l JOIN dblink('dbname=ref host=$PGHOST port=$PGPORT user=postgres', 'SELECT rep, ms FROM bench.timings') AS r(rep int, ms float8) USING (rep)"
say "hourly appends for a week (about 10,000 polls an hour), a report after each, median ms per day:"
say "$(q -d live -c "SELECT format('day %s: with autovacuum %s ms, vacuumed after every append %s ms, ratio %s',
	(l.rep - 1) / 24 + 1, round(percentile_cont(0.5) WITHIN GROUP (ORDER BY l.ms)::numeric, 1),
	round(percentile_cont(0.5) WITHIN GROUP (ORDER BY r.ms)::numeric, 1),
	round((percentile_cont(0.5) WITHIN GROUP (ORDER BY l.ms) / percentile_cont(0.5) WITHIN GROUP (ORDER BY r.ms))::numeric, 2))
	$pair GROUP BY (l.rep - 1) / 24 ORDER BY (l.rep - 1) / 24")"
say "$(q -d live -c "SELECT format('over the week: median hourly ratio %s, worst hour %s (%s ms against %s ms)',
	round(percentile_cont(0.5) WITHIN GROUP (ORDER BY l.ms / r.ms)::numeric, 2), round(max(l.ms / r.ms)::numeric, 2),
	round((array_agg(l.ms ORDER BY l.ms / r.ms DESC))[1]::numeric, 1), round((array_agg(r.ms ORDER BY l.ms / r.ms DESC))[1]::numeric, 1))
	$pair")"
q -d postgres -c "DROP DATABASE live WITH (FORCE)" -c "DROP DATABASE ref WITH (FORCE)"
