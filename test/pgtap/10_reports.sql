-- The report queue and worker: trigger, get, CSV, snapshot, concurrency,
-- failure, privileges, purge.  Runs outside a transaction: the worker only
-- sees committed requests.  Expects data/ loaded (scripts/pgtap does it).
SELECT plan(51);

SELECT cmp_ok((SELECT count(*) FROM store_status), '>', 0::bigint, 'the sample feed is loaded');
SELECT ok(EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'storemon launcher'),
          'the launcher runs (storemon is preloaded)');

-- 1. Trigger returns at once, before the computation; a poll inserted while
--    the report runs does not leak into it.
-- The store with the most uptime last hour goes down, backdated into the window.
SELECT store_id AS victim FROM storemon_compute() ORDER BY uptime_last_hour DESC, store_id LIMIT 1 \gset
SELECT dblink_connect('locker', test_helpers.conninfo());
SELECT dblink_exec('locker', 'BEGIN');
SELECT dblink_exec('locker', 'LOCK TABLE store_status IN ACCESS EXCLUSIVE MODE');
SELECT storemon_trigger_report() AS id \gset
SELECT isnt((SELECT status FROM storemon_get_report(:'id') LIMIT 1), 'Complete',
            'trigger returned while the computation cannot have finished');
SELECT is(test_helpers.wait_report(:'id', '{Running}'), 'Running', 'the worker claimed it: Running');
SELECT matches(test_helpers.wait_detail(:'id', '^waiting for a lock'), '^waiting for a lock \(relation\)',
               'Running shows that it waits for a lock');
SELECT ok(EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'storemon worker'
                  AND query LIKE 'storemon: computing report ' || :'id' || '%'),
          'the worker says in pg_stat_activity what it computes');
SELECT dblink_exec('locker', format(
    'INSERT INTO store_status VALUES (%L, (SELECT max(timestamp_utc) - interval ''10 minutes'' FROM store_status), ''inactive'')',
    :'victim'));
SELECT dblink_exec('locker', 'COMMIT');
SELECT dblink_disconnect('locker');
SELECT is(test_helpers.wait_report(:'id', '{Complete,Failed}'), 'Complete', 'the report completes');
SELECT as_of AS as_of FROM reports WHERE id = :'id' \gset
SELECT isnt((SELECT uptime_last_hour FROM storemon_compute(:'as_of') WHERE store_id = :'victim'),
            (SELECT uptime_last_hour FROM storemon_get_report(:'id') WHERE store_id = :'victim'),
            'the poll inserted during the computation changes the figures now ...');
DELETE FROM store_status WHERE store_id = :'victim' AND status = 'inactive'
    AND timestamp_utc = (SELECT max(timestamp_utc) - interval '10 minutes' FROM store_status);
SELECT results_eq(format('SELECT * FROM test_helpers.report_rows(%L)', :'id'),
                  format('SELECT * FROM storemon_compute(%L)', :'as_of'),
                  '... but not in the report: it equals storemon_compute for its as_of without that poll');
SELECT is((SELECT as_of FROM reports WHERE id = :'id'), storemon_default_as_of(),
          'as_of defaulted to the latest poll and is stored');
SELECT is((SELECT count(*) FROM storemon_get_report(:'id')), (SELECT count(*) FROM storemon_compute()),
          'one row per store');
SELECT ok((SELECT bool_and(status = 'Complete') FROM storemon_get_report(:'id')), 'every row says Complete');
SELECT is((SELECT stores_done FROM reports WHERE id = :'id'), (SELECT count(*) FROM storemon_compute()),
          'stores_done recorded');

-- 2. The CSV, exactly.
SELECT storemon_report_csv(:'id') AS csv \gset
SELECT is(split_part(:'csv', E'\n', 1),
          'store_id,uptime_last_hour,uptime_last_day,uptime_last_week,downtime_last_hour,downtime_last_day,downtime_last_week',
          'CSV header as in SPEC.md');
SELECT is(array_length(string_to_array(:'csv', E'\n'), 1)::bigint, 1 + (SELECT count(*) FROM storemon_compute()),
          'CSV: one line per store');
SELECT is(split_part(:'csv', E'\n', 2),
          (SELECT format('%s,%s,%s,%s,%s,%s,%s', store_id, uptime_last_hour, uptime_last_day, uptime_last_week,
                         downtime_last_hour, downtime_last_day, downtime_last_week)
           FROM storemon_compute(:'as_of') LIMIT 1),
          'CSV: first store, two decimals');

