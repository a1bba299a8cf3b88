-- The report worker with storemon.parallel_workers set in the server's
-- configuration: its report is computed in parallel ranges (src/parallel.c)
-- and must equal the serial storemon_compute.
\set ON_ERROR_STOP 1
\set QUIET 1
SET client_min_messages = warning;
SELECT plan(4);

-- Watch a report until it is finished: the most parallel workers seen at once
-- working for a storemon worker (pg_stat_activity.leader_pid).
CREATE FUNCTION pg_temp.parallel_workers_seen(id uuid) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    seen int := 0;
    deadline timestamptz := clock_timestamp() + interval '60 s';
BEGIN
    LOOP
        PERFORM pg_stat_clear_snapshot();
        seen := greatest(seen, (SELECT count(*) FROM pg_stat_activity a
                                JOIN pg_stat_activity l ON a.leader_pid = l.pid
                                WHERE a.backend_type = 'parallel worker'
                                  AND l.backend_type = 'storemon worker'));
        EXIT WHEN (SELECT status FROM reports r WHERE r.id = parallel_workers_seen.id)
                  IN ('Complete', 'Failed') OR clock_timestamp() > deadline;
        PERFORM pg_sleep(0.001);
    END LOOP;
    RETURN seen;
END
$$;
ANALYZE store_status;
ALTER SYSTEM SET storemon.parallel_workers = 2;
SELECT pg_reload_conf();
SELECT pg_sleep(0.5); -- the worker takes the new setting when its latch wakes it

SELECT storemon_trigger_report() AS id \gset
SELECT cmp_ok(pg_temp.parallel_workers_seen(:'id'), '>=', 1,
              'the worker ran the report with parallel workers');
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
