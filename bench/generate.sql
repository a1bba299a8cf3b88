-- bench/generate.sql — a seeded, reproducible feed of Loop's shape.
--
--   psql -v stores=14000 -v days=8 -v seed=42 -v end="'2023-01-25 18:00:00+00'" \
--        -v keep_pct=70 -f bench/generate.sql
--
-- Needs the real hours and zones loaded first (./storemon-load
-- --hours/--zones with ../shared/data/loop-2023 or data/).  Stores are those
-- real ids in byte order; past their number, new ids copy a real store's
-- hours and zone.  For every store and hour of the last `days` days a poll
-- is kept with probability keep_pct % at an irregular minute; statuses come
-- in outage runs (a 6-hour block is down with probability 8 %).  Every 50th
-- store has no hours, every 70th no zone, every 100th stopped polling 3
-- days before the end.  Random numbers are hashes of (store, hour, seed), so
-- the feed does not depend on plan or row order.  Polls are inserted in time
-- order, as a live feed arrives, so the index has the page layout of one
-- (the same for any history length).
\set ON_ERROR_STOP 1
\if :{?keep_pct}
\else
\set keep_pct 70
\endif

CREATE TEMP TABLE gen_src AS
SELECT (row_number() OVER (ORDER BY store_id COLLATE "C") - 1)::int AS i, store_id
FROM (SELECT store_id FROM timezones UNION SELECT store_id FROM menu_hours) s;

CREATE TEMP TABLE gen_stores AS
SELECT g AS i,
       CASE WHEN g < n THEN src.store_id ELSE src.store_id || '-' || (g / n) END AS store_id,
       src.store_id AS template
FROM (SELECT count(*)::int AS n FROM gen_src) c,
     generate_series(0, :stores - 1) g
JOIN gen_src src ON src.i = g % (SELECT count(*)::int FROM gen_src);

-- Extra stores reuse real hours and zones; trim to the stores asked for.
INSERT INTO menu_hours
SELECT s.store_id, h.day_of_week, h.start_time_local, h.end_time_local
FROM gen_stores s JOIN menu_hours h ON h.store_id = s.template
WHERE s.store_id <> s.template;
INSERT INTO timezones
SELECT s.store_id, z.timezone_str
FROM gen_stores s JOIN timezones z ON z.store_id = s.template
WHERE s.store_id <> s.template;
DELETE FROM menu_hours h WHERE NOT EXISTS (SELECT 1 FROM gen_stores s WHERE s.store_id = h.store_id)
   OR EXISTS (SELECT 1 FROM gen_stores s WHERE s.store_id = h.store_id AND s.i % 50 = 3);
DELETE FROM timezones z WHERE NOT EXISTS (SELECT 1 FROM gen_stores s WHERE s.store_id = z.store_id)
   OR EXISTS (SELECT 1 FROM gen_stores s WHERE s.store_id = z.store_id AND s.i % 70 = 5);

-- Uniform in [0, 1) from (store, hour, salt).
CREATE FUNCTION pg_temp.gen_u(i int, h int, salt int, seed int8) RETURNS float8
LANGUAGE sql IMMUTABLE AS
$$ SELECT ((hashint8extended(i::int8 * 1000003 + h * 7 + salt, seed) & 1048575)::float8 / 1048576) $$;

INSERT INTO store_status (store_id, timestamp_utc, status)
SELECT s.store_id,
       :end::timestamptz - make_interval(hours => h)
           + make_interval(secs => floor(pg_temp.gen_u(s.i, h, 1, :seed) * 3600e6) / 1e6),
       CASE WHEN pg_temp.gen_u(s.i, h / 6, 2, :seed) < 0.08 THEN 'inactive' ELSE 'active' END
FROM gen_stores s, generate_series(1, :days * 24) h
WHERE pg_temp.gen_u(s.i, h, 3, :seed) < :keep_pct / 100.0
  AND NOT (s.i % 100 = 9 AND h <= 72)
ORDER BY 2;

ANALYZE store_status;
ANALYZE menu_hours;
ANALYZE timezones;
