-- The worked example of SPEC.md, both interpolation modes, exact and rounded.
CREATE EXTENSION IF NOT EXISTS storemon;
SET search_path = public, storemon;
INSERT INTO timezones VALUES ('s1', 'America/New_York');
INSERT INTO menu_hours VALUES ('s1', 0, '09:00', '12:00');
INSERT INTO store_status VALUES
    ('s1', '2023-01-23 15:14:00+00', 'active'),    -- 10:14 local
    ('s1', '2023-01-23 16:15:00+00', 'inactive');  -- 11:15 local

-- nearest: uptime 0.00 / 1.74 / 1.74, downtime 60.00 / 1.26 / 1.26
SELECT * FROM storemon_compute('2023-01-23 17:00:00+00');
-- previous: uptime 15.00 / 2.25, downtime 45.00 / 0.75
SELECT * FROM storemon_compute('2023-01-23 17:00:00+00', 'previous');
-- exact microseconds: the store closes at T, so the hour holds 1 h - 1 us of business
SELECT * FROM storemon_compute_exact('2023-01-23 17:00:00+00');
-- uptime + downtime = business time, in every window
SELECT uptime_last_hour_us + downtime_last_hour_us AS hour_us,
       uptime_last_day_us + downtime_last_day_us AS day_us,
       uptime_last_week_us + downtime_last_week_us AS week_us
FROM storemon_compute_exact('2023-01-23 17:00:00+00');
-- The session's TimeZone changes nothing.
SET TimeZone = 'Asia/Kolkata';
SELECT * FROM storemon_compute('2023-01-23 17:00:00+00');
RESET TimeZone;
-- Numbers print with two decimals.
SELECT uptime_last_hour::text, downtime_last_hour::text FROM storemon_compute('2023-01-23 17:00:00+00');
DROP EXTENSION storemon;
