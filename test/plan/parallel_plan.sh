#!/usr/bin/env bash
# A TAP check that storemon.parallel_workers really runs the report in
# parallel workers: auto_explain shows the plan of the range query, with the
# workers the server launched.  Run by scripts/test against ${PGDATABASE:-storemon_test}.
set -uo pipefail
echo "1..2"
plan=$(psql -X -d ${PGDATABASE:-storemon_test} 2>&1 <<'SQL'
ANALYZE store_status;
SET client_min_messages = notice;
LOAD 'auto_explain';
SET auto_explain.log_min_duration = 0;
SET auto_explain.log_nested_statements = on;
SET auto_explain.log_analyze = on;
SET auto_explain.log_level = notice;
SET storemon.parallel_workers = 2;
SELECT count(*) FROM storemon_compute();
SQL
)
if grep -q "Parallel Append" <<<"$plan"; then echo "ok 1 - the ranges run as a Parallel Append"; else echo "not ok 1 - the ranges run as a Parallel Append"; echo "$plan" | sed "s/^/# /" >&2; fi
if grep -q "Workers Launched: 2" <<<"$plan"; then echo "ok 2 - two parallel workers launched"; else echo "not ok 2 - two parallel workers launched"; echo "$plan" | sed "s/^/# /" >&2; fi
