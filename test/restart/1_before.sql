-- Before a crash: a report is Running (store_status is held locked by the
-- harness, so it cannot finish).  Its id is kept for 2_after.sql.
SELECT plan(2);
CREATE TABLE IF NOT EXISTS test_helpers.pending (id uuid NOT NULL);
TRUNCATE test_helpers.pending;
SELECT storemon_trigger_report() AS id \gset
INSERT INTO test_helpers.pending VALUES (:'id');
SELECT is(test_helpers.wait_report(:'id', '{Running}'), 'Running', 'the report is Running');
SELECT ok(EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'storemon worker'
                  AND query LIKE 'storemon: computing report%'), 'its worker is computing');
SELECT * FROM finish();