-- 3. Twenty triggers at once from four sessions: all complete, each exactly once.
SELECT max(seq) AS before_batch FROM reports \gset
SELECT dblink_connect('c' || i, test_helpers.conninfo()) FROM generate_series(1, 4) i;
SELECT dblink_send_query('c' || i,
    'SELECT storemon_trigger_report(NULL, ''nearest'') FROM generate_series(1, 5)') FROM generate_series(1, 4) i;
SELECT count(*) FROM generate_series(1, 4) i, dblink_get_result('c' || i) AS r(id uuid);
SELECT dblink_disconnect('c' || i) FROM generate_series(1, 4) i;
CREATE TEMP TABLE batch AS SELECT id FROM reports WHERE seq > :before_batch;
SELECT is((SELECT count(*) FROM batch), 20::bigint, 'twenty requests queued');
SELECT is((SELECT count(*) FROM batch WHERE test_helpers.wait_report(id, '{Complete,Failed}', 120) = 'Complete'),
          20::bigint, 'all twenty Complete');
SELECT is((SELECT max(attempts) FROM reports WHERE id IN (SELECT id FROM batch)), 1, 'each computed exactly once');
SELECT is((SELECT count(DISTINCT (SELECT count(*) FROM report_rows r WHERE r.report_id = b.id)) FROM batch b),
          1::bigint, 'each has the full set of rows');

-- 4. A report whose computation fails is Failed with the message; the worker
--    goes on.  (A bad mode never gets that far: it is refused when queued.)
SELECT throws_ok($$INSERT INTO reports (interpolation) VALUES ('bogus')$$, '22023',
                 'storemon: unknown interpolation mode "bogus"', 'a bad mode is refused when queued');
DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'storemon_nofeed') THEN DROP OWNED BY storemon_nofeed; DROP ROLE storemon_nofeed; END IF; END $$;
CREATE ROLE storemon_nofeed;
GRANT INSERT (requested_as_of, interpolation), SELECT (id) ON storemon.reports TO storemon_nofeed;
GRANT USAGE ON SEQUENCE storemon.reports_seq TO storemon_nofeed;
SET ROLE storemon_nofeed;
SELECT storemon_trigger_report() AS bad \gset
RESET ROLE;
SELECT storemon_trigger_report() AS after_bad \gset
SELECT is(test_helpers.wait_report(:'bad', '{Complete,Failed}'), 'Failed', 'a failing computation ends Failed');
SELECT matches((SELECT detail FROM storemon_get_report(:'bad')), 'permission denied for table storemon.store_status',
               'Failed carries the error message');
SELECT is(test_helpers.wait_report(:'after_bad', '{Complete,Failed}'), 'Complete', 'the next request still completes');
SELECT throws_like(format('SELECT storemon_report_csv(%L)', :'bad'), 'storemon: report % Failed, so it has no CSV',
                   'no CSV for a Failed report, and no hint to wait for it');
SELECT throws_like($$SELECT storemon_report_csv('00000000-0000-0000-0000-000000000000')$$,
                   'storemon: no report with id %', 'no CSV for an unknown id');

-- 5. Bad requests and ids.
SELECT throws_ok($$SELECT storemon_trigger_report(NULL, 'linear')$$, '22023',
                 'storemon: unknown interpolation mode "linear"', 'unknown mode refused at trigger');
SELECT throws_ok($$SELECT * FROM storemon_get_report(NULL)$$, '22004',
                 'storemon: report id must not be NULL', 'NULL id is an error');
SELECT throws_like($$SELECT * FROM storemon_get_report('00000000-0000-0000-0000-000000000000')$$,
                   'storemon: no report with id %', 'unknown id is an error');

-- 6. A report as of before the first poll: Complete with no stores.
SELECT storemon_trigger_report('2000-01-01 00:00:00+00') AS early \gset
SELECT is(test_helpers.wait_report(:'early', '{Complete,Failed}'), 'Complete', 'empty report completes');
SELECT results_eq(format('SELECT status, store_id FROM storemon_get_report(%L)', :'early'),
                  $$VALUES ('Complete'::text, NULL::text)$$, 'one Complete row with a NULL store');

-- 7. Privileges: table grants, not function grants.  A reporting role
--    needs INSERT on reports (two columns) and SELECT on reports and their
--    rows; the worker computes its report only if it may read the feed.
DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'storemon_reader') THEN DROP OWNED BY storemon_reader; DROP ROLE storemon_reader; END IF; END $$;
DROP ROLE IF EXISTS storemon_stranger;
CREATE ROLE storemon_reader;
CREATE ROLE storemon_stranger;
GRANT INSERT (requested_as_of, interpolation), SELECT ON storemon.reports TO storemon_reader;
GRANT SELECT ON storemon.report_rows, storemon.store_status, storemon.menu_hours, storemon.timezones TO storemon_reader;
GRANT USAGE ON SEQUENCE storemon.reports_seq TO storemon_reader;
SET ROLE storemon_reader;
SELECT storemon_trigger_report() AS granted \gset
SELECT lives_ok(format('SELECT * FROM storemon_get_report(%L)', :'granted'), 'a granted role triggers and reads');
SELECT throws_ok($$UPDATE storemon.reports SET status = 'Complete'$$, '42501', NULL,
                 'but may not change a request');
