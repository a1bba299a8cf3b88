-- Run once by scripts/pgtap before pg_prove: extensions and helpers for the
-- pgTAP files.  Not a test itself.
\set ON_ERROR_STOP 1
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS dblink;
CREATE EXTENSION IF NOT EXISTS storemon;
CREATE SCHEMA IF NOT EXISTS test_helpers;
-- The one line of the README's usage: the API unqualified in this database.
ALTER DATABASE storemon_test SET search_path = "$user", public, storemon;

-- Wait (polling, 50 ms) until report id has one of the wanted statuses.
CREATE OR REPLACE FUNCTION test_helpers.wait_report(id uuid, wanted text[], timeout_s float8 DEFAULT 60)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    st text;
    deadline timestamptz := clock_timestamp() + make_interval(secs => timeout_s);
BEGIN
    LOOP
        SELECT r.status INTO st FROM storemon.reports r WHERE r.id = wait_report.id;
        EXIT WHEN st = ANY (wanted) OR clock_timestamp() > deadline;
        PERFORM pg_sleep(0.05);
    END LOOP;
    RETURN st;
END
$$;

-- Wait (polling, 50 ms) until the detail storemon_get_report gives matches.
CREATE OR REPLACE FUNCTION test_helpers.wait_detail(id uuid, pattern text, timeout_s float8 DEFAULT 30)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    d text;
    deadline timestamptz := clock_timestamp() + make_interval(secs => timeout_s);
BEGIN
    LOOP
        SELECT g.detail INTO d FROM storemon.storemon_get_report(wait_detail.id) g LIMIT 1;
        EXIT WHEN d ~ pattern OR clock_timestamp() > deadline;
        PERFORM pg_sleep(0.05);
    END LOOP;
    RETURN d;
END
$$;

-- A libpq connection string back to this server and database.
CREATE OR REPLACE FUNCTION test_helpers.conninfo() RETURNS text LANGUAGE sql AS $$
    SELECT format('dbname=%s host=%s port=%s user=postgres', current_database(),
                  split_part(current_setting('unix_socket_directories'), ',', 1),
                  current_setting('port'))
$$;

-- The report's rows without the status/detail columns, for results_eq.
CREATE OR REPLACE FUNCTION test_helpers.report_rows(id uuid)
RETURNS TABLE (store_id text, uh numeric, ud numeric, uw numeric, dh numeric, dd numeric, dw numeric)
LANGUAGE sql AS $$
    SELECT g.store_id, g.uptime_last_hour, g.uptime_last_day, g.uptime_last_week,
           g.downtime_last_hour, g.downtime_last_day, g.downtime_last_week
    FROM storemon.storemon_get_report(id) g
$$;
