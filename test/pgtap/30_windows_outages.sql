-- Outage episodes, any window and chosen stores (1.1) on a generated feed:
-- 400 stores in zones with and without daylight-saving changes, random
-- hours (overnight, whole-day, overlapping), 1-60 random polls each over
-- 40 days, some at one instant, as of two daylight-saving changes, in both
-- modes.  Every property is checked on every store.
BEGIN;
SELECT plan(50);

DELETE FROM store_status; DELETE FROM menu_hours; DELETE FROM timezones;
SELECT setseed(0.3);
CREATE TEMP TABLE gen AS
SELECT 'g' || i AS id,
       (ARRAY['America/New_York', 'Europe/London', 'Australia/Lord_Howe', 'Asia/Kathmandu',
              'UTC', 'Pacific/Chatham', NULL, 'Bogus/Zone'])[1 + floor(random() * 8)::int] AS zone,
       random() AS r
FROM generate_series(1, 400) i;
INSERT INTO timezones SELECT id, zone FROM gen WHERE r < 0.9;
INSERT INTO menu_hours
SELECT id, floor(random() * 7)::int, (random() * interval '24 hours')::time,
       CASE WHEN random() < 0.1 THEN '24:00:00'::time ELSE (random() * interval '24 hours')::time END
FROM gen, generate_series(1, 6) k WHERE random() < 0.6 AND r > 0.1;
INSERT INTO store_status
SELECT id, t, CASE WHEN random() < 0.35 THEN 'inactive' ELSE 'active' END
FROM gen, LATERAL (SELECT '2023-11-06 00:00+00'::timestamptz - random() * interval '40 days' AS t,
                          k FROM generate_series(1, 1 + (gen.r * 60)::int) k) p;
-- some polls at one instant with both statuses
INSERT INTO store_status SELECT store_id, timestamp_utc, 'inactive' FROM store_status WHERE random() < 0.05;

