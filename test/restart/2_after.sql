-- After the crash (server restart, or a worker killed with SIGKILL): the
-- report left Running is retried and completes; nothing stays stuck.
SELECT plan(4);
SELECT id FROM test_helpers.pending \gset
-- Reading it also starts a worker when none is running (no preload).
SELECT status FROM storemon_get_report(:'id') LIMIT 1;
SELECT is(test_helpers.wait_report(:'id', '{Complete,Failed}', 60), 'Complete',
          'the interrupted report completes after the restart');
SELECT is((SELECT attempts FROM reports WHERE id = :'id'), 2, 'on its second attempt');
SELECT results_eq(format('SELECT * FROM test_helpers.report_rows(%L)', :'id'),
                  format('SELECT * FROM storemon_compute((SELECT as_of FROM reports WHERE id = %L))', :'id'),
                  'with the rows storemon_compute gives for its as_of');
SELECT is((SELECT count(*) FROM reports WHERE status IN ('Queued', 'Running')), 0::bigint,
          'no request is left Queued or Running');
SELECT * FROM finish();
