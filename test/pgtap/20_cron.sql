-- pg_cron schedules a report; the worker computes it.  pg_cron 1.4 runs
-- jobs on the minute, so this waits up to 100 s.
SELECT plan(5);
SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname = 'storemon-test';
SELECT clock_timestamp() AS scheduled_at \gset
SELECT storemon_schedule('storemon-test', '* * * * *') AS job \gset
SELECT cmp_ok(:job::bigint, '>', 0::bigint, 'storemon_schedule returns the pg_cron job id');
SELECT is((SELECT command FROM cron.job WHERE jobid = :job),
          'SELECT storemon.storemon_trigger_report(interpolation => ''nearest'')',
          'the job triggers a report through the extension''s schema');

SELECT test_helpers.poll_until(format('SELECT EXISTS (SELECT FROM reports WHERE queued_at > %L AND status = %L)',
                                      :'scheduled_at', 'Complete'), 100);
SELECT (SELECT id FROM reports WHERE queued_at > :'scheduled_at' AND status = 'Complete' LIMIT 1) AS cron_report \gset
SELECT isnt(:'cron_report'::text, ''::text, 'a scheduled run produced a Complete report');
SELECT results_eq(format('SELECT * FROM test_helpers.report_rows(%L)', :'cron_report'),
                  format('SELECT * FROM storemon_compute((SELECT as_of FROM reports WHERE id = %L))', :'cron_report'),
                  'and it equals storemon_compute for its as_of');
SELECT ok(EXISTS (SELECT 1 FROM cron.job_run_details WHERE jobid = :job AND status = 'succeeded'),
          'pg_cron recorded the run as succeeded');
SELECT cron.unschedule(:job);
SELECT * FROM finish();
