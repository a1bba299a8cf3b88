-- An independent check: a deliberately naive evaluation of SPEC.md that
-- samples every 5 minutes (PostgreSQL's AT TIME ZONE for local time, a
-- nearest-poll lookup per sample) against storemon_compute_exact, on random
-- small stores around daylight-saving changes in several zones.
--
-- Every boundary of a case lies on the 5-minute grid (polls, hours and as_of
-- on 10 minutes, zone offsets in quarter hours), so the status and "open"
-- are constant on each 5-minute piece [m, m + 5 min) and the exact measure
-- of (T - W, T] is  sum over pieces of 5 min * f(m)  - f(T - W) + f(T).
BEGIN;
SELECT plan(16);

CREATE FUNCTION pg_temp.open_at(store text, zone text, t timestamptz) RETURNS boolean
LANGUAGE sql STABLE AS $$
    WITH l AS (SELECT t AT TIME ZONE zone AS loc)
    SELECT NOT EXISTS (SELECT 1 FROM menu_hours h WHERE h.store_id = store)
        OR EXISTS (
            SELECT 1 FROM menu_hours h, l,
                LATERAL (SELECT extract(isodow FROM l.loc)::int - 1 AS d, l.loc::time AS tau) x
            WHERE h.store_id = store AND (
                (h.start_time_local < h.end_time_local AND h.day_of_week = x.d
                    AND x.tau >= h.start_time_local AND x.tau < h.end_time_local)
             OR (h.start_time_local > h.end_time_local
                    AND ((h.day_of_week = x.d AND x.tau >= h.start_time_local)
                      OR (h.day_of_week = (x.d + 6) % 7 AND x.tau < h.end_time_local)))
             OR (h.start_time_local = h.end_time_local AND h.day_of_week = x.d)))
$$;

CREATE FUNCTION pg_temp.active_at(store text, t timestamptz, as_of timestamptz, mode text)
RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT p.status = 'active' FROM store_status p
    WHERE p.store_id = store AND p.timestamp_utc <= as_of
    ORDER BY CASE WHEN mode = 'nearest' THEN abs(extract(epoch FROM p.timestamp_utc - t)) END,
             CASE WHEN mode = 'previous' THEN p.timestamp_utc <= t END DESC,
             CASE WHEN mode = 'previous' AND p.timestamp_utc > t THEN p.timestamp_utc END,
             CASE WHEN mode = 'nearest' OR p.timestamp_utc <= t THEN p.timestamp_utc END DESC,
             p.status = 'inactive' DESC
    LIMIT 1
$$;

CREATE FUNCTION pg_temp.naive(as_of timestamptz, mode text)
RETURNS TABLE (store_id text, uh bigint, ud bigint, uw bigint, dh bigint, dd bigint, dw bigint)
LANGUAGE sql STABLE AS $$
    WITH known AS MATERIALIZED (
        SELECT lower(name) AS key, name FROM pg_timezone_names
    ), stores AS MATERIALIZED (
        SELECT s.store_id,
               coalesce((SELECT k.name FROM timezones z JOIN known k ON k.key = lower(z.timezone_str)
                         WHERE z.store_id = s.store_id), 'America/Chicago') AS zone
        FROM (SELECT DISTINCT p.store_id FROM store_status p WHERE p.timestamp_utc <= as_of) s
    ), samples AS (
        SELECT s.store_id, m, pg_temp.open_at(s.store_id, s.zone, m) AS open,
               pg_temp.active_at(s.store_id, m, as_of, mode) AS active
        FROM stores s, generate_series(as_of - interval '168 hours', as_of, interval '5 minutes') m
    ), weighted AS (
        SELECT store_id, active, w.len,
               sum(CASE WHEN m < as_of THEN 300000000 ELSE 1 END
                   - CASE WHEN m = as_of - w.len THEN 1 ELSE 0 END) AS us
        FROM samples,
             (VALUES (interval '1 hour'), (interval '24 hours'), (interval '168 hours')) w (len)
        WHERE open AND m >= as_of - w.len
        GROUP BY store_id, active, w.len
    )
    SELECT s.store_id,
        coalesce(sum(us) FILTER (WHERE active AND len = '1 hour'), 0)::bigint,
        coalesce(sum(us) FILTER (WHERE active AND len = '24 hours'), 0)::bigint,
        coalesce(sum(us) FILTER (WHERE active AND len = '168 hours'), 0)::bigint,
        coalesce(sum(us) FILTER (WHERE NOT active AND len = '1 hour'), 0)::bigint,
        coalesce(sum(us) FILTER (WHERE NOT active AND len = '24 hours'), 0)::bigint,
        coalesce(sum(us) FILTER (WHERE NOT active AND len = '168 hours'), 0)::bigint
    FROM stores s LEFT JOIN weighted w ON w.store_id = s.store_id
    GROUP BY s.store_id
    ORDER BY s.store_id COLLATE "C"
