-- The settled edges of SPEC.md, one small store each.
CREATE EXTENSION IF NOT EXISTS storemon;
SET search_path = public, storemon;

-- Nothing to report: an empty feed gives zero rows, not an error.
SELECT count(*) AS rows_on_empty_feed FROM storemon_compute();
SELECT storemon_default_as_of() AS default_as_of_on_empty_feed;

-- Ids: 64-bit integers and UUIDs, ordered in byte order (COLLATE "C").
INSERT INTO store_status VALUES
    ('9', '2023-01-23 12:00:00+00', 'active'),
    ('10', '2023-01-23 12:00:00+00', 'active'),
    ('a-1', '2023-01-23 12:00:00+00', 'active'),
    ('A-2', '2023-01-23 12:00:00+00', 'active'),
    ('8419537941919820732', '2023-01-23 12:00:00+00', 'active'),
    ('0f9a3c1e-5b7d-4e2a-9c8b-1d2e3f4a5b6c', '2023-01-23 12:00:00+00', 'inactive');
SELECT store_id, uptime_last_hour, downtime_last_hour FROM storemon_compute('2023-01-23 12:30:00+00');
-- Polls after as_of are ignored; a store whose first poll is after as_of is not reported.
INSERT INTO store_status VALUES ('late', '2023-01-23 13:00:00+00', 'active'),
                                ('9', '2023-01-23 12:20:00+00', 'inactive');
SELECT store_id, uptime_last_hour, downtime_last_hour
FROM storemon_compute('2023-01-23 12:10:00+00') WHERE store_id IN ('9', 'late');
-- ... and the same as_of later gives the same report.
SELECT store_id, uptime_last_hour FROM storemon_compute('2023-01-23 12:10:00+00') WHERE store_id = '9';
DELETE FROM store_status;

-- Midpoint ties: polls at 12:00:00 (active) and 12:00:00.000003 (inactive).
-- Instants 12:00:00.000000 .. .000001 are nearer the first; .000002 is nearer the second.
INSERT INTO store_status VALUES ('tie', '2023-01-23 12:00:00+00', 'active'),
                                ('tie', '2023-01-23 12:00:00.000003+00', 'inactive');
SELECT uptime_last_hour_us, downtime_last_hour_us
FROM storemon_compute_exact('2023-01-23 12:00:00.000003+00');
-- An even gap: 12:00 and 12:00:00.000004; the exact midpoint .000002 goes to the later poll.
UPDATE store_status SET timestamp_utc = '2023-01-23 12:00:00.000004+00' WHERE status = 'inactive';
SELECT uptime_last_hour_us, downtime_last_hour_us
FROM storemon_compute_exact('2023-01-23 12:00:00.000004+00');
-- Several polls at one instant: inactive wins.
INSERT INTO store_status VALUES ('tie', '2023-01-23 12:00:00.000004+00', 'active');
SELECT downtime_last_hour_us FROM storemon_compute_exact('2023-01-23 12:00:00.000004+00');
DELETE FROM store_status;

-- One poll: its status holds through the whole week (no hours: always open).
INSERT INTO store_status VALUES ('one', '2023-01-20 08:00:00+00', 'inactive');
SELECT * FROM storemon_compute('2023-01-23 12:00:00+00');
-- Polls stopped four days before as_of: the week window starts 2023-01-16 12:00;
-- the midpoint of the two polls is 2023-01-17 12:00, after it the last status
-- (inactive) is carried to as_of: up 24 h, down 144 h.
DELETE FROM store_status;
INSERT INTO store_status VALUES ('stale', '2023-01-15 12:00:00+00', 'active'),
                                ('stale', '2023-01-19 12:00:00+00', 'inactive');
SELECT * FROM storemon_compute('2023-01-23 12:00:00+00');
SELECT * FROM storemon_data_quality('2023-01-23 12:00:00+00');
DELETE FROM store_status;

-- Hours: overnight (Sun 22:00 - Mon 02:00), start = end (whole Wednesday),
-- overlapping rows, 24:00 ends; zone UTC so local = UTC.
INSERT INTO timezones VALUES ('h', 'UTC');
INSERT INTO menu_hours VALUES ('h', 6, '22:00', '02:00'), ('h', 2, '05:00', '05:00'),
                              ('h', 4, '09:00', '17:00'), ('h', 4, '12:00', '20:00'),
                              ('h', 5, '20:00', '24:00');
INSERT INTO store_status VALUES ('h', '2023-01-16 00:00:00+00', 'active');
-- Week (Mon 16th 12:00, Mon 23rd 12:00]: Wed 24 h + Fri 09-20 11 h + Sat 20-24 4 h
-- + Sun 22:00 - Mon 02:00 4 h = 43 h.
SELECT uptime_last_week, downtime_last_week FROM storemon_compute('2023-01-23 12:00:00+00');
DELETE FROM menu_hours; DELETE FROM timezones; DELETE FROM store_status;

-- Daylight saving, per instant on the local clock.  Each store is open
-- 01:00-04:00 local every day and always active.
INSERT INTO store_status
SELECT z, '2023-01-01 00:00:00+00', 'active'
FROM unnest(ARRAY['America/New_York', 'Europe/Berlin', 'Australia/Lord_Howe',
                  'Australia/Sydney', 'America/Phoenix']) z;
