-- Run once by scripts/pgtap before pg_prove: extensions and helpers for the
-- pgTAP files.  Not a test itself.
\set ON_ERROR_STOP 1
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS dblink;
CREATE EXTENSION IF NOT EXISTS storemon;
CREATE SCHEMA IF NOT EXISTS test_helpers;
-- The one line of the README's usage: the API unqualified in this database.
ALTER DATABASE storemon_test SET search_path = "$user", public, storemon;

-- Poll a query (one boolean) every 50 ms until it is true or timeout_s have
-- passed, and say which: the TAP tests' poll_query_until for the pgTAP
-- files, which are one psql session each and have no other way to wait.
-- The statistics snapshot is dropped each time, so pg_stat_* views are read anew.
CREATE OR REPLACE FUNCTION test_helpers.poll_until(query text, timeout_s float8)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    done boolean;
    deadline timestamptz := clock_timestamp() + make_interval(secs => timeout_s);
BEGIN
    LOOP
        PERFORM pg_stat_clear_snapshot();
        EXECUTE query INTO done;
        EXIT WHEN done OR clock_timestamp() > deadline;
        PERFORM pg_sleep(0.05);
    END LOOP;
    RETURN coalesce(done, false);
END
$$;

-- The report's status once it is one of the wanted ones (or when the poll gives up).
CREATE OR REPLACE FUNCTION test_helpers.wait_report(id uuid, wanted text[], timeout_s float8 DEFAULT 60)
RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM test_helpers.poll_until(
        format('SELECT status = ANY (%L) FROM storemon.reports WHERE id = %L', wanted, id), timeout_s);
    RETURN (SELECT r.status FROM storemon.reports r WHERE r.id = wait_report.id);
END
$$;

-- The detail storemon_get_report gives once it matches pattern (or when the poll gives up).
CREATE OR REPLACE FUNCTION test_helpers.wait_detail(id uuid, pattern text, timeout_s float8 DEFAULT 30)
RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM test_helpers.poll_until(
        format('SELECT detail ~ %L FROM storemon.storemon_get_report(%L) LIMIT 1', pattern, id), timeout_s);
    RETURN (SELECT g.detail FROM storemon.storemon_get_report(wait_detail.id) g LIMIT 1);
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