RESET ROLE;
SET ROLE storemon_stranger;
SELECT throws_ok('SELECT storemon_trigger_report()', '42501', NULL, 'anyone else may not trigger');
SELECT throws_ok(format('SELECT * FROM storemon_get_report(%L)', :'granted'), '42501', NULL,
                 'nor read reports');
SELECT throws_ok('SELECT * FROM storemon_compute()', '42501', NULL, 'nor compute figures');
RESET ROLE;
SELECT is(test_helpers.wait_report(:'granted', '{Complete,Failed}'), 'Complete', 'the granted role''s report completes');
SELECT is((SELECT requested_by FROM reports WHERE id = :'granted'), 'storemon_reader'::name,
          'and names who asked');

-- 8. Finding and reading reports (1.1): the newest by status, and a
--    summary, for a role with the reporting grants.
SELECT is(storemon_latest_report(), (SELECT id FROM reports WHERE status = 'Complete' ORDER BY seq DESC LIMIT 1),
          'storemon_latest_report(): the newest Complete report');
SELECT is(storemon_latest_report(' failed '), :'bad'::uuid, 'any status, in any letter case');
SELECT throws_ok($$SELECT storemon_latest_report('Done')$$, '22023', 'storemon: unknown report status ''Done''',
                 'an unknown status is refused');
SET ROLE storemon_reader;
SELECT storemon_latest_report() AS latest \gset
SELECT results_eq(format('SELECT stores, fully_up_stores, downtime_last_week FROM storemon_report_summary(%L)', :'latest'),
                  format($$SELECT count(*), count(*) FILTER (WHERE downtime_last_hour = 0 AND downtime_last_day = 0 AND downtime_last_week = 0),
                                  sum(downtime_last_week) FROM storemon_get_report(%L)$$, :'latest'),
                  'the summary counts the stores, the fully up ones and sums the downtime (as the reporting role)');
SELECT is((SELECT array_agg(w->>'store_id') FROM storemon_report_summary(:'latest'), jsonb_array_elements(worst) w),
          (SELECT array_agg(store_id) FROM (SELECT store_id FROM storemon_get_report(:'latest')
                                           ORDER BY downtime_last_week DESC, store_id LIMIT 10) x),
          'and lists the worst ten by downtime last week');
RESET ROLE;
SELECT throws_like(format('SELECT * FROM storemon_report_summary(%L)', :'bad'), 'storemon: report % is Failed, not Complete',
                   'no summary of a Failed report');
SELECT storemon_trigger_report(NULL, E' NEAREST\t') AS shouted \gset
SELECT is((SELECT interpolation FROM reports WHERE id = :'shouted'), 'nearest',
          'a mode in any case with spaces is stored as its word');
SELECT is(test_helpers.wait_report(:'shouted', '{Complete,Failed}'), 'Complete', 'and the report completes');
SELECT storemon_trigger_report(NULL, E'\x0BPrevious\x0B ') AS tabbed \gset
SELECT is((SELECT interpolation || ', ' || test_helpers.wait_report(:'tabbed', '{Complete,Failed}')
           FROM reports WHERE id = :'tabbed'), 'previous, Complete',
          'a vertical tab around it is white space too, on every PostgreSQL version');
BEGIN;
INSERT INTO reports DEFAULT VALUES RETURNING id AS queued \gset
SELECT matches((SELECT detail FROM storemon_get_report(:'queued')), '^queued at .*, not started yet$',
               'a Queued report claims no attempt');
UPDATE reports SET attempts = 2 WHERE id = :'queued';
SELECT matches((SELECT detail FROM storemon_get_report(:'queued')), '; 2 earlier attempt\(s\) stopped before finishing$',
               'one queued again says how many attempts stopped');
ROLLBACK;

-- 9. Retention.
SELECT is(storemon_purge_reports('0 seconds'), (SELECT count(*) FROM reports WHERE status IN ('Complete', 'Failed')),
          'purge drops finished reports older than the age given');
SELECT is((SELECT count(*) FROM report_rows), 0::bigint, 'and their rows');

DROP OWNED BY storemon_reader;
DROP ROLE storemon_reader;
DROP ROLE storemon_stranger;
SELECT * FROM finish();
