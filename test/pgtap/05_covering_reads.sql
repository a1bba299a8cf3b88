-- storemon reads polls, hours and zones from covering indexes and visits
-- the heap only for pages the visibility map does not mark all-visible
-- (src/store_walk.c).  Both paths must give the same report, equal to the
-- plain-SQL peer of the benchmark (bench/peer.sql), and the merge over
-- hours and zones must skip rows of stores that have no polls.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
\set QUIET 1
\i bench/peer.sql
CREATE EXTENSION IF NOT EXISTS pg_visibility;
SELECT storemon_default_as_of() AS t \gset
SELECT plan(9);

-- Hours and zones of stores without polls: between, before and after the real ones.
CREATE TEMP TABLE orphans AS
SELECT store_id || '~' AS store_id FROM (SELECT DISTINCT store_id FROM store_status) s
UNION ALL VALUES ('!'), ('~~~~');
INSERT INTO menu_hours SELECT store_id, 0, '09:00', '17:00' FROM orphans;
INSERT INTO timezones SELECT store_id, 'Asia/Tokyo' FROM orphans;

-- New row versions everywhere: no page is all-visible, every read goes to the heap.
UPDATE store_status SET status = status;
UPDATE menu_hours SET day_of_week = day_of_week;
UPDATE timezones SET timezone_str = timezone_str;
SELECT is((SELECT count(*) FROM pg_visibility_map('store_status') WHERE all_visible), 0::bigint,
          'before VACUUM no page of store_status is all-visible');
CREATE TEMP TABLE from_heap AS SELECT * FROM storemon_compute(:'t');

-- Pages not all-visible are decided once each in a cache bounded by
-- work_mem (src/page_visibility.c).  Made to hold far fewer pages than the
-- heap has (64 kB: 1,024 pages; more dead versions make the heap bigger),
-- it evicts and decides pages again, and may stop and fetch tuples instead.
UPDATE store_status SET status = status;
UPDATE store_status SET status = status;
UPDATE store_status SET status = status;
UPDATE store_status SET status = status;
SELECT cmp_ok(pg_relation_size('store_status') / current_setting('block_size')::bigint, '>', 1200::bigint,
              'the heap has more pages than the smallest cache holds');
SET work_mem = '64kB';
CREATE TEMP TABLE from_small_cache AS SELECT * FROM storemon_compute(:'t');
RESET work_mem;
-- A few listed stores read stale pages without the cache, tuple by tuple.
CREATE TEMP TABLE listed_ids AS SELECT DISTINCT store_id FROM store_status ORDER BY 1 LIMIT 25;
CREATE TEMP TABLE listed AS
SELECT * FROM storemon_compute(:'t', store_ids => (SELECT array_agg(store_id) FROM listed_ids));

VACUUM store_status, menu_hours, timezones;
-- Pages that hold polls: from 16 on the table grows by several empty pages
-- at once, and VACUUM leaves those it cannot truncate unmarked.
SELECT is((SELECT bool_and(all_visible) FROM pg_visibility_map('store_status')
           WHERE blkno IN (SELECT DISTINCT (ctid::text::point)[0]::bigint FROM store_status)), true,
          'after VACUUM every page of store_status holding polls is all-visible');
CREATE TEMP TABLE from_index AS SELECT * FROM storemon_compute(:'t');

SELECT results_eq('SELECT * FROM from_heap', 'SELECT * FROM from_index',
                  'heap reads and index-only reads give the same report, in the same order');
SELECT results_eq('SELECT * FROM from_small_cache', 'SELECT * FROM from_index',
                  'and so do heap reads through a cache smaller than the heap');
SELECT results_eq('SELECT * FROM listed',
                  'SELECT * FROM from_index WHERE store_id IN (SELECT store_id FROM listed_ids)',
                  'and listed stores read from stale pages without the cache');
SELECT set_eq('SELECT * FROM from_index', format('SELECT * FROM bench.peer_report(%L)', :'t'),
              'the report equals the plain-SQL peer');
SELECT is((SELECT count(*) FROM from_index),
          (SELECT count(DISTINCT store_id) FROM store_status WHERE timestamp_utc <= :'t'),
          'one row per store with polls, none for hours or zones without polls');
SELECT is((SELECT count(*) FROM (SELECT store_id COLLATE "C" > lag(store_id) OVER () COLLATE "C" AS up
                                 FROM from_index) x WHERE NOT up), 0::bigint,
          'rows come in store_id order');

DELETE FROM menu_hours h USING orphans o WHERE h.store_id = o.store_id;
DELETE FROM timezones z USING orphans o WHERE z.store_id = o.store_id;
DROP SCHEMA bench CASCADE;
SELECT * FROM finish();
