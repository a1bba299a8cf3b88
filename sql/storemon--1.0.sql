-- storemon 1.0: tables, computation, loader, data-quality findings, reports.
-- Objects are created in the schema given to CREATE EXTENSION; everything
-- below refers to them through @extschema@, never through search_path.

\echo Use "CREATE EXTENSION storemon" to load this file. \quit

--------------------------------------------------------------------------
-- Input tables (SPEC.md "Inputs").  store_id sorts in byte order
-- (COLLATE "C"), which is the report's order; the C code relies on it.
--------------------------------------------------------------------------

CREATE TABLE @extschema@.store_status (
    store_id      text COLLATE "C" NOT NULL CHECK (store_id <> ''),
    timestamp_utc timestamptz NOT NULL,
    status        text NOT NULL CHECK (status IN ('active', 'inactive'))
);
COMMENT ON TABLE @extschema@.store_status IS 'One row per poll of a store: active or inactive at timestamp_utc.';
-- Per store, in time order, with the status: the report reads each store's week
-- from this index alone (index-only, see src/compute.c).
CREATE INDEX store_status_store_time_idx ON @extschema@.store_status (store_id, timestamp_utc) INCLUDE (status);
-- The latest poll: the default as_of.
CREATE INDEX store_status_time_idx ON @extschema@.store_status (timestamp_utc);

CREATE TABLE @extschema@.menu_hours (
    store_id         text COLLATE "C" NOT NULL CHECK (store_id <> ''),
    day_of_week      smallint NOT NULL CHECK (day_of_week BETWEEN 0 AND 6),
    start_time_local time NOT NULL,
    end_time_local   time NOT NULL
);
COMMENT ON TABLE @extschema@.menu_hours IS 'Business hours in local wall-clock time; 0 = Monday. start > end runs past midnight; start = end is the whole day.';
-- Covering: the report reads hours from this index alone, in store order.
CREATE INDEX menu_hours_store_idx ON @extschema@.menu_hours (store_id)
    INCLUDE (day_of_week, start_time_local, end_time_local);

CREATE TABLE @extschema@.timezones (
    store_id     text COLLATE "C" NOT NULL CHECK (store_id <> ''),
    timezone_str text,
    -- Covering: the report reads zones from this index alone, in store order.
    CONSTRAINT timezones_pkey PRIMARY KEY (store_id) INCLUDE (timezone_str)
);
COMMENT ON TABLE @extschema@.timezones IS 'IANA zone of a store; missing, NULL or unknown means America/Chicago.';

-- pg_dump keeps the rows of extension tables only when told to.
SELECT pg_catalog.pg_extension_config_dump('@extschema@.store_status', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.menu_hours', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.timezones', '');

--------------------------------------------------------------------------
-- The computation (src/compute.c, src/functions.c).
--------------------------------------------------------------------------

CREATE FUNCTION @extschema@.storemon_compute(
    as_of timestamptz DEFAULT NULL,
    interpolation text DEFAULT 'nearest',
    from_store text DEFAULT NULL,
    to_store text DEFAULT NULL)
RETURNS TABLE (
    store_id             text,
    uptime_last_hour     numeric,
    uptime_last_day      numeric,
    uptime_last_week     numeric,
    downtime_last_hour   numeric,
    downtime_last_day    numeric,
    downtime_last_week   numeric)
AS 'MODULE_PATHNAME', 'storemon_compute'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.storemon_compute(timestamptz, text, text, text) IS
'The report as of as_of (default: latest poll): one row per store in store_id order; last hour in minutes, day and week in hours, two decimals.  from_store <= store_id < to_store (byte order) when given.';

CREATE FUNCTION @extschema@.storemon_compute_exact(
    as_of timestamptz DEFAULT NULL,
    interpolation text DEFAULT 'nearest',
    from_store text DEFAULT NULL,
    to_store text DEFAULT NULL)