-- The same checks at one as_of and mode.
CREATE FUNCTION pg_temp.check_at(as_of timestamptz, mode text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
    what text := format('(%s, %s)', as_of, mode);
    p interval;
BEGIN
    CREATE TEMP TABLE exact ON COMMIT DROP AS SELECT * FROM storemon_compute_exact(as_of, mode);
    RETURN NEXT cmp_ok((SELECT count(*) FROM exact), '>', 300::bigint, 'most stores are reported ' || what);
    FOREACH p IN ARRAY ARRAY[interval '1 hour', interval '1 day', interval '7 days'] LOOP
        RETURN NEXT results_eq(
            format('SELECT store_id, uptime_us, downtime_us FROM storemon_window(%L, %L, %L)', as_of, mode, p),
            format('SELECT store_id, %s, %s FROM exact ORDER BY store_id COLLATE "C"',
                   CASE p WHEN '1 hour' THEN 'uptime_last_hour_us' WHEN '1 day' THEN 'uptime_last_day_us' ELSE 'uptime_last_week_us' END,
                   CASE p WHEN '1 hour' THEN 'downtime_last_hour_us' WHEN '1 day' THEN 'downtime_last_day_us' ELSE 'downtime_last_week_us' END),
            format('storemon_window(%s) equals the report on every store %s', p, what));
    END LOOP;
    FOREACH p IN ARRAY ARRAY[interval '1 hour', interval '1 day', interval '7 days', interval '30 days'] LOOP
        RETURN NEXT is(
            (SELECT count(*) FROM storemon_window(as_of, mode, p) w
             LEFT JOIN (SELECT store_id, sum(duration_us) AS d, count(*) AS n
                        FROM storemon_outages(as_of, mode, p) GROUP BY store_id) o USING (store_id)
             WHERE coalesce(o.d, 0) <> w.downtime_us OR w.uptime_us + w.downtime_us <> w.business_us
                OR w.business_us > extract(epoch FROM p) * 1000000),
            0::bigint,
            format('every store''s outages over %s add up to its downtime exactly %s', p, what));
    END LOOP;
    DROP TABLE exact;
END
$$;

SELECT pg_temp.check_at('2023-11-05 12:00+00', 'nearest');
SELECT pg_temp.check_at('2023-11-05 12:00+00', ' Previous ');
SELECT pg_temp.check_at('2023-10-01 15:00+00', 'nearest');
SELECT pg_temp.check_at('2023-10-01 15:00+00', 'PREVIOUS');

-- Episodes are maximal, inside the window and business hours, and on the store's clock.
SELECT is((SELECT count(*) FROM (
              SELECT o.*, lag(ended_at) OVER (PARTITION BY store_id ORDER BY started_at) AS prev_end
              FROM storemon_outages('2023-11-05 12:00+00', 'nearest', '30 days') o) x
           WHERE prev_end >= started_at OR started_at >= ended_at
              OR started_at <= '2023-11-05 12:00+00'::timestamptz - interval '30 days'
              OR ended_at > '2023-11-05 12:00+00'::timestamptz + interval '1 microsecond'
              OR duration_us <> extract(epoch FROM ended_at - started_at) * 1000000
              OR minutes <> round(duration_us / 60e6, 2)),
          0::bigint, 'episodes are ordered, apart, non-empty, inside the window, their lengths right');
SELECT is((SELECT count(*) FROM storemon_outages('2023-11-05 12:00+00') o
           WHERE o.local_start <> o.started_at AT TIME ZONE o.timezone
              OR o.local_end <> o.ended_at AT TIME ZONE o.timezone),
          0::bigint, 'local_start and local_end are started_at and ended_at on the store''s clock');
SELECT is((SELECT count(DISTINCT o.store_id) FROM storemon_outages('2023-11-05 12:00+00') o
           WHERE o.timezone <> coalesce((SELECT n.name FROM timezones z JOIN pg_timezone_names n
                                         ON lower(n.name) = lower(z.timezone_str)
                                         WHERE z.store_id = o.store_id), 'America/Chicago')),
          0::bigint, 'timezone is the zone the report used (America/Chicago for none or unknown)');
-- An episode that the window's middle cuts: a closed hour between two down hours.
SELECT is((SELECT count(*) FROM storemon_outages('2023-11-05 12:00+00') o
           WHERE EXISTS (SELECT 1 FROM storemon_outages('2023-11-05 12:00+00') q
                         WHERE q.store_id = o.store_id AND q.started_at = o.ended_at)),
          0::bigint, 'no episode ends where the next one of its store starts');

-- Chosen stores: the same rows as the whole report, reading only those.
SELECT results_eq(
    $$SELECT * FROM storemon_compute('2023-11-05 12:00+00', store_ids => ARRAY['g7', 'g3', 'g3', 'g250'])$$,
    $$SELECT * FROM storemon_compute('2023-11-05 12:00+00') WHERE store_id IN ('g7', 'g3', 'g250')$$,
    'store_ids: unsorted, repeated ids give their rows of the report, in store_id order');
SELECT results_eq(
    $$SELECT * FROM storemon_compute_exact('2023-10-01 15:00+00', 'previous', store_ids => ARRAY['g11'])$$,
    $$SELECT * FROM storemon_compute_exact('2023-10-01 15:00+00', 'previous') WHERE store_id = 'g11'$$,
    'store_ids: storemon_compute_exact too');
SELECT results_eq(
    $$SELECT * FROM storemon_outages('2023-11-05 12:00+00', store_ids => ARRAY['g5', 'g9'])$$,
    $$SELECT * FROM storemon_outages('2023-11-05 12:00+00') WHERE store_id IN ('g5', 'g9')$$,
    'store_ids: storemon_outages too');
SELECT is((SELECT count(*) FROM storemon_compute(store_ids => ARRAY[]::text[])), 0::bigint,
          'store_ids: an empty list reports no store');
SELECT throws_ok($$SELECT * FROM storemon_compute(store_ids => ARRAY['g1', NULL])$$, '22004',
                 'storemon: store_ids element 2 is NULL', 'store_ids: a NULL element is an error');
SELECT is((SELECT count(*) FROM storemon_compute('2023-11-05 12:00+00', store_ids => ARRAY['nope', 'g1'])),
          1::bigint, 'store_ids: an id without polls gives no row (and a notice naming it)');
-- only those stores are read: index tuples fetched for one store stay with that store's polls
CREATE TEMP VIEW entries_read AS
SELECT pg_stat_get_xact_tuples_returned('storemon.store_status_store_time_idx'::regclass) AS polls,
       pg_stat_get_xact_tuples_returned('storemon.menu_hours_store_idx'::regclass) AS hours,
       pg_stat_get_xact_tuples_returned('storemon.timezones_pkey'::regclass) AS zones;
SELECT polls AS polls0, hours AS hours0, zones AS zones0 FROM entries_read \gset
SELECT count(*) FROM storemon_compute('2023-11-05 12:00+00', store_ids => ARRAY['g42']);
SELECT ok(polls - :polls0 <= (SELECT count(*) FROM store_status WHERE store_id = 'g42')
          AND hours - :hours0 <= 2 * (SELECT count(*) FROM menu_hours WHERE store_id = 'g42') + 1
          AND zones - :zones0 <= 2,
          format('store_ids: one store reads its own entries of the three indexes only (read %s polls, %s hours, %s zones)',
                 polls - :polls0, hours - :hours0, zones - :zones0))
FROM entries_read;

-- Windows: what is accepted.
SELECT lives_ok($$SELECT * FROM storemon_window('2023-11-05 12:00+00', period => '400 days')$$,
                'a window of 400 days works');
SELECT throws_ok($$SELECT * FROM storemon_window(period => '1 month')$$, '22023',
                 'storemon: period 1 mon has months, which have no fixed length', 'months are refused');
SELECT throws_ok($$SELECT * FROM storemon_window(period => '-1 day')$$, '22023',
                 'storemon: period -1 days is out of range', 'a negative period is refused');
SELECT throws_ok($$SELECT * FROM storemon_outages(period => NULL)$$, '22004',
                 'storemon: period must not be NULL', 'a NULL period is refused');
SELECT throws_ok($$SELECT * FROM storemon_window(interpolation => 'closest')$$, '22023',
                 'storemon: unknown interpolation mode "closest"', 'an unknown mode is still refused');

-- Every storemon object says what it is.
SELECT is((SELECT array_agg(pg_describe_object(d.classid, d.objid, d.objsubid) ORDER BY 1)
           FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'storemon'
           WHERE d.deptype = 'e' AND obj_description(d.objid, d.classid::regclass::name) IS NULL
             -- not the row and array types of its tables: members from 17 on, described by their table
             AND NOT EXISTS (SELECT FROM pg_depend i WHERE i.classid = d.classid AND i.objid = d.objid
                                                     AND i.deptype = 'i')),
          NULL, 'every member of the extension has a COMMENT');
SELECT is((SELECT array_agg(c.relname::text ORDER BY 1) FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname IN ('storemon', 'storemon_internal') AND c.relkind = 'i'
             AND obj_description(c.oid, 'pg_class') IS NULL),
          NULL, 'every index has a COMMENT');
SELECT * FROM finish();
ROLLBACK;
