-- Without shared_preload_libraries: CREATE EXTENSION alone is enough; the
-- trigger starts a dynamic background worker for the database.
SELECT plan(4);
SELECT ok(NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'storemon launcher'),
          'no launcher: storemon is not preloaded');
SELECT ok(NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'storemon worker'),
          'and no worker before the first request');
SELECT storemon_trigger_report() AS id \gset
SELECT is(test_helpers.wait_report(:'id', '{Complete,Failed}'), 'Complete', 'a triggered report completes');
SELECT ok(EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'storemon worker'
                  AND datname = current_database()), 'served by a worker the trigger started');
SELECT * FROM finish();