$$;

-- Random stores around as_of: 0-4 hours rows (overnight, whole-day and
-- overlapping ones included), 1-10 polls from 9 days before as_of to a day
-- after it, on the 10-minute grid, some at one instant.
CREATE FUNCTION pg_temp.make_case(seed float8, as_of timestamptz, nstores int) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    zones text[] := ARRAY['America/New_York', 'Europe/London', 'Australia/Lord_Howe',
                          'Asia/Kathmandu', 'America/Phoenix', 'Pacific/Chatham',
                          'australia/sydney', NULL, 'Bogus/Zone', 'UTC',
                          -- listed: an all-capitals file, a link in other case;
                          -- not listed: a POSIX spec, the two files left out, leap seconds
                          'EST5EDT', 'us/eastern', 'XYZ5', 'Factory', 'posixrules', 'right/UTC'];
    i int; k int; id text; z text; t timestamptz;
BEGIN
    DELETE FROM store_status; DELETE FROM menu_hours; DELETE FROM timezones;
    PERFORM setseed(seed);
    FOR i IN 1 .. nstores LOOP
        id := CASE WHEN random() < 0.5 THEN (floor(random() * 9e18))::bigint::text
                   ELSE gen_random_uuid()::text END;
        z := zones[1 + floor(random() * array_length(zones, 1))::int];
        IF random() < 0.9 THEN
            INSERT INTO timezones VALUES (id, z);
        END IF;
        FOR k IN 1 .. floor(random() * 5)::int LOOP
            INSERT INTO menu_hours VALUES (id, floor(random() * 7)::int,
                make_interval(mins => 10 * floor(random() * 145)::int)::time,
                CASE WHEN random() < 0.1 THEN '24:00:00'::time
                     ELSE make_interval(mins => 10 * floor(random() * 144)::int)::time END);
        END LOOP;
        FOR k IN 1 .. 1 + floor(random() * 10)::int LOOP
            t := as_of - make_interval(mins => 10 * floor(random() * (10 * 144))::int - 144 * 10);
            INSERT INTO store_status VALUES (id, t,
                CASE WHEN random() < 0.4 THEN 'inactive' ELSE 'active' END);
            IF random() < 0.1 THEN
                INSERT INTO store_status VALUES (id, t,
                    CASE WHEN random() < 0.5 THEN 'inactive' ELSE 'active' END);
            END IF;
        END LOOP;
    END LOOP;
END
$$;

CREATE FUNCTION pg_temp.check_case(seed float8, as_of timestamptz, what text)
RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    mode text;
BEGIN
    PERFORM pg_temp.make_case(seed, as_of, 8);
    FOREACH mode IN ARRAY ARRAY['nearest', 'previous'] LOOP
        RETURN NEXT results_eq(
            format('SELECT * FROM storemon_compute_exact(%L, %L)', as_of, mode),
            format('SELECT * FROM pg_temp.naive(%L, %L)', as_of, mode),
            format('%s (%s, seed %s)', what, mode, seed));
    END LOOP;
END
$$;

SELECT pg_temp.check_case(0.11, '2023-03-12 12:00:00+00', 'US spring forward');
SELECT pg_temp.check_case(0.22, '2023-11-05 12:00:00+00', 'US fall back');
SELECT pg_temp.check_case(0.33, '2023-04-02 16:00:00+00', 'Australia fall back, Lord Howe 30 min');
SELECT pg_temp.check_case(0.44, '2023-10-01 16:00:00+00', 'Lord Howe spring 30 min');
SELECT pg_temp.check_case(0.55, '2023-03-26 12:00:00+00', 'Europe spring forward');
SELECT pg_temp.check_case(0.66, '2023-10-29 12:00:00+00', 'Europe fall back');
SELECT pg_temp.check_case(0.77, '2023-09-24 12:00:00+00', 'Chatham +12:45 spring');
SELECT pg_temp.check_case(0.88, '2023-01-25 18:10:00+00', 'no transition, Loop sample week');

SELECT * FROM finish();
ROLLBACK;
