-- A store's zone name counts when pg_timezone_names lists it, in any letter
-- case; anything else means America/Chicago (README).  src/zones.c resolves
-- most names by loading just that zone and consults the full list only for
-- names it cannot tell that way; this checks the two agree.  Each name gets
-- a store "a…" with that name and a twin "b…" with the listed spelling (or
-- America/Chicago); the twins must have identical figures.
\set ON_ERROR_STOP 1
\set QUIET 1
SET client_min_messages = warning;
BEGIN;
SELECT plan(2);
DELETE FROM store_status; DELETE FROM menu_hours; DELETE FROM timezones;

CREATE TEMP TABLE names AS
SELECT n AS zname, (SELECT name FROM pg_timezone_names WHERE lower(name) = lower(n) LIMIT 1) AS listed,
       row_number() OVER () AS i
FROM (SELECT name FROM (SELECT name, row_number() OVER (ORDER BY name) AS k FROM pg_timezone_names) z WHERE k % 4 = 0
      UNION ALL SELECT upper(name) FROM (SELECT name, row_number() OVER (ORDER BY name) AS k FROM pg_timezone_names) z WHERE k % 4 = 2
      UNION ALL VALUES ('EST5EDT'), ('est5edt'), ('XYZ5'), ('Factory'), ('factory'), ('posixrules'), ('right/UTC'),
                       ('RIGHT/America/New_York'), ('America/../America/New_York'), ('UTC+3'), ('<+03>-3'), ('GMT'),
                       ('gmt'), ('Zulu'), ('zone.tab'), ('America/New_York/'), ('/America/New_York'),
                       ('America//New_York'), ('PST8PDT'), ('EST'), ('UCT'), ('us/eastern'), ('Asia/Kathmandu')) v(n);
INSERT INTO timezones SELECT 'a' || i, zname FROM names;
INSERT INTO timezones SELECT 'b' || i, coalesce(listed, 'America/Chicago') FROM names;
INSERT INTO menu_hours SELECT s || i, d, '09:00', '13:00' FROM names, (VALUES ('a'), ('b')) x(s), generate_series(0, 6) d;
INSERT INTO store_status
SELECT s || i, t, CASE WHEN extract(hour FROM t)::int % 5 = 0 THEN 'inactive' ELSE 'active' END
FROM names, (VALUES ('a'), ('b')) x(s),
     generate_series('2023-03-07 16:00+00'::timestamptz, '2023-03-08 17:00+00', '1 hour') t;
CREATE TEMP TABLE r AS SELECT * FROM storemon_compute_exact('2023-03-08 17:30+00');

SELECT is((SELECT count(*) FROM r a JOIN r b ON b.store_id = 'b' || substr(a.store_id, 2)
           WHERE a.store_id LIKE 'a%'
             AND (a.uptime_last_hour_us, a.uptime_last_day_us, a.downtime_last_day_us)
                 IS DISTINCT FROM (b.uptime_last_hour_us, b.uptime_last_day_us, b.downtime_last_day_us)),
          0::bigint, 'every name resolves to the zone pg_timezone_names lists for it, or to Chicago');
-- The check can fail: most listed zones give other figures than Chicago.
SELECT cmp_ok((SELECT count(*) FROM r a JOIN names n ON a.store_id = 'a' || n.i
               JOIN r c ON c.store_id = (SELECT 'b' || i FROM names WHERE listed IS NULL LIMIT 1)
               WHERE n.listed IS NOT NULL
                 AND (a.uptime_last_hour_us, a.uptime_last_day_us) IS DISTINCT FROM (c.uptime_last_hour_us, c.uptime_last_day_us)),
              '>', (SELECT count(*) / 2 FROM names WHERE listed IS NOT NULL),
              'a zone taken for Chicago would show');
SELECT * FROM finish();
ROLLBACK;
