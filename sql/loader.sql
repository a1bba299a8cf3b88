-- scripts/storemon-load: headers by name, all-or-nothing, clear errors.
CREATE EXTENSION IF NOT EXISTS storemon;
-- The loader connects to this test's database.
\setenv PGDATABASE :DBNAME
SET TimeZone = 'America/Los_Angeles';  -- the loader reads offset-less times as UTC anyway

-- Good files: either column order, " UTC" suffix, ISO "T...Z", offsets, CRLF,
-- letter case and spaces in status; day / dayOfWeek / day_of_week.
\! scripts/storemon-load --status test/fixtures/status_ok.csv --hours test/fixtures/hours_day.csv --zones test/fixtures/zones_dup.csv
\! scripts/storemon-load --status test/fixtures/status_reordered.csv
SELECT store_id, to_char(timestamp_utc AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS utc, status
FROM store_status ORDER BY timestamp_utc, store_id;
-- One zone per store: the last row in the file wins.
SELECT * FROM timezones ORDER BY store_id;
\! scripts/storemon-load --hours test/fixtures/hours_dayOfWeek.csv
SELECT * FROM menu_hours ORDER BY store_id, day_of_week;
\! scripts/storemon-load --hours test/fixtures/hours_day_of_week.csv
SELECT * FROM menu_hours ORDER BY store_id, day_of_week;

-- Bad rows: the load stops naming file, line and value; nothing changes.
CREATE TEMP TABLE before AS
SELECT (SELECT count(*) FROM store_status) AS polls, (SELECT count(*) FROM menu_hours) AS hours,
       (SELECT count(*) FROM timezones) AS zones;
\! scripts/storemon-load --status test/fixtures/bad_fraction.csv
\! scripts/storemon-load --status test/fixtures/bad_status.csv
\! scripts/storemon-load --status test/fixtures/bad_status_null.csv
\! scripts/storemon-load --status test/fixtures/bad_date.csv
\! scripts/storemon-load --status test/fixtures/bad_timestamp.csv
\! scripts/storemon-load --status test/fixtures/bad_columns.csv
\! scripts/storemon-load --status test/fixtures/bad_header.csv
\! scripts/storemon-load --hours test/fixtures/bad_day.csv
\! scripts/storemon-load --hours test/fixtures/bad_time.csv
\! scripts/storemon-load --hours test/fixtures/bad_time_null.csv
\! scripts/storemon-load --zones test/fixtures/bad_zone_store.csv
\! scripts/storemon-load --status test/fixtures/no_such_file.csv
-- A good hours file with a bad status file in the same load: nothing of either lands.
\! scripts/storemon-load --hours test/fixtures/hours_dayOfWeek.csv --status test/fixtures/bad_status.csv
SELECT (SELECT count(*) FROM store_status) = polls AS polls_unchanged,
       (SELECT count(*) FROM menu_hours) = hours AS hours_unchanged,
       (SELECT count(*) FROM timezones) = zones AS zones_unchanged
FROM before;
SELECT * FROM menu_hours ORDER BY store_id, day_of_week;
DROP EXTENSION storemon;