RETURNS TABLE (
    store_id                text,
    uptime_last_hour_us     bigint,
    uptime_last_day_us      bigint,
    uptime_last_week_us     bigint,
    downtime_last_hour_us   bigint,
    downtime_last_day_us    bigint,
    downtime_last_week_us   bigint)
AS 'MODULE_PATHNAME', 'storemon_compute_exact'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.storemon_compute_exact(timestamptz, text, text, text) IS
'storemon_compute in exact microseconds, unrounded.';

CREATE FUNCTION @extschema@.storemon_default_as_of()
RETURNS timestamptz
AS 'MODULE_PATHNAME', 'storemon_default_as_of'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.storemon_default_as_of() IS
'The as_of a report uses when none is given: the latest timestamp_utc in store_status (NULL when empty).';

--------------------------------------------------------------------------
-- Data quality: what a computation had to assume (SPEC.md "Zone names").
--------------------------------------------------------------------------

CREATE FUNCTION @extschema@.storemon_data_quality(as_of timestamptz DEFAULT NULL)
RETURNS TABLE (store_id text, issue text, detail text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH t AS (
        SELECT coalesce(as_of, @extschema@.storemon_default_as_of()) AS as_of
    ), stores AS (
        SELECT s.store_id, max(s.timestamp_utc) AS last_poll
        FROM @extschema@.store_status s, t
        WHERE s.timestamp_utc <= t.as_of
        GROUP BY s.store_id
    ), zones AS (
        SELECT lower(name) AS name FROM pg_timezone_names
    )
    SELECT * FROM (
        SELECT s.store_id, 'no_zone',
               'no timezones row or a NULL zone; America/Chicago assumed'
        FROM stores s LEFT JOIN @extschema@.timezones z USING (store_id)
        WHERE z.timezone_str IS NULL
      UNION ALL
        SELECT s.store_id, 'unknown_zone',
               format('timezone_str %L is not a zone the server lists; America/Chicago assumed',
                      z.timezone_str)
        FROM stores s JOIN @extschema@.timezones z USING (store_id)
        WHERE z.timezone_str IS NOT NULL
          AND lower(z.timezone_str) NOT IN (SELECT name FROM zones)
      UNION ALL
        SELECT s.store_id, 'no_hours', 'no menu_hours rows; open at every instant'
        FROM stores s
        WHERE NOT EXISTS (SELECT 1 FROM @extschema@.menu_hours h WHERE h.store_id = s.store_id)
      UNION ALL
        SELECT s.store_id, 'no_poll_in_week',
               format('last poll at %s UTC, more than a week before as_of; its status is carried forward',
                      to_char(s.last_poll AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'))
        FROM stores s, t
        WHERE s.last_poll <= t.as_of - interval '168 hours'
    ) f (store_id, issue, detail)
    ORDER BY store_id COLLATE "C", issue
$$;
COMMENT ON FUNCTION @extschema@.storemon_data_quality(timestamptz) IS
'Stores of the report as of as_of (default: latest poll) whose figures rest on an assumption: no_zone, unknown_zone, no_hours, no_poll_in_week.';

--------------------------------------------------------------------------
-- Loading the feeds (scripts/storemon-load stages the CSVs into temporary
-- tables pg_temp.storemon_stage_{status,hours,zones} of text columns
-- c1..cN plus the file line number, then calls storemon_load_staged).
-- All-or-nothing: the first bad row raises an error naming file, line and
-- value, and the caller's transaction leaves every table as it was.
--------------------------------------------------------------------------

-- Which staged column (c1..cN) carries one of the accepted header names.
CREATE FUNCTION @extschema@.storemon_stage_column(file text, header text[], accepted text[])
RETURNS text
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    i int;
BEGIN
    FOR i IN 1 .. coalesce(array_length(header, 1), 0) LOOP
        IF lower(btrim(header[i], E' \t\r\n"\uFEFF')) = ANY (accepted) THEN
            RETURN 'c' || i;
        END IF;
    END LOOP;
    RAISE EXCEPTION 'storemon: %: line 1: the header has no column %', file,
        array_to_string(accepted, ' or ')
        USING DETAIL = format('The header is: %s', array_to_string(header, ',')),
              ERRCODE = 'invalid_text_representation';
END
$$;

-- Raise the first problem a staged file has, by line.
CREATE FUNCTION @extschema@.storemon_stage_check(file text, stage text, problem_sql text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bad record;
BEGIN
    EXECUTE format('SELECT line, problem FROM (SELECT line, %s AS problem FROM pg_temp.%I) p
                    WHERE problem IS NOT NULL ORDER BY line LIMIT 1', problem_sql, stage)
        INTO bad;
    IF bad.line IS NOT NULL THEN
        RAISE EXCEPTION 'storemon: %: line %: %', file, bad.line, bad.problem
            USING ERRCODE = 'invalid_text_representation',
                  HINT = 'Nothing was loaded; fix the row and load again.';
    END IF;
END
$$;

-- After a bulk cast failed: find the row whose value the cast rejects.
CREATE FUNCTION @extschema@.storemon_stage_find_bad_cast(file text, stage text, col text,
                                                         colname text, typ text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r record;
BEGIN
    FOR r IN EXECUTE format('SELECT line, %I AS v FROM pg_temp.%I ORDER BY line', col, stage) LOOP
        BEGIN
            EXECUTE format('SELECT %L::%s', btrim(r.v), typ);
        EXCEPTION WHEN others THEN
            RAISE EXCEPTION 'storemon: %: line %: % % is not a valid %: %', file, r.line,
                colname, quote_literal(r.v), typ, SQLERRM
                USING ERRCODE = 'invalid_text_representation',
                      HINT = 'Nothing was loaded; fix the row and load again.';
        END;
    END LOOP;
END
$$;

-- Run the bulk INSERT of a staged file; if a cast fails, name the row:
-- casts is a list of {column, column name, type} the INSERT casts to.
CREATE FUNCTION @extschema@.storemon_stage_insert(file text, stage text, insert_sql text, casts text[])
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n bigint;
    c text[];
BEGIN
    BEGIN
        EXECUTE insert_sql;
        GET DIAGNOSTICS n = ROW_COUNT;
    EXCEPTION WHEN datetime_field_overflow OR invalid_datetime_format OR data_exception THEN
        FOREACH c SLICE 1 IN ARRAY casts LOOP
            PERFORM @extschema@.storemon_stage_find_bad_cast(file, stage, c[1], c[2], c[3]);
        END LOOP;
        RAISE;
    END;
    RETURN n;
END
$$;

CREATE FUNCTION @extschema@.storemon_load_staged(
    status_file text DEFAULT NULL, status_header text[] DEFAULT NULL,
    hours_file  text DEFAULT NULL, hours_header  text[] DEFAULT NULL,
    zones_file  text DEFAULT NULL, zones_header  text[] DEFAULT NULL)
RETURNS TABLE (table_name text, rows_loaded bigint, note text)
LANGUAGE plpgsql
-- Timestamps without an offset are UTC whatever the session says (SPEC.md).
SET TimeZone = 'UTC'
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ts_re   constant text := '^\s*\d{4}-\d{2}-\d{2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?\s*(UTC|GMT|Z|[+-]\d{1,2}(:?\d{2})?)?\s*$';
    time_re constant text := '^\s*\d{1,2}:\d{2}(:\d{2}(\.\d{1,6})?)?\s*$';
    sid text; a text; b text; c text;
    n bigint; total bigint;
BEGIN
    IF status_file IS NOT NULL THEN
        sid := @extschema@.storemon_stage_column(status_file, status_header, '{store_id}');
        a := @extschema@.storemon_stage_column(status_file, status_header, '{status}');
        b := @extschema@.storemon_stage_column(status_file, status_header, '{timestamp_utc}');
        PERFORM @extschema@.storemon_stage_check(status_file, 'storemon_stage_status', format($f$
            CASE WHEN %1$I IS NULL OR btrim(%1$I) = '' THEN 'store_id is empty'
                 WHEN %2$I IS NULL THEN 'status is empty'
                 WHEN lower(btrim(%2$I)) NOT IN ('active', 'inactive')
                     THEN format('status %%L is neither active nor inactive', %2$I)
                 WHEN %3$I IS NULL THEN 'timestamp_utc is empty'
                 WHEN %3$I !~* %4$L
                     THEN format('timestamp_utc %%L is not a timestamp like 2023-01-22 12:09:39.388884 UTC (at most 6 fractional digits)', %3$I)
            END$f$, sid, a, b, ts_re));
        n := @extschema@.storemon_stage_insert(status_file, 'storemon_stage_status',
            format('INSERT INTO @extschema@.store_status (store_id, timestamp_utc, status)
                    SELECT btrim(%I), btrim(%I)::timestamptz, lower(btrim(%I))
                    FROM pg_temp.storemon_stage_status', sid, b, a),
            ARRAY[[b, 'timestamp_utc', 'timestamptz']]);
        RETURN QUERY SELECT 'store_status'::text, n, 'appended'::text;
    END IF;

    IF hours_file IS NOT NULL THEN
        sid := @extschema@.storemon_stage_column(hours_file, hours_header, '{store_id}');
        a := @extschema@.storemon_stage_column(hours_file, hours_header, '{day_of_week,dayofweek,day}');
        b := @extschema@.storemon_stage_column(hours_file, hours_header, '{start_time_local}');
        c := @extschema@.storemon_stage_column(hours_file, hours_header, '{end_time_local}');
        PERFORM @extschema@.storemon_stage_check(hours_file, 'storemon_stage_hours', format($f$
            CASE WHEN %1$I IS NULL OR btrim(%1$I) = '' THEN 'store_id is empty'
                 WHEN %2$I IS NULL OR %2$I !~ '^\s*[0-6]\s*$'
                     THEN format('day %%L is not a day of the week 0 (Monday) to 6 (Sunday)', %2$I)
                 WHEN %3$I IS NULL OR %3$I !~ %5$L
                     THEN format('start_time_local %%L is not a time 00:00:00 to 24:00:00', %3$I)
                 WHEN %4$I IS NULL OR %4$I !~ %5$L
                     THEN format('end_time_local %%L is not a time 00:00:00 to 24:00:00', %4$I)
            END$f$, sid, a, b, c, time_re));
        DELETE FROM @extschema@.menu_hours;
        n := @extschema@.storemon_stage_insert(hours_file, 'storemon_stage_hours',
            format('INSERT INTO @extschema@.menu_hours
                    SELECT btrim(%I), btrim(%I)::smallint, btrim(%I)::time, btrim(%I)::time
                    FROM pg_temp.storemon_stage_hours', sid, a, b, c),
            ARRAY[[b, 'start_time_local', 'time'], [c, 'end_time_local', 'time']]);
        RETURN QUERY SELECT 'menu_hours'::text, n, 'replaced'::text;
    END IF;

    IF zones_file IS NOT NULL THEN
        sid := @extschema@.storemon_stage_column(zones_file, zones_header, '{store_id}');
        a := @extschema@.storemon_stage_column(zones_file, zones_header, '{timezone_str}');
        PERFORM @extschema@.storemon_stage_check(zones_file, 'storemon_stage_zones', format($f$
            CASE WHEN %1$I IS NULL OR btrim(%1$I) = '' THEN 'store_id is empty' END$f$, sid));
        DELETE FROM @extschema@.timezones;
        -- One zone per store: the last row in the file wins (SPEC.md).
        EXECUTE format('INSERT INTO @extschema@.timezones
                        SELECT DISTINCT ON (btrim(%1$I)) btrim(%1$I), btrim(%2$I)
                        FROM pg_temp.storemon_stage_zones
                        ORDER BY btrim(%1$I), line DESC', sid, a);
        GET DIAGNOSTICS n = ROW_COUNT;
        EXECUTE 'SELECT count(*) FROM pg_temp.storemon_stage_zones' INTO total;
        RETURN QUERY SELECT 'timezones'::text, n,
            format('replaced; %s earlier row(s) for an already listed store overridden', total - n);
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.storemon_load_staged(text, text[], text, text[], text, text[]) IS
'Validate and load CSV feeds staged by scripts/storemon-load: polls are appended, hours and zones replaced. The first bad row stops the load with its file, line and value.';

--------------------------------------------------------------------------
-- Reports: a queue served by the background worker (src/worker.c).
--------------------------------------------------------------------------

CREATE SEQUENCE @extschema@.reports_seq;
CREATE TABLE @extschema@.reports (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    seq             bigint NOT NULL UNIQUE DEFAULT nextval('@extschema@.reports_seq'),
    status          text NOT NULL DEFAULT 'Queued'
                    CHECK (status IN ('Queued', 'Running', 'Complete', 'Failed')),
    requested_as_of timestamptz,          -- NULL: the latest poll when computed
    as_of           timestamptz,          -- the T used, set when Complete
    interpolation   text NOT NULL DEFAULT 'nearest',
    requested_by    name NOT NULL DEFAULT session_user,
    queued_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    started_at      timestamptz,
    finished_at     timestamptz,
    attempts        int NOT NULL DEFAULT 0,
    worker_pid      int,                  -- the worker computing it ...
    worker_started  timestamptz,          -- ... told apart from a later process with its pid
    stores_done     bigint,
    stores_total    bigint,
    error           text
);
ALTER SEQUENCE @extschema@.reports_seq OWNED BY @extschema@.reports.seq;
COMMENT ON TABLE @extschema@.reports IS 'Report requests: Queued -> Running -> Complete or Failed. Read through storemon_get_report / storemon_list_reports.';
CREATE INDEX reports_pending_idx ON @extschema@.reports (seq) WHERE status IN ('Queued', 'Running');
CREATE INDEX reports_queued_at_idx ON @extschema@.reports (queued_at);

-- report_id is deliberately not a foreign key: its check is one lookup per
-- inserted row, a third of the worker's time on a 140,000-store report.  The
-- worker, the only writer, inserts rows of a report it has just claimed, and
-- the trigger below deletes the rows of deleted reports, once per statement.
CREATE TABLE @extschema@.report_rows (
    report_id          uuid NOT NULL,
    store_id           text COLLATE "C" NOT NULL,
    uptime_last_hour   numeric NOT NULL,
    uptime_last_day    numeric NOT NULL,
    uptime_last_week   numeric NOT NULL,
    downtime_last_hour numeric NOT NULL,
    downtime_last_day  numeric NOT NULL,
    downtime_last_week numeric NOT NULL,
    PRIMARY KEY (report_id, store_id)
);
COMMENT ON TABLE @extschema@.report_rows IS 'The rows of Complete reports, as storemon_compute gave them.';

-- ON DELETE CASCADE, per statement: deleting reports deletes their rows.
CREATE FUNCTION @extschema@.storemon_delete_report_rows()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM @extschema@.report_rows r USING deleted_reports d WHERE r.report_id = d.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER reports_delete_rows AFTER DELETE ON @extschema@.reports
    REFERENCING OLD TABLE AS deleted_reports
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.storemon_delete_report_rows();

SELECT pg_catalog.pg_extension_config_dump('@extschema@.reports', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.reports_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.report_rows', '');

CREATE FUNCTION @extschema@.storemon_wake_worker()
RETURNS void AS 'MODULE_PATHNAME', 'storemon_wake_worker' LANGUAGE C VOLATILE;
CREATE FUNCTION @extschema@.storemon_check_request(timestamptz, text)
RETURNS void AS 'MODULE_PATHNAME', 'storemon_check_request' LANGUAGE C IMMUTABLE;

CREATE FUNCTION @extschema@.storemon_trigger_report(
    as_of timestamptz DEFAULT NULL,
    interpolation text DEFAULT 'nearest')
RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    report uuid;
BEGIN
    PERFORM @extschema@.storemon_check_request(as_of, interpolation);
    INSERT INTO @extschema@.reports (requested_as_of, interpolation)
    VALUES (as_of, interpolation)
    RETURNING id INTO report;
    PERFORM @extschema@.storemon_wake_worker();
    RETURN report;
END
$$;
COMMENT ON FUNCTION @extschema@.storemon_trigger_report(timestamptz, text) IS
'Queue a report (as_of default: the latest poll when it is computed) and return its id at once; the background worker computes it after this transaction commits.';

-- Progress of a Running report, from what its worker shows in pg_stat_activity.
CREATE FUNCTION @extschema@.storemon_progress(pid int, started timestamptz)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(substring(a.query FROM '(\d+/\d+ stores)') || ' done', 'starting')
    FROM pg_stat_activity a
    WHERE a.pid = $1 AND a.backend_start = $2
$$;

-- The request with this id; a NULL or unknown id is an error saying so.
CREATE FUNCTION @extschema@.storemon_find_report(report_id uuid)
RETURNS @extschema@.reports
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r @extschema@.reports;
BEGIN
    IF report_id IS NULL THEN
        RAISE EXCEPTION 'storemon: report id must not be NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass the uuid storemon_trigger_report returned.';
    END IF;
    SELECT * INTO r FROM @extschema@.reports WHERE id = report_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'storemon: no report with id %', report_id
            USING ERRCODE = 'no_data_found',
                  HINT = 'storemon_list_reports() lists the reports there are.';
    END IF;
    RETURN r;
END
$$;

CREATE FUNCTION @extschema@.storemon_get_report(report_id uuid)
RETURNS TABLE (
    status             text,
    store_id           text,
    uptime_last_hour   numeric,
    uptime_last_day    numeric,
    uptime_last_week   numeric,
    downtime_last_hour numeric,
    downtime_last_day  numeric,
    downtime_last_week numeric,
    detail             text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r @extschema@.reports := @extschema@.storemon_find_report(report_id);
BEGIN
    IF r.status = 'Complete' THEN
        RETURN QUERY
            SELECT 'Complete'::text, x.store_id, x.uptime_last_hour, x.uptime_last_day,
                   x.uptime_last_week, x.downtime_last_hour, x.downtime_last_day,
                   x.downtime_last_week, NULL::text
            FROM @extschema@.report_rows x
            WHERE x.report_id = r.id
            ORDER BY x.store_id;
        IF NOT FOUND THEN
            RETURN QUERY SELECT 'Complete'::text, NULL::text, NULL::numeric, NULL::numeric,
                NULL::numeric, NULL::numeric, NULL::numeric, NULL::numeric,
                format('no store has a poll at or before %s', coalesce(r.as_of::text, 'as_of (no polls at all)'));
        END IF;
        RETURN;
    END IF;
    -- Pending: make sure a worker serves this database (after a restart
    -- without shared_preload_libraries nothing else would start one).
    IF r.status IN ('Queued', 'Running') THEN
        PERFORM @extschema@.storemon_wake_worker();
    END IF;
    RETURN QUERY SELECT r.status, NULL::text, NULL::numeric, NULL::numeric, NULL::numeric,
        NULL::numeric, NULL::numeric, NULL::numeric,
        CASE r.status
            WHEN 'Failed' THEN r.error
            WHEN 'Running' THEN coalesce(@extschema@.storemon_progress(r.worker_pid, r.worker_started),
                                         'worker stopped; will be retried')
            ELSE format('queued at %s, attempt %s', r.queued_at, r.attempts + 1)
        END;
END
$$;
COMMENT ON FUNCTION @extschema@.storemon_get_report(uuid) IS
'A Complete report: one row per store in store_id order. Otherwise one row with status Queued, Running (detail: progress) or Failed (detail: the error).';

CREATE FUNCTION @extschema@.storemon_report_csv(report_id uuid)
RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    st text;
    csv text;
BEGIN
    st := (@extschema@.storemon_find_report(report_id)).status;
    IF st <> 'Complete' THEN
        RAISE EXCEPTION 'storemon: report % is %, not Complete', report_id, st
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Wait until storemon_get_report says Complete.';
    END IF;
    SELECT string_agg(format('%s,%s,%s,%s,%s,%s,%s',
               CASE WHEN x.store_id ~ '[",\r\n]' THEN '"' || replace(x.store_id, '"', '""') || '"'
                    ELSE x.store_id END,
               x.uptime_last_hour, x.uptime_last_day, x.uptime_last_week,
               x.downtime_last_hour, x.downtime_last_day, x.downtime_last_week),
               E'\n' ORDER BY x.store_id)
    INTO csv
    FROM @extschema@.report_rows x WHERE x.report_id = storemon_report_csv.report_id;
    RETURN 'store_id,uptime_last_hour,uptime_last_day,uptime_last_week,downtime_last_hour,downtime_last_day,downtime_last_week'
        || coalesce(E'\n' || csv, '');
END
$$;
COMMENT ON FUNCTION @extschema@.storemon_report_csv(uuid) IS
'The CSV of a Complete report exactly as SPEC.md gives it (no final newline; psql -At adds one).';

CREATE FUNCTION @extschema@.storemon_list_reports()
RETURNS TABLE (
    id uuid, status text, as_of timestamptz, requested_as_of timestamptz, interpolation text,
    requested_by name, queued_at timestamptz, started_at timestamptz, finished_at timestamptz,
    attempts int, stores_done bigint, stores_total bigint, progress text, error text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT r.id, r.status, r.as_of, r.requested_as_of, r.interpolation, r.requested_by,
           r.queued_at, r.started_at, r.finished_at, r.attempts, r.stores_done, r.stores_total,
           CASE WHEN r.status = 'Running'
                THEN @extschema@.storemon_progress(r.worker_pid, r.worker_started) END,
           r.error
    FROM @extschema@.reports r
    ORDER BY r.seq
$$;
COMMENT ON FUNCTION @extschema@.storemon_list_reports() IS
'Every report request with its times, attempts, error and, while Running, live progress.';

CREATE FUNCTION @extschema@.storemon_purge_reports(older_than interval)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n bigint;
BEGIN
    IF older_than IS NULL OR older_than < interval '0' THEN
        RAISE EXCEPTION 'storemon: older_than must be a non-negative interval, not %', older_than;
    END IF;
    DELETE FROM @extschema@.reports
    WHERE status IN ('Complete', 'Failed') AND queued_at < clock_timestamp() - older_than;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
COMMENT ON FUNCTION @extschema@.storemon_purge_reports(interval) IS
'Delete Complete and Failed reports queued longer ago than older_than (for pg_cron); returns how many.';

CREATE FUNCTION @extschema@.storemon_schedule(
    job_name text DEFAULT 'storemon-hourly-report',
    schedule text DEFAULT '0 * * * *',
    interpolation text DEFAULT 'nearest')
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    job bigint;
BEGIN
    PERFORM @extschema@.storemon_check_request(NULL, interpolation);
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') THEN
        RAISE EXCEPTION 'storemon: pg_cron is not installed in this database'
            USING HINT = 'Add pg_cron to shared_preload_libraries, set cron.database_name to this database, then CREATE EXTENSION pg_cron.';
    END IF;
    EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO job
        USING job_name, schedule,
              format('SELECT %I.storemon_trigger_report(interpolation => %L)',
                     '@extschema@', interpolation);
    RETURN job;
END
$$;
COMMENT ON FUNCTION @extschema@.storemon_schedule(text, text, text) IS
'Schedule a recurring report with pg_cron (default: every hour on the hour); returns the pg_cron job id.';

-- Only roles granted these may trigger and read reports (README "Privileges").
REVOKE ALL ON FUNCTION @extschema@.storemon_trigger_report(timestamptz, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.storemon_get_report(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.storemon_report_csv(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.storemon_list_reports() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.storemon_purge_reports(interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.storemon_wake_worker() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.storemon_progress(int, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.storemon_find_report(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.storemon_delete_report_rows() FROM PUBLIC;
