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
-- Per store, in time order: the report's one read of each store's week.
CREATE INDEX store_status_store_time_idx ON @extschema@.store_status (store_id, timestamp_utc);
-- The latest poll: the default as_of.
CREATE INDEX store_status_time_idx ON @extschema@.store_status (timestamp_utc);

CREATE TABLE @extschema@.menu_hours (
    store_id         text COLLATE "C" NOT NULL CHECK (store_id <> ''),
    day_of_week      smallint NOT NULL CHECK (day_of_week BETWEEN 0 AND 6),
    start_time_local time NOT NULL,
    end_time_local   time NOT NULL
);
COMMENT ON TABLE @extschema@.menu_hours IS 'Business hours in local wall-clock time; 0 = Monday. start > end runs past midnight; start = end is the whole day.';
CREATE INDEX menu_hours_store_idx ON @extschema@.menu_hours (store_id);

CREATE TABLE @extschema@.timezones (
    store_id     text COLLATE "C" NOT NULL CHECK (store_id <> ''),
    timezone_str text,
    CONSTRAINT timezones_pkey PRIMARY KEY (store_id)
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
    interpolation text DEFAULT 'nearest')
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
COMMENT ON FUNCTION @extschema@.storemon_compute(timestamptz, text) IS
'The report as of as_of (default: latest poll): one row per store in store_id order; last hour in minutes, day and week in hours, two decimals.';

CREATE FUNCTION @extschema@.storemon_compute_exact(
    as_of timestamptz DEFAULT NULL,
    interpolation text DEFAULT 'nearest')
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
COMMENT ON FUNCTION @extschema@.storemon_compute_exact(timestamptz, text) IS
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
        BEGIN
            EXECUTE format('INSERT INTO @extschema@.store_status (store_id, timestamp_utc, status)
                            SELECT btrim(%I), btrim(%I)::timestamptz, lower(btrim(%I))
                            FROM pg_temp.storemon_stage_status', sid, b, a);
            GET DIAGNOSTICS n = ROW_COUNT;
        EXCEPTION WHEN datetime_field_overflow OR invalid_datetime_format OR data_exception THEN
            PERFORM @extschema@.storemon_stage_find_bad_cast(status_file, 'storemon_stage_status',
                                                             b, 'timestamp_utc', 'timestamptz');
            RAISE;
        END;
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
        BEGIN
            EXECUTE format('INSERT INTO @extschema@.menu_hours
                            SELECT btrim(%I), btrim(%I)::smallint, btrim(%I)::time, btrim(%I)::time
                            FROM pg_temp.storemon_stage_hours', sid, a, b, c);
            GET DIAGNOSTICS n = ROW_COUNT;
        EXCEPTION WHEN datetime_field_overflow OR invalid_datetime_format OR data_exception THEN
            PERFORM @extschema@.storemon_stage_find_bad_cast(hours_file, 'storemon_stage_hours',
                                                             b, 'start_time_local', 'time');
            PERFORM @extschema@.storemon_stage_find_bad_cast(hours_file, 'storemon_stage_hours',
                                                             c, 'end_time_local', 'time');
            RAISE;
        END;
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
