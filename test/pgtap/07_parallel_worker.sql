-- The report worker with storemon.parallel_workers set in the server's
-- configuration: its report is computed in parallel ranges (src/parallel_report.c)
-- and must equal the serial storemon_compute.
\set ON_ERROR_STOP 1
\set QUIET 1
SET client_min_messages = warning;
SELECT plan(4);

-- Parallel workers computing for a storemon worker (pg_stat_activity.leader_pid)
-- and waiting for a lock: the test holds timezones locked so they stay there.
CREATE FUNCTION pg_temp.parallel_workers_waiting() RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FROM pg_stat_activity a
    JOIN pg_stat_activity l ON a.leader_pid = l.pid
    WHERE a.backend_type = 'parallel worker' AND l.backend_type = 'storemon worker'
      AND a.wait_event_type = 'Lock'
$$;
ANALYZE store_status;
ALTER SYSTEM SET storemon.parallel_workers = 2;
SELECT pg_reload_conf();
SELECT pg_sleep(0.5); -- the worker takes the new setting when its latch wakes it

-- Another session holds timezones: each range's process waits for it in sight.
SELECT dblink_connect('locker', test_helpers.conninfo());
SELECT dblink_exec('locker', 'BEGIN');
SELECT dblink_exec('locker', 'LOCK TABLE timezones IN ACCESS EXCLUSIVE MODE');
SELECT storemon_trigger_report() AS id \gset
SELECT test_helpers.poll_until('SELECT pg_temp.parallel_workers_waiting() > 0', 60);
SELECT cmp_ok(pg_temp.parallel_workers_waiting(), '>=', 1::bigint,
              'the worker runs the report with parallel workers');
SELECT dblink_exec('locker', 'ROLLBACK');
SELECT dblink_disconnect('locker');
SELECT is(test_helpers.wait_report(:'id', '{Complete,Failed}'), 'Complete',
          'a report computed with storemon.parallel_workers = 2 completes');
SELECT results_eq(
    format($$SELECT store_id, uptime_last_hour, uptime_last_day, uptime_last_week,
                    downtime_last_hour, downtime_last_day, downtime_last_week
             FROM storemon_get_report(%L)$$, :'id'),
    format($$SELECT * FROM storemon_compute((SELECT as_of FROM reports WHERE id = %L))$$, :'id'),
    'its rows equal the serial storemon_compute');
SELECT is((SELECT stores_total FROM reports WHERE id = :'id'),
          (SELECT count(DISTINCT store_id) FROM store_status), 'stores_total counts every store');

ALTER SYSTEM RESET storemon.parallel_workers;
SELECT pg_reload_conf();
SELECT * FROM finish();