INSERT INTO timezones SELECT store_id, store_id FROM store_status;
INSERT INTO menu_hours SELECT store_id, d, '01:00', '04:00' FROM timezones, generate_series(0, 6) d;
-- Spring forward: New York 2023-03-12, Berlin 2023-03-26 (02:00 -> 03:00): 2 h that
-- Sunday, 20 h in the week.  Phoenix keeps 21 h.
SELECT store_id, uptime_last_day, uptime_last_week
FROM storemon_compute('2023-03-12 23:00:00+00') WHERE store_id IN ('America/New_York', 'America/Phoenix');
SELECT store_id, uptime_last_day, uptime_last_week
FROM storemon_compute('2023-03-26 12:00:00+00') WHERE store_id = 'Europe/Berlin';
-- Fall back: New York 2023-11-05, Berlin 2023-10-29 (01:00-02:00 or 02:00-03:00 twice): 4 h.
SELECT store_id, uptime_last_day, uptime_last_week
FROM storemon_compute('2023-11-05 23:00:00+00') WHERE store_id IN ('America/New_York', 'America/Phoenix');
SELECT store_id, uptime_last_day, uptime_last_week
FROM storemon_compute('2023-10-29 12:00:00+00') WHERE store_id = 'Europe/Berlin';
-- Lord Howe shifts by 30 minutes: 2023-04-02 02:00 -> 01:30 (01:30-02:00 twice: 3.5 h),
-- 2023-10-01 02:00 -> 02:30 (02:00-02:30 skipped: 2.5 h).  Sydney shifts a whole hour.
SELECT store_id, uptime_last_day, uptime_last_week
FROM storemon_compute('2023-04-02 12:00:00+00') WHERE store_id LIKE 'Australia/%';
SELECT store_id, uptime_last_day, uptime_last_week
FROM storemon_compute('2023-10-01 12:00:00+00') WHERE store_id LIKE 'Australia/%';
DELETE FROM menu_hours; DELETE FROM timezones; DELETE FROM store_status;

-- Zones: missing row, NULL, unknown name, abbreviation, POSIX string, empty string,
-- and a known name in other letter case.  All but the last mean America/Chicago:
-- open 09:00-10:00 Chicago = 15:00-16:00 UTC on Monday 2023-01-23, so 0.75 h by
-- 15:45 UTC; in Tokyo the same hours were 00:00-01:00 UTC: 1.00 h.
INSERT INTO store_status
SELECT s, '2023-01-23 15:30:00+00', 'active'
FROM unnest(ARRAY['missing', 'null', 'unknown', 'abbrev', 'posix', 'empty', 'case']) s;
INSERT INTO timezones VALUES ('null', NULL), ('unknown', 'Mars/Olympus'), ('abbrev', 'XYZT'),
    ('posix', 'UTC+3'), ('empty', ''), ('case', 'asia/tokyo');
INSERT INTO menu_hours SELECT store_id, 0, '09:00', '10:00' FROM
    (SELECT DISTINCT store_id FROM store_status) s;
SELECT store_id, uptime_last_day FROM storemon_compute('2023-01-23 15:45:00+00');
SELECT * FROM storemon_data_quality('2023-01-23 15:45:00+00');

-- Bad requests say what was wrong and what is accepted.
SELECT * FROM storemon_compute(NULL, 'linear');
SELECT * FROM storemon_compute(NULL, NULL);
SELECT * FROM storemon_compute('infinity');
-- PostgreSQL's own refusal, without its hint (the setting is "datestyle"
-- in it before 18, "DateStyle" from 18 on).
\set VERBOSITY terse
SELECT * FROM storemon_compute('2023-13-45');
\set VERBOSITY default

-- as_of at the ends of PostgreSQL's range: refused with the range, never a crash.
SELECT * FROM storemon_compute('294276-12-25 UTC');
SELECT * FROM storemon_compute('4714-11-25 00:00 UTC BC');
SELECT count(*) AS rows_a_month_later FROM storemon_compute('4714-12-25 00:00 UTC BC');
-- ... and the extremes it accepts are computed, in a daylight-saving zone with hours.
INSERT INTO timezones VALUES ('far', 'America/New_York');
INSERT INTO menu_hours VALUES ('far', 0, '09:00', '17:00'), ('far', 5, '22:00', '02:00');
INSERT INTO store_status VALUES ('far', '294276-12-17 12:00 UTC', 'active'),
                                ('far', '4714-12-07 12:00 UTC BC', 'inactive');
SELECT * FROM storemon_compute('294276-12-18 00:00 UTC') WHERE store_id = 'far';
SELECT * FROM storemon_compute('4714-12-08 00:00 UTC BC') WHERE store_id = 'far';
DELETE FROM store_status WHERE store_id = 'far';
SELECT * FROM storemon_data_quality('infinity');
-- A huge argument is not echoed whole.
SELECT * FROM storemon_compute(NULL, repeat('x', 100000));

-- storemon keeps its own schemas; a table called store_status elsewhere,
-- even first on search_path, is never read.
DROP EXTENSION storemon;
CREATE EXTENSION storemon SCHEMA public;
CREATE SCHEMA storemon;
-- The refusal and its hint, without the context (18 adds the script's
-- DO block, file and line to it).
\set SHOW_CONTEXT never
CREATE EXTENSION storemon;
\set SHOW_CONTEXT errors
DROP SCHEMA storemon;
CREATE EXTENSION storemon;
SET search_path = public, storemon;
CREATE TABLE public.store_status (store_id text, timestamp_utc timestamptz, status text);
INSERT INTO public.store_status VALUES ('decoy', '2023-01-23 12:00:00+00', 'active');
INSERT INTO storemon.store_status VALUES ('real', '2023-01-23 12:00:00+00', 'inactive');
SELECT store_id, downtime_last_hour FROM storemon_compute('2023-01-23 12:30:00+00');
DROP TABLE public.store_status;
DROP EXTENSION storemon;
SELECT count(*) AS storemon_schemas_left FROM pg_namespace WHERE nspname LIKE 'storemon%';
