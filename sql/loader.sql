-- storemon-load: headers by name, all-or-nothing, clear errors.
CREATE EXTENSION IF NOT EXISTS storemon;
SET search_path = public, storemon;
-- The loader connects to this test's database.
\setenv PGDATABASE :DBNAME
-- make installcheck names the installed loader ($STOREMON_LOAD) and the
-- directory of its files ($STOREMON_FIXTURES, test/loader/): the loads run
-- from there, whatever pg_regress's working directory, and name the files.
\getenv fixtures STOREMON_FIXTURES
\cd :fixtures
SET TimeZone = 'America/Los_Angeles';  -- the loader reads offset-less times as UTC anyway

-- Good files: either column order, " UTC" suffix, ISO "T...Z", offsets, CRLF,
-- letter case and spaces in status; day / dayOfWeek / day_of_week.
\! "$STOREMON_LOAD" --status status_ok.csv --hours hours_day.csv --zones zones_dup.csv
\! "$STOREMON_LOAD" --status status_reordered.csv
SELECT store_id, to_char(timestamp_utc AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS utc, status
FROM store_status ORDER BY timestamp_utc, store_id;
-- One zone per store: the last row in the file wins.
SELECT * FROM timezones ORDER BY store_id;
\! "$STOREMON_LOAD" --hours hours_dayOfWeek.csv
SELECT * FROM menu_hours ORDER BY store_id, day_of_week;
\! "$STOREMON_LOAD" --hours hours_day_of_week.csv
SELECT * FROM menu_hours ORDER BY store_id, day_of_week;

-- Bad rows: the load stops naming file, line and value; nothing changes.
CREATE TEMP TABLE before AS
SELECT (SELECT count(*) FROM store_status) AS polls, (SELECT count(*) FROM menu_hours) AS hours,
       (SELECT count(*) FROM timezones) AS zones;
\! "$STOREMON_LOAD" --status bad_fraction.csv
\! "$STOREMON_LOAD" --status bad_status.csv
\! "$STOREMON_LOAD" --status bad_status_null.csv
\! "$STOREMON_LOAD" --status bad_date.csv
\! "$STOREMON_LOAD" --status bad_timestamp.csv
\! "$STOREMON_LOAD" --status bad_columns.csv
\! "$STOREMON_LOAD" --status bad_header.csv
\! "$STOREMON_LOAD" --hours bad_day.csv
\! "$STOREMON_LOAD" --hours bad_time.csv
\! "$STOREMON_LOAD" --hours bad_time_null.csv
\! "$STOREMON_LOAD" --zones bad_zone_store.csv
\! "$STOREMON_LOAD" --status no_such_file.csv
-- A file without data rows would empty a table: refused, naming the file.
\! "$STOREMON_LOAD" --hours hours_empty.csv
\! "$STOREMON_LOAD" --zones zones_empty.csv
-- An id the index cannot hold is refused with file, line and a cut value.
\! "$STOREMON_LOAD" --status bad_long_id.csv
-- Line numbers are physical lines: a quoted field spanning two lines counts two.
\! "$STOREMON_LOAD" --status bad_status_after_multiline.csv
-- A record with a field too many names the file, the line and the header.
\! "$STOREMON_LOAD" --hours bad_hours_columns.csv
-- The loader checks a timestamp's shape in C (src/feed_format.c): it must
-- accept exactly what the regular expression of its error path accepts, on
-- the tricky cases and on 30,000 random one-character edits of good ones.
-- A vertical tab is written E'\x0B': E'\v' is one only from PostgreSQL 17 on.
SELECT setseed(0.42);
WITH re AS (
    SELECT '^\s*\d{4}-\d{2}-\d{2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?\s*(UTC|GMT|Z|[+-]\d{1,2}(:?\d{2})?)?\s*$' AS re
), good AS (
    SELECT ARRAY['2023-01-22 12:09:39.388884 UTC', '2023-01-22T12:09:39Z', '2023-01-22 12:09 +05:30',
                 '2023-01-22 1:09:39.3 -0800', '2023-01-22', '  2023-01-22 12:09:39 gmt  ',
                 '2023-01-22t12:09:39.123456+5', '2023-01-22 12:09:39 +530'] AS g
), cases AS (
    SELECT unnest(ARRAY['', ' ', 'now', 'epoch', 'infinity', '2023-01-22 12:09:39 PST', '2023-01-22T',
                        '2023-01-22 12', '2023-01-22 12:0', '2023-01-22  12:00', '2023-01-22 12:00:00.',
                        '2023-01-22 12:00:00.1234567', '2023-01-22 12:00 +05:', '2023-01-22 12:00 +05:3',
                        '2023-01-22 12:00 +12345', '2023-01-22 12:00 +', '2023-01-22 12:00 +053:00',
                        '2023-01-22UTC', '2023-01-22 Z', '2023-01-221', E'2023-01-22\t12:00',
                        E'2023-01-22 12:00\x0B', '2023-1-22', '02023-01-22']) AS s
    UNION ALL
    SELECT CASE i % 3
               WHEN 0 THEN overlay(b PLACING c FROM p FOR 1)
               WHEN 1 THEN overlay(b PLACING c FROM p FOR 0)
               ELSE overlay(b PLACING '' FROM p FOR 1) END
    FROM (SELECT i, b, 1 + floor(random() * length(b))::int AS p,
                 substr(E'0123456789-: T.tZzUuCcGgMm+\t', 1 + floor(random() * 29)::int, 1) AS c
          FROM generate_series(1, 30000) i, good, LATERAL (SELECT g[1 + i % array_length(g, 1)] AS b) pick) m
)
SELECT count(*) AS cases,
       count(*) FILTER (WHERE storemon_internal.is_feed_timestamp(s)) AS accepted,
       count(*) FILTER (WHERE storemon_internal.is_feed_timestamp(s) IS DISTINCT FROM (s ~* re)) AS disagreements
FROM cases, re;
-- A good hours file with a bad status file in the same load: nothing of either lands.
\! "$STOREMON_LOAD" --hours hours_dayOfWeek.csv --status bad_status.csv
SELECT (SELECT count(*) FROM store_status) = polls AS polls_unchanged,
       (SELECT count(*) FROM menu_hours) = hours AS hours_unchanged,
       (SELECT count(*) FROM timezones) = zones AS zones_unchanged
FROM before;
SELECT * FROM menu_hours ORDER BY store_id, day_of_week;
-- Emptying a table on purpose takes --allow-empty.
\! "$STOREMON_LOAD" --hours hours_empty.csv --allow-empty
SELECT count(*) AS hours_after_allow_empty FROM menu_hours;
DROP EXTENSION storemon;
