-- Store ranges of storemon_compute (from_store <= store_id < to_store) and
-- the parallel report built on them (storemon.parallel_workers,
-- src/parallel_report.c): both must give exactly the serial report.
\set ON_ERROR_STOP 1
\set QUIET 1
SET client_min_messages = warning;
BEGIN;
SELECT plan(11);
SELECT storemon_default_as_of() AS t \gset
CREATE TEMP TABLE serial AS SELECT * FROM storemon_compute(:'t');
CREATE TEMP TABLE serial_exact AS SELECT * FROM storemon_compute_exact(:'t', 'previous');
-- A store in the middle, and its neighbour.
SELECT store_id AS mid FROM serial ORDER BY store_id COLLATE "C" OFFSET 100 LIMIT 1 \gset

SELECT results_eq(
    format($$SELECT * FROM storemon_compute(%L, 'nearest', NULL, %L)
             UNION ALL SELECT * FROM storemon_compute(%L, 'nearest', %L, NULL)$$, :'t', :'mid', :'t', :'mid'),
    'SELECT * FROM serial',
    'two ranges split at a store give the whole report, in order');
SELECT is((SELECT count(*) FROM storemon_compute(:'t', 'nearest', NULL, :'mid')), 100::bigint,
          'to_store is exclusive');
SELECT is((SELECT min(store_id COLLATE "C") FROM storemon_compute(:'t', 'nearest', :'mid', NULL)), :'mid',
          'from_store is inclusive');
SELECT is((SELECT count(*) FROM storemon_compute(:'t', 'nearest', :'mid', :'mid')), 0::bigint,
          'an empty range gives no rows');
SELECT results_eq(
    format($$SELECT * FROM storemon_compute(%L, 'nearest', %L, %L)$$, :'t', :'mid' || '!', 'zzzz'),
    format($$SELECT * FROM serial WHERE store_id COLLATE "C" >= %L ORDER BY store_id COLLATE "C"$$, :'mid' || '!'),
    'bounds that are not store ids');

-- In parallel: ranges from the histogram of the last ANALYZE.
ANALYZE store_status;
SET LOCAL storemon.parallel_workers = 2;
SELECT results_eq('SELECT * FROM storemon_compute(' || quote_literal(:'t') || ')', 'SELECT * FROM serial',
                  'parallel report = serial report, in store_id order');
SELECT results_eq(format($$SELECT * FROM storemon_compute_exact(%L, 'previous')$$, :'t'),
                  'SELECT * FROM serial_exact', 'parallel exact report, previous mode = serial');
SET LOCAL max_parallel_workers = 0;
SELECT results_eq('SELECT * FROM storemon_compute(' || quote_literal(:'t') || ')', 'SELECT * FROM serial',
                  'with no parallel worker available the leader computes every range');
SET LOCAL storemon.parallel_workers = 7;
SET LOCAL max_parallel_workers = 8;
SELECT results_eq('SELECT * FROM storemon_compute(' || quote_literal(:'t') || ')', 'SELECT * FROM serial',
                  'seven workers, eight ranges = serial');

-- An index not as the install script makes it: a clear error, nothing read wrong.
RESET storemon.parallel_workers;
SELECT count(*) AS hours_before FROM menu_hours \gset
DROP INDEX menu_hours_store_idx;
CREATE INDEX menu_hours_store_idx ON menu_hours (store_id);
SELECT throws_ok('SELECT * FROM storemon_compute()', '55000',
                 'storemon: index "menu_hours_store_idx" has 1 columns, expected 4',
                 'an index without its INCLUDE columns is named in the error');
SELECT is((SELECT count(*) FROM menu_hours), :hours_before::bigint, 'and the hours are as they were');
SELECT * FROM finish();
ROLLBACK;
