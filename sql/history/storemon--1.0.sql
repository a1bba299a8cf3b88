-- storemon 1.0: tables, computation, loader, data-quality findings, reports.
--
-- Everything lives in two schemas this script creates, so that they are
-- owned by the superuser who runs CREATE EXTENSION and belong to the
-- extension (pg_cron's "cron" schema is the model):
--
--   storemon           the tables and the documented API
--   storemon_internal  helpers the API calls; nothing here is for users
--
-- A database owner who is not superuser can neither rename these schemas
-- nor create objects in them, so nothing in them can be replaced by a
-- planted object.  Every function runs with its caller's privileges
-- (there is no SECURITY DEFINER): reading figures needs SELECT on the
-- tables, triggering a report needs INSERT on storemon.reports, and so on
-- (README "Privileges").  Bodies name every object with its schema and pin
-- search_path, so a caller's search_path changes nothing.

\echo Use "CREATE EXTENSION storemon" to load this file. \quit

-- A schema planted under either name before the install would be owned by
-- its creator: refuse it with a message, rather than CREATE SCHEMA's own.
DO $$
DECLARE
    planted text;
BEGIN
    SELECT string_agg(format('%I (owner %s)', nspname, nspowner::regrole), ', ')
    INTO planted
    FROM pg_catalog.pg_namespace WHERE nspname IN ('storemon', 'storemon_internal');
    IF planted IS NOT NULL THEN
        RAISE EXCEPTION 'storemon: schema % already exists', planted
            USING HINT = 'storemon creates and owns its schemas storemon and storemon_internal; drop or rename the existing ones first.';
    END IF;
END
$$;

CREATE SCHEMA storemon;
CREATE SCHEMA storemon_internal;
COMMENT ON SCHEMA storemon IS 'storemon: business-hours uptime of polled stores. Add it to search_path to call the API unqualified.';
COMMENT ON SCHEMA storemon_internal IS 'storemon helpers; not an API.';
GRANT USAGE ON SCHEMA storemon TO PUBLIC;
GRANT USAGE ON SCHEMA storemon_internal TO PUBLIC;

--------------------------------------------------------------------------
-- Input tables (SPEC.md "Inputs").  store_id sorts in byte order
-- (COLLATE "C"), which is the report's order; the C code relies on it.
-- A store_id is at most 1024 bytes: longer ones would not fit the indexes.
--------------------------------------------------------------------------

CREATE TABLE storemon.store_status (
    store_id      text COLLATE "C" NOT NULL
                  CONSTRAINT store_status_store_id_check CHECK (store_id <> '' AND octet_length(store_id) <= 1024),
    timestamp_utc timestamptz NOT NULL,
    status        text NOT NULL CHECK (status IN ('active', 'inactive'))
)
-- A live feed only inserts.  Vacuum after every 20,000 new polls (about an
-- hour and a half of a 14,000-store feed) instead of after 20 % of the
-- table (more than a day of it), so the visibility map stays close behind
-- the feed and the report reads the polls from the index alone.
WITH (autovacuum_vacuum_insert_threshold = 20000, autovacuum_vacuum_insert_scale_factor = 0,
      autovacuum_analyze_threshold = 20000, autovacuum_analyze_scale_factor = 0.02);
COMMENT ON TABLE storemon.store_status IS 'One row per poll of a store: active or inactive at timestamp_utc.';
-- Per store, in time order, with the status: the report reads each store's week
-- from this index alone (index-only, see src/compute.c).
CREATE INDEX store_status_store_time_idx ON storemon.store_status (store_id, timestamp_utc) INCLUDE (status);
-- The latest poll: the default as_of.
CREATE INDEX store_status_time_idx ON storemon.store_status (timestamp_utc);

CREATE TABLE storemon.menu_hours (
    store_id         text COLLATE "C" NOT NULL
                     CONSTRAINT menu_hours_store_id_check CHECK (store_id <> '' AND octet_length(store_id) <= 1024),
    day_of_week      smallint NOT NULL CHECK (day_of_week BETWEEN 0 AND 6),
    start_time_local time NOT NULL,
    end_time_local   time NOT NULL
);
COMMENT ON TABLE storemon.menu_hours IS 'Business hours in local wall-clock time; 0 = Monday. start > end runs past midnight; start = end is the whole day.';
-- Covering: the report reads hours from this index alone, in store order.
CREATE INDEX menu_hours_store_idx ON storemon.menu_hours (store_id)
    INCLUDE (day_of_week, start_time_local, end_time_local);

CREATE TABLE storemon.timezones (
    store_id     text COLLATE "C" NOT NULL
                 CONSTRAINT timezones_store_id_check CHECK (store_id <> '' AND octet_length(store_id) <= 1024),
    timezone_str text CONSTRAINT timezones_timezone_str_check CHECK (octet_length(timezone_str) <= 1024),
    -- Covering: the report reads zones from this index alone, in store order.
    CONSTRAINT timezones_pkey PRIMARY KEY (store_id) INCLUDE (timezone_str)
);
COMMENT ON TABLE storemon.timezones IS 'IANA zone of a store; missing, NULL or unknown means America/Chicago.';

-- pg_dump keeps the rows of extension tables only when told to.
SELECT pg_catalog.pg_extension_config_dump('storemon.store_status', '');
SELECT pg_catalog.pg_extension_config_dump('storemon.menu_hours', '');
SELECT pg_catalog.pg_extension_config_dump('storemon.timezones', '');

--------------------------------------------------------------------------
-- The computation (src/compute.c, src/functions.c).  The C entry points
-- check that the caller may SELECT the tables they read.
--------------------------------------------------------------------------

CREATE FUNCTION storemon.storemon_compute(
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
COMMENT ON FUNCTION storemon.storemon_compute(timestamptz, text, text, text) IS
'The report as of as_of (default: latest poll): one row per store in store_id order; last hour in minutes, day and week in hours, two decimals.  from_store <= store_id < to_store (byte order) when given.  Needs SELECT on store_status, menu_hours and timezones.';

CREATE FUNCTION storemon.storemon_compute_exact(
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
COMMENT ON FUNCTION storemon.storemon_compute_exact(timestamptz, text, text, text) IS
'storemon_compute in exact microseconds, unrounded.';

CREATE FUNCTION storemon.storemon_default_as_of()
RETURNS timestamptz
AS 'MODULE_PATHNAME', 'storemon_default_as_of'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION storemon.storemon_default_as_of() IS
'The as_of a report uses when none is given: the latest timestamp_utc in store_status (NULL when empty).  Needs SELECT on store_status.';

-- The checks of a report request: the mode, and an as_of inside the range
-- the computation can handle.  Raises an error saying what is accepted.
CREATE FUNCTION storemon_internal.check_request(as_of timestamptz, interpolation text)
RETURNS void AS 'MODULE_PATHNAME', 'storemon_check_request' LANGUAGE C IMMUTABLE PARALLEL SAFE;

--------------------------------------------------------------------------
-- Data quality: what a computation had to assume (SPEC.md "Zone names").
--------------------------------------------------------------------------

CREATE FUNCTION storemon.storemon_data_quality(as_of timestamptz DEFAULT NULL)
RETURNS TABLE (store_id text, issue text, detail text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH t AS (
        SELECT coalesce(as_of, storemon.storemon_default_as_of()) AS as_of,
               storemon_internal.check_request(as_of, 'nearest') AS checked
    ), stores AS (
        SELECT s.store_id, max(s.timestamp_utc) AS last_poll
        FROM storemon.store_status s, t
        WHERE s.timestamp_utc <= t.as_of
        GROUP BY s.store_id
    ), zones AS (
        SELECT lower(name) AS name FROM pg_timezone_names
    )
    SELECT * FROM (
        SELECT s.store_id, 'no_zone',
               'no timezones row or a NULL zone; America/Chicago assumed'
        FROM stores s LEFT JOIN storemon.timezones z USING (store_id)
        WHERE z.timezone_str IS NULL
      UNION ALL
        SELECT s.store_id, 'unknown_zone',
               format('timezone_str %s is not a zone the server lists; America/Chicago assumed',
                      storemon_internal.shown(z.timezone_str))
        FROM stores s JOIN storemon.timezones z USING (store_id)
        WHERE z.timezone_str IS NOT NULL
          AND lower(z.timezone_str) NOT IN (SELECT name FROM zones)
      UNION ALL
        SELECT s.store_id, 'no_hours', 'no menu_hours rows; open at every instant'
        FROM stores s
        WHERE NOT EXISTS (SELECT 1 FROM storemon.menu_hours h WHERE h.store_id = s.store_id)
      UNION ALL
        SELECT s.store_id, 'no_poll_in_week',
               format('last poll at %s UTC, more than a week before as_of; its status is carried forward',
                      to_char(s.last_poll AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'))
        FROM stores s, t
        WHERE s.last_poll <= t.as_of - interval '168 hours'
    ) f (store_id, issue, detail)
    ORDER BY store_id COLLATE "C", issue
$$;
COMMENT ON FUNCTION storemon.storemon_data_quality(timestamptz) IS
'Stores of the report as of as_of (default: latest poll) whose figures rest on an assumption: no_zone, unknown_zone, no_hours, no_poll_in_week.';

-- A value for an error message: quoted, and cut after 60 characters so a
-- huge argument is not echoed whole into the message and the server log.
CREATE FUNCTION storemon_internal.shown(v text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN v IS NULL THEN 'NULL'
                WHEN length(v) <= 60 THEN quote_literal(v)
                ELSE quote_literal(left(v, 60)) || format('... (%s characters)', length(v)) END
$$;

--------------------------------------------------------------------------
-- Loading the feeds (the storemon-load client stages each CSV into a
-- temporary table pg_temp.storemon_stage_{status,hours,zones} of text
-- columns c1..cN plus the file's physical line number, then calls
-- storemon_load_staged).  All-or-nothing: the first bad row raises an
-- error naming file, line and value, and the caller's transaction leaves
-- every table as it was.
--------------------------------------------------------------------------

-- Which staged column (c1..cN) carries one of the accepted header names.
CREATE FUNCTION storemon_internal.stage_column(file text, header text[], accepted text[])
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
        USING DETAIL = format('The header is: %s', left(array_to_string(header, ','), 200)),
              ERRCODE = 'invalid_text_representation';
END
$$;

-- Raise the first problem a staged file has, by line.
CREATE FUNCTION storemon_internal.stage_check(file text, stage text, problem_sql text)
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
CREATE FUNCTION storemon_internal.stage_find_bad_cast(file text, stage text, col text,
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
                colname, storemon_internal.shown(r.v), typ, SQLERRM
                USING ERRCODE = 'invalid_text_representation',
                      HINT = 'Nothing was loaded; fix the row and load again.';
        END;
    END LOOP;
END
$$;

-- Run the bulk INSERT of a staged file.  If it fails (a cast, a constraint
-- of the table, or a guard of the INSERT itself), name the first bad row:
-- problem_sql (as for stage_check) when given, then the casts, a list of
-- {column, column name, type} the INSERT casts to.  So a good file is
-- checked by the INSERT alone, and the row-by-row checks run only for a
-- bad one.
CREATE FUNCTION storemon_internal.stage_insert(file text, stage text, insert_sql text, casts text[],
                                               problem_sql text DEFAULT NULL)
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
    EXCEPTION WHEN data_exception OR check_violation OR not_null_violation THEN
        IF problem_sql IS NOT NULL THEN
            PERFORM storemon_internal.stage_check(file, stage, problem_sql);
        END IF;
        FOREACH c SLICE 1 IN ARRAY casts LOOP
            PERFORM storemon_internal.stage_find_bad_cast(file, stage, c[1], c[2], c[3]);
        END LOOP;
        RAISE;
    END;
    RETURN n;
END
$$;

-- The shape of a feed timestamp, as ts_re in storemon_load_staged says it
-- (src/feed_format.c): the same language, checked in C.
CREATE FUNCTION storemon_internal.is_feed_timestamp(v text)
RETURNS boolean AS 'MODULE_PATHNAME', 'storemon_is_feed_timestamp'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- The guard an INSERT puts on a value no cast or constraint refuses but
-- the feed format does: it sends stage_insert to its row-by-row checks.
CREATE FUNCTION storemon_internal.stage_bad_value()
RETURNS timestamptz
LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION 'storemon: a staged value is not in the feed format'
        USING ERRCODE = 'invalid_datetime_format';
END
$$;

-- A file that would replace a whole table must have data rows, unless the
-- caller says the table is to be emptied.
CREATE FUNCTION storemon_internal.stage_require_rows(file text, stage text, target text, allow_empty boolean)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    any_row boolean;
BEGIN
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM pg_temp.%I)', stage) INTO any_row;
    IF NOT any_row AND NOT allow_empty THEN
        RAISE EXCEPTION 'storemon: %: the file has no data rows; % was left as it is', file, target
            USING ERRCODE = 'no_data_found',
                  HINT = format('A load replaces every row of %s. To empty it on purpose, load with --allow-empty.', target);
    END IF;
END
$$;

-- A load at least as large as store_status, by a role that owns it, builds
-- the table's indexes once afterwards instead of keeping them up row by row
-- (about 4x less time at a million rows): the indexes are dropped here and
-- their own definitions returned, for stage_rebuild_indexes to run after
-- the INSERT.  NULL when the load is small or the caller may not.  Reports
-- wait for the load's transaction either way.
CREATE FUNCTION storemon_internal.stage_drop_indexes(stage text)
RETURNS text[]
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    new_rows bigint;
    defs text[];
BEGIN
    IF NOT pg_has_role((SELECT relowner FROM pg_class WHERE oid = 'storemon.store_status'::regclass), 'USAGE') THEN
        RETURN NULL;
    END IF;
    EXECUTE format('SELECT count(*) FROM pg_temp.%I', stage) INTO new_rows;
    IF new_rows < (SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = 'storemon.store_status'::regclass)
       OR new_rows < 10000 THEN
        RETURN NULL;
    END IF;
    SELECT array_agg(pg_get_indexdef(indexrelid) ORDER BY indexrelid) INTO defs
    FROM pg_index WHERE indrelid = 'storemon.store_status'::regclass;
    EXECUTE (SELECT 'DROP INDEX ' || string_agg(indexrelid::regclass::text, ', ')
             FROM pg_index WHERE indrelid = 'storemon.store_status'::regclass);
    RETURN defs;
END
$$;

-- Read store_status's indexes into shared buffers (src/functions.c): a
-- bulk-built index is written past them, and the first report would read
-- it cold.
CREATE FUNCTION storemon_internal.warm_indexes()
RETURNS bigint AS 'MODULE_PATHNAME', 'storemon_warm_indexes' LANGUAGE C VOLATILE;

CREATE FUNCTION storemon_internal.stage_rebuild_indexes(defs text[])
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    def text;
BEGIN
    IF defs IS NULL THEN
        RETURN;
    END IF;
    FOREACH def IN ARRAY defs LOOP
        EXECUTE def;
    END LOOP;
    PERFORM storemon_internal.warm_indexes();
END
$$;

-- The checks every store_id gets, as a CASE branch on column %1$I.
CREATE FUNCTION storemon_internal.store_id_problem()
RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
    SELECT $f$WHEN %1$I IS NULL OR btrim(%1$I) = '' THEN 'store_id is empty'
               WHEN octet_length(btrim(%1$I)) > 1024
                   THEN format('store_id %%s is longer than 1024 bytes', storemon_internal.shown(%1$I))$f$
$$;

CREATE FUNCTION storemon.storemon_load_staged(
    status_file text DEFAULT NULL, status_header text[] DEFAULT NULL,
    hours_file  text DEFAULT NULL, hours_header  text[] DEFAULT NULL,
    zones_file  text DEFAULT NULL, zones_header  text[] DEFAULT NULL,
    allow_empty boolean DEFAULT false)
RETURNS TABLE (table_name text, rows_loaded bigint, note text)
LANGUAGE plpgsql
-- Timestamps without an offset are UTC whatever the session says (SPEC.md).
SET TimeZone = 'UTC'
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ts_re   constant text := '^\s*\d{4}-\d{2}-\d{2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?\s*(UTC|GMT|Z|[+-]\d{1,2}(:?\d{2})?)?\s*$';
    time_re constant text := '^\s*\d{1,2}:\d{2}(:\d{2}(\.\d{1,6})?)?\s*$';
    sid_checks constant text := storemon_internal.store_id_problem();
    sid text; a text; b text; c text;
    n bigint; total bigint;
    index_defs text[];
BEGIN
    IF status_file IS NOT NULL THEN
        sid := storemon_internal.stage_column(status_file, status_header, '{store_id}');
        a := storemon_internal.stage_column(status_file, status_header, '{status}');
        b := storemon_internal.stage_column(status_file, status_header, '{timestamp_utc}');
        index_defs := storemon_internal.stage_drop_indexes('storemon_stage_status');
        -- The table's NOT NULL and CHECK constraints and the cast check a
        -- good file; the timestamp's shape (a cast takes 'now' or a zone
        -- name) is guarded in the INSERT.
        n := storemon_internal.stage_insert(status_file, 'storemon_stage_status',
            format($f$INSERT INTO storemon.store_status (store_id, timestamp_utc, status)
                    SELECT btrim(%1$I),
                           CASE WHEN storemon_internal.is_feed_timestamp(%2$I) THEN btrim(%2$I)::timestamptz
                                WHEN %2$I IS NOT NULL THEN storemon_internal.stage_bad_value() END,
                           lower(btrim(%3$I))
                    FROM pg_temp.storemon_stage_status$f$, sid, b, a),
            ARRAY[[b, 'timestamp_utc', 'timestamptz']],
            format($f$
            CASE %5$s
                 WHEN %2$I IS NULL THEN 'status is empty'
                 WHEN lower(btrim(%2$I)) NOT IN ('active', 'inactive')
                     THEN format('status %%s is neither active nor inactive', storemon_internal.shown(%2$I))
                 WHEN %3$I IS NULL THEN 'timestamp_utc is empty'
                 WHEN %3$I !~* %4$L
                     THEN format('timestamp_utc %%s is not a timestamp like 2023-01-22 12:09:39.388884 UTC (at most 6 fractional digits)', storemon_internal.shown(%3$I))
            END$f$, sid, a, b, ts_re, format(sid_checks, sid)));
        PERFORM storemon_internal.stage_rebuild_indexes(index_defs);
        RETURN QUERY SELECT 'store_status'::text, n,
            CASE WHEN index_defs IS NULL THEN 'appended' ELSE 'appended; indexes rebuilt in bulk' END;
    END IF;

    IF hours_file IS NOT NULL THEN
        sid := storemon_internal.stage_column(hours_file, hours_header, '{store_id}');
        a := storemon_internal.stage_column(hours_file, hours_header, '{day_of_week,dayofweek,day}');
        b := storemon_internal.stage_column(hours_file, hours_header, '{start_time_local}');
        c := storemon_internal.stage_column(hours_file, hours_header, '{end_time_local}');
        PERFORM storemon_internal.stage_require_rows(hours_file, 'storemon_stage_hours', 'menu_hours', allow_empty);
        PERFORM storemon_internal.stage_check(hours_file, 'storemon_stage_hours', format($f$
            CASE %6$s
                 WHEN %2$I IS NULL OR %2$I !~ '^\s*[0-6]\s*$'
                     THEN format('day %%s is not a day of the week 0 (Monday) to 6 (Sunday)', storemon_internal.shown(%2$I))
                 WHEN %3$I IS NULL OR %3$I !~ %5$L
                     THEN format('start_time_local %%s is not a time 00:00:00 to 24:00:00', storemon_internal.shown(%3$I))
                 WHEN %4$I IS NULL OR %4$I !~ %5$L
                     THEN format('end_time_local %%s is not a time 00:00:00 to 24:00:00', storemon_internal.shown(%4$I))
            END$f$, sid, a, b, c, time_re, format(sid_checks, sid)));
        DELETE FROM storemon.menu_hours;
        n := storemon_internal.stage_insert(hours_file, 'storemon_stage_hours',
            format('INSERT INTO storemon.menu_hours
                    SELECT btrim(%I), btrim(%I)::smallint, btrim(%I)::time, btrim(%I)::time
                    FROM pg_temp.storemon_stage_hours', sid, a, b, c),
            ARRAY[[b, 'start_time_local', 'time'], [c, 'end_time_local', 'time']]);
        RETURN QUERY SELECT 'menu_hours'::text, n, 'replaced'::text;
    END IF;

    IF zones_file IS NOT NULL THEN
        sid := storemon_internal.stage_column(zones_file, zones_header, '{store_id}');
        a := storemon_internal.stage_column(zones_file, zones_header, '{timezone_str}');
        PERFORM storemon_internal.stage_require_rows(zones_file, 'storemon_stage_zones', 'timezones', allow_empty);
        PERFORM storemon_internal.stage_check(zones_file, 'storemon_stage_zones', format($f$
            CASE %3$s
                 WHEN octet_length(btrim(%2$I)) > 1024
                     THEN format('timezone_str %%s is longer than 1024 bytes', storemon_internal.shown(%2$I))
            END$f$, sid, a, format(sid_checks, sid)));
        DELETE FROM storemon.timezones;
        -- One zone per store: the last row in the file wins (SPEC.md).
        EXECUTE format('INSERT INTO storemon.timezones
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
COMMENT ON FUNCTION storemon.storemon_load_staged(text, text[], text, text[], text, text[], boolean) IS
'Validate and load CSV feeds staged by the storemon-load client: polls are appended, hours and zones replaced (a file without data rows is refused unless allow_empty). The first bad row stops the load with its file, line and value.';

--------------------------------------------------------------------------
-- Reports: a queue served by the background worker (src/worker.c).
--------------------------------------------------------------------------

CREATE SEQUENCE storemon.reports_seq;
CREATE TABLE storemon.reports (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    seq             bigint NOT NULL UNIQUE DEFAULT nextval('storemon.reports_seq'),
    status          text NOT NULL DEFAULT 'Queued'
                    CHECK (status IN ('Queued', 'Running', 'Complete', 'Failed')),
    requested_as_of timestamptz,          -- NULL: the latest poll when computed
    as_of           timestamptz,          -- the T used, set when Complete
    interpolation   text NOT NULL DEFAULT 'nearest',
    requested_by    name NOT NULL DEFAULT current_user,
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
ALTER SEQUENCE storemon.reports_seq OWNED BY storemon.reports.seq;
COMMENT ON TABLE storemon.reports IS 'Report requests: Queued -> Running -> Complete or Failed. Read through storemon_get_report / storemon_list_reports.';
CREATE INDEX reports_pending_idx ON storemon.reports (seq) WHERE status IN ('Queued', 'Running');
CREATE INDEX reports_queued_at_idx ON storemon.reports (queued_at);

-- report_id is deliberately not a foreign key: its check is one lookup per
-- inserted row, a third of the worker's time on a 140,000-store report.  The
-- worker, the only writer, inserts rows of a report it has just claimed, and
-- the trigger below deletes the rows of deleted reports, once per statement.
CREATE TABLE storemon.report_rows (
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
COMMENT ON TABLE storemon.report_rows IS 'The rows of Complete reports, as storemon_compute gave them.';

-- ON DELETE CASCADE, per statement: deleting reports deletes their rows.
CREATE FUNCTION storemon_internal.delete_report_rows()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM storemon.report_rows r USING deleted_reports d WHERE r.report_id = d.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER reports_delete_rows AFTER DELETE ON storemon.reports
    REFERENCING OLD TABLE AS deleted_reports
    FOR EACH STATEMENT EXECUTE FUNCTION storemon_internal.delete_report_rows();

-- New requests wake the database's report worker when their transaction
-- commits (or have the launcher start one).  A trigger, so that whoever may
-- INSERT a request needs no other grant.
CREATE FUNCTION storemon_internal.wake_workers()
RETURNS trigger AS 'MODULE_PATHNAME', 'storemon_wake_workers' LANGUAGE C;
CREATE TRIGGER reports_wake_workers AFTER INSERT ON storemon.reports
    FOR EACH STATEMENT EXECUTE FUNCTION storemon_internal.wake_workers();

SELECT pg_catalog.pg_extension_config_dump('storemon.reports', '');
SELECT pg_catalog.pg_extension_config_dump('storemon.reports_seq', '');
SELECT pg_catalog.pg_extension_config_dump('storemon.report_rows', '');

CREATE FUNCTION storemon.storemon_trigger_report(
    as_of timestamptz DEFAULT NULL,
    interpolation text DEFAULT 'nearest')
RETURNS uuid
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    report uuid;
BEGIN
    PERFORM storemon_internal.check_request(as_of, interpolation);
    INSERT INTO storemon.reports (requested_as_of, interpolation)
    VALUES (as_of, interpolation)
    RETURNING id INTO report;
    RETURN report;
END
$$;
COMMENT ON FUNCTION storemon.storemon_trigger_report(timestamptz, text) IS
'Queue a report (as_of default: the latest poll when it is computed) and return its id at once; the background worker computes it after this transaction commits.  Needs INSERT on storemon.reports; the worker computes it only if the requesting role may SELECT the three feed tables.';

-- What the worker computing report_id is doing (src/worker.c keeps it in
-- shared memory): "1000/14000 stores done", "waiting for a lock ...", or
-- NULL when no live worker is computing it.
CREATE FUNCTION storemon_internal.progress(report_id uuid)
RETURNS text AS 'MODULE_PATHNAME', 'storemon_progress' LANGUAGE C STABLE;

-- The request with this id; a NULL or unknown id is an error saying so.
CREATE FUNCTION storemon_internal.find_report(report_id uuid)
RETURNS storemon.reports
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r storemon.reports;
BEGIN
    IF report_id IS NULL THEN
        RAISE EXCEPTION 'storemon: report id must not be NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass the uuid storemon_trigger_report returned.';
    END IF;
    SELECT * INTO r FROM storemon.reports WHERE id = report_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'storemon: no report with id %', report_id
            USING ERRCODE = 'no_data_found',
                  HINT = 'storemon_list_reports() lists the reports there are.';
    END IF;
    RETURN r;
END
$$;

CREATE FUNCTION storemon.storemon_get_report(report_id uuid)
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
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r storemon.reports := storemon_internal.find_report(report_id);
BEGIN
    IF r.status = 'Complete' THEN
        RETURN QUERY
            SELECT 'Complete'::text, x.store_id, x.uptime_last_hour, x.uptime_last_day,
                   x.uptime_last_week, x.downtime_last_hour, x.downtime_last_day,
                   x.downtime_last_week, NULL::text
            FROM storemon.report_rows x
            WHERE x.report_id = r.id
            ORDER BY x.store_id;
        IF NOT FOUND THEN
            RETURN QUERY SELECT 'Complete'::text, NULL::text, NULL::numeric, NULL::numeric,
                NULL::numeric, NULL::numeric, NULL::numeric, NULL::numeric,
                format('no store has a poll at or before %s', coalesce(r.as_of::text, 'as_of (no polls at all)'));
        END IF;
        RETURN;
    END IF;
    RETURN QUERY SELECT r.status, NULL::text, NULL::numeric, NULL::numeric, NULL::numeric,
        NULL::numeric, NULL::numeric, NULL::numeric,
        CASE r.status
            WHEN 'Failed' THEN r.error
            WHEN 'Running' THEN coalesce(storemon_internal.progress(r.id),
                                         'worker stopped; will be retried within seconds')
            ELSE format('queued at %s, attempt %s', r.queued_at, r.attempts + 1)
        END;
END
$$;
COMMENT ON FUNCTION storemon.storemon_get_report(uuid) IS
'A Complete report: one row per store in store_id order. Otherwise one row with status Queued, Running (detail: progress) or Failed (detail: the error).  Needs SELECT on storemon.reports and storemon.report_rows.';

CREATE FUNCTION storemon.storemon_report_csv(report_id uuid)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r storemon.reports := storemon_internal.find_report(report_id);
    csv text;
BEGIN
    IF r.status = 'Failed' THEN
        RAISE EXCEPTION 'storemon: report % Failed, so it has no CSV', report_id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = left(r.error, 500),
                  HINT = 'Fix the cause and trigger a new report with storemon_trigger_report().';
    ELSIF r.status <> 'Complete' THEN
        RAISE EXCEPTION 'storemon: report % is %, not Complete yet', report_id, r.status
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Call again once storemon_get_report says Complete.';
    END IF;
    SELECT string_agg(format('%s,%s,%s,%s,%s,%s,%s',
               CASE WHEN x.store_id ~ '[",\r\n]' THEN '"' || replace(x.store_id, '"', '""') || '"'
                    ELSE x.store_id END,
               x.uptime_last_hour, x.uptime_last_day, x.uptime_last_week,
               x.downtime_last_hour, x.downtime_last_day, x.downtime_last_week),
               E'\n' ORDER BY x.store_id)
    INTO csv
    FROM storemon.report_rows x WHERE x.report_id = r.id;
    RETURN 'store_id,uptime_last_hour,uptime_last_day,uptime_last_week,downtime_last_hour,downtime_last_day,downtime_last_week'
        || coalesce(E'\n' || csv, '');
END
$$;
COMMENT ON FUNCTION storemon.storemon_report_csv(uuid) IS
'The CSV of a Complete report exactly as SPEC.md gives it (no final newline; psql -At adds one).';

CREATE FUNCTION storemon.storemon_list_reports()
RETURNS TABLE (
    id uuid, status text, as_of timestamptz, requested_as_of timestamptz, interpolation text,
    requested_by name, queued_at timestamptz, started_at timestamptz, finished_at timestamptz,
    attempts int, stores_done bigint, stores_total bigint, progress text, error text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT r.id, r.status, r.as_of, r.requested_as_of, r.interpolation, r.requested_by,
           r.queued_at, r.started_at, r.finished_at, r.attempts, r.stores_done, r.stores_total,
           CASE WHEN r.status = 'Running' THEN storemon_internal.progress(r.id) END,
           r.error
    FROM storemon.reports r
    ORDER BY r.seq
$$;
COMMENT ON FUNCTION storemon.storemon_list_reports() IS
'Every report request with its times, attempts, error and, while Running, live progress.';

CREATE FUNCTION storemon.storemon_purge_reports(older_than interval)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n bigint;
BEGIN
    IF older_than IS NULL OR older_than < interval '0' THEN
        RAISE EXCEPTION 'storemon: older_than must be a non-negative interval, not %', coalesce(older_than::text, 'NULL');
    END IF;
    DELETE FROM storemon.reports
    WHERE status IN ('Complete', 'Failed') AND queued_at < clock_timestamp() - older_than;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
COMMENT ON FUNCTION storemon.storemon_purge_reports(interval) IS
'Delete Complete and Failed reports queued longer ago than older_than (for pg_cron); returns how many.  Needs DELETE on storemon.reports.';

CREATE FUNCTION storemon.storemon_schedule(
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
    PERFORM storemon_internal.check_request(NULL, interpolation);
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') THEN
        RAISE EXCEPTION 'storemon: pg_cron is not installed in this database'
            USING HINT = 'Add pg_cron to shared_preload_libraries, set cron.database_name to this database, then CREATE EXTENSION pg_cron.';
    END IF;
    EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO job
        USING job_name, schedule,
              format('SELECT storemon.storemon_trigger_report(interpolation => %L)', interpolation);
    RETURN job;
END
$$;
COMMENT ON FUNCTION storemon.storemon_schedule(text, text, text) IS
'Schedule a recurring report with pg_cron (default: every hour on the hour); returns the pg_cron job id.  The job runs as the caller, who needs what storemon_trigger_report needs.';

-- PUBLIC may execute the API in schema storemon: every function runs with
-- its caller's privileges, so a role without grants on the tables gets
-- "permission denied" from each.  The helpers in storemon_internal that the
-- API calls run with the caller's privileges too; the trigger functions
-- need no EXECUTE by anyone.
REVOKE ALL ON FUNCTION storemon_internal.delete_report_rows() FROM PUBLIC;
REVOKE ALL ON FUNCTION storemon_internal.wake_workers() FROM PUBLIC;
