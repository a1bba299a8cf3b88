-- storemon, the current version (default_version in storemon.control):
-- every object as it is now, the tables, computation, loader, data-quality
-- findings and reports.  The Makefile copies this file to
-- storemon--<version>.sql, the script a new install runs.  A database made
-- at an earlier version gets the same objects through sql/upgrades/: a
-- change to an object goes here and into the upgrade script of the
-- unreleased version, and t/009_upgrade.pl fails when the two disagree.
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

-- The CHECKs of the feed tables, one C call each (src/server/feed_functions.c): a bulk
-- COPY checks every poll, and the loader names a bad row by the same rules.
CREATE FUNCTION storemon_internal.store_id_ok(store_id text)
RETURNS boolean AS 'MODULE_PATHNAME', 'storemon_store_id_ok'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION storemon_internal.store_id_ok(text) IS
'The store_id CHECK of store_status, menu_hours and timezones: a store_id of 1 to 1024 bytes (longer ones would not fit the indexes).';

CREATE FUNCTION storemon_internal.status_ok(status text)
RETURNS boolean AS 'MODULE_PATHNAME', 'storemon_status_ok'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION storemon_internal.status_ok(text) IS
'store_status''s CHECK: a status of exactly active or inactive.';

-- A connection string as libpq reads it (src/server/conninfo.c).
CREATE FUNCTION storemon_internal.conninfo_value(connstr text, keyword text)
RETURNS text AS 'MODULE_PATHNAME', 'storemon_conninfo_value'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION storemon_internal.conninfo_value(text, text) IS
'The value libpq takes for keyword from the connection string (the last given; NULL if none), read by libpq''s own parser: storemon_coordinator checks its shards'' search_path with it.';

CREATE TABLE storemon.store_status (
    store_id      text COLLATE "C" NOT NULL
                  CONSTRAINT store_status_store_id_check CHECK (storemon_internal.store_id_ok(store_id)),
    timestamp_utc timestamptz NOT NULL,
    status        text NOT NULL
                  CONSTRAINT store_status_status_check CHECK (storemon_internal.status_ok(status))
)
-- A live feed only inserts.  Vacuum after a fixed number of new polls
-- instead of after a fifth of the table, so the visibility map stays close
-- behind the feed and the report reads the polls from the index alone.
WITH (autovacuum_vacuum_insert_threshold = 20000, autovacuum_vacuum_insert_scale_factor = 0,
      autovacuum_analyze_threshold = 20000, autovacuum_analyze_scale_factor = 0.02);
COMMENT ON TABLE storemon.store_status IS 'One row per poll of a store: active or inactive at timestamp_utc.';
CREATE INDEX store_status_store_time_idx ON storemon.store_status (store_id, timestamp_utc) INCLUDE (status);
COMMENT ON INDEX storemon.store_status_store_time_idx IS 'The report''s read: each store''s polls newest first, status included so the heap is skipped on all-visible pages.';
CREATE INDEX store_status_time_idx ON storemon.store_status (timestamp_utc);
COMMENT ON INDEX storemon.store_status_time_idx IS 'The default as_of: the latest poll, one index step.';

CREATE TABLE storemon.menu_hours (
    store_id         text COLLATE "C" NOT NULL
                     CONSTRAINT menu_hours_store_id_check CHECK (storemon_internal.store_id_ok(store_id)),
    day_of_week      smallint NOT NULL CHECK (day_of_week BETWEEN 0 AND 6),
    start_time_local time NOT NULL,
    end_time_local   time NOT NULL
);
COMMENT ON TABLE storemon.menu_hours IS 'Business hours in local wall-clock time; 0 = Monday. start > end runs past midnight; start = end is the whole day.';
CREATE INDEX menu_hours_store_idx ON storemon.menu_hours (store_id)
    INCLUDE (day_of_week, start_time_local, end_time_local);
COMMENT ON INDEX storemon.menu_hours_store_idx IS 'Business hours of each store, merged with the poll scan in store_id order; covering.';

CREATE TABLE storemon.timezones (
    store_id     text COLLATE "C" NOT NULL
                 CONSTRAINT timezones_store_id_check CHECK (storemon_internal.store_id_ok(store_id)),
    timezone_str text CONSTRAINT timezones_timezone_str_check CHECK (octet_length(timezone_str) <= 1024),
    CONSTRAINT timezones_pkey PRIMARY KEY (store_id) INCLUDE (timezone_str)
);
COMMENT ON TABLE storemon.timezones IS 'IANA zone of a store; missing, NULL or unknown means America/Chicago.';
COMMENT ON INDEX storemon.timezones_pkey IS 'One zone per store; merged with the poll scan in store_id order; covering.';

-- pg_dump keeps the rows of extension tables only when told to.
SELECT pg_catalog.pg_extension_config_dump('storemon.store_status', '');
SELECT pg_catalog.pg_extension_config_dump('storemon.menu_hours', '');
SELECT pg_catalog.pg_extension_config_dump('storemon.timezones', '');

--------------------------------------------------------------------------
-- The computation (src/server/store_walk.c, src/server/report_functions.c).  The C entry points
-- check that the caller may SELECT the tables they read.
--------------------------------------------------------------------------

CREATE FUNCTION storemon.storemon_compute(
    as_of timestamptz DEFAULT NULL,
    interpolation text DEFAULT 'nearest',
    from_store text DEFAULT NULL,
    to_store text DEFAULT NULL,
    store_ids text[] DEFAULT NULL)
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
COMMENT ON FUNCTION storemon.storemon_compute(timestamptz, text, text, text, text[]) IS
'The report as of as_of (default: latest poll): one row per store in store_id order; last hour in minutes, day and week in hours, two decimals.  from_store <= store_id < to_store (byte order) when given; store_ids: only those stores, each read with one index descent.  Needs SELECT on store_status, menu_hours and timezones.';

CREATE FUNCTION storemon.storemon_compute_exact(
    as_of timestamptz DEFAULT NULL,
    interpolation text DEFAULT 'nearest',
    from_store text DEFAULT NULL,
    to_store text DEFAULT NULL,
    store_ids text[] DEFAULT NULL)
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
COMMENT ON FUNCTION storemon.storemon_compute_exact(timestamptz, text, text, text, text[]) IS
'storemon_compute in exact microseconds, unrounded.';

CREATE FUNCTION storemon.storemon_default_as_of()
RETURNS timestamptz
AS 'MODULE_PATHNAME', 'storemon_default_as_of'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION storemon.storemon_default_as_of() IS
'The as_of a report uses when none is given: the latest timestamp_utc in store_status (NULL when empty).  Needs SELECT on store_status.';

CREATE FUNCTION storemon_internal.check_request(as_of timestamptz, interpolation text)
RETURNS void AS 'MODULE_PATHNAME', 'storemon_check_request' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION storemon_internal.check_request(timestamptz, text) IS 'The checks of a report request: a known interpolation mode and an as_of the computation can handle.';

--------------------------------------------------------------------------
-- Any window, and the outage episodes in it (src/server/windows.c).
--------------------------------------------------------------------------

CREATE FUNCTION storemon.storemon_window(
    as_of timestamptz DEFAULT NULL,
    interpolation text DEFAULT 'nearest',
    period interval DEFAULT '7 days',
    store_ids text[] DEFAULT NULL)
RETURNS TABLE (
    store_id       text,
    business_us    bigint,
    uptime_us      bigint,
    downtime_us    bigint,
    business_hours numeric,
    uptime_hours   numeric,
    downtime_hours numeric)
AS 'MODULE_PATHNAME', 'storemon_window'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION storemon.storemon_window(timestamptz, text, interval, text[]) IS
'Business, up and down time of each store in the window (as_of - period, as_of], in microseconds and in hours (two decimals); the report''s rules, for any period of days and hours up to 3660 days.  For 1 hour, 1 day and 7 days it equals storemon_compute_exact.  Needs SELECT on the three feed tables.';

CREATE FUNCTION storemon.storemon_outages(
    as_of timestamptz DEFAULT NULL,
    interpolation text DEFAULT 'nearest',
    period interval DEFAULT '7 days',
    store_ids text[] DEFAULT NULL)
RETURNS TABLE (
    store_id    text,
    started_at  timestamptz,
    ended_at    timestamptz,
    local_start timestamp,
    local_end   timestamp,
    timezone    text,
    minutes     numeric,
    duration_us bigint)
AS 'MODULE_PATHNAME', 'storemon_outages'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION storemon.storemon_outages(timestamptz, text, interval, text[]) IS
'Each maximal stretch of business time a store was down inside (as_of - period, as_of], in store_id and time order: [started_at, ended_at) in UTC and on the store''s local clock.  A store''s duration_us add up exactly to its storemon_window downtime_us.  Needs SELECT on the three feed tables.';

--------------------------------------------------------------------------
-- A picture of one store's week (src/server/store_svg.c).
--------------------------------------------------------------------------

CREATE FUNCTION storemon.storemon_store_svg(
    store_id text,
    as_of timestamptz DEFAULT NULL,
    interpolation text DEFAULT 'nearest')
RETURNS text
AS 'MODULE_PATHNAME', 'storemon_store_svg'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION storemon.storemon_store_svg(text, timestamptz, text) IS
'A self-contained SVG of the store''s week to as_of: one row per local day, business hours shaded, up green and down red, outage episodes outlined with their times, the six figures as caption.  NULL (with a notice) when the store has no poll at or before as_of.';

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
COMMENT ON FUNCTION storemon_internal.shown(text) IS 'A value for an error message: quoted, and cut after 60 characters.';

--------------------------------------------------------------------------
-- Loading the feeds.  The storemon-load client either copies a clean polls
-- file straight into store_status, or stages each CSV into a temporary
-- table pg_temp.storemon_stage_{status,hours,zones} of text columns c1..cN
-- plus the file's physical line number and calls storemon_load_staged.
-- All-or-nothing: the first bad row raises an error naming file, line and
-- value, and the caller's transaction leaves every table as it was.
--------------------------------------------------------------------------

-- The shape of a feed timestamp (src/core/feed_format.c), checked in C.
CREATE FUNCTION storemon_internal.is_feed_timestamp(v text)
RETURNS boolean AS 'MODULE_PATHNAME', 'storemon_is_feed_timestamp'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION storemon_internal.is_feed_timestamp(text) IS 'Loader: has the value the shape of a feed timestamp (src/core/feed_format.c)?';

-- The guard an INSERT puts on a value no cast or constraint refuses but
-- the feed format does: it sends the load to its row-by-row checks.
CREATE FUNCTION storemon_internal.stage_bad_value()
RETURNS timestamptz
LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION 'storemon: a staged value is not in the feed format'
        USING ERRCODE = 'invalid_datetime_format';
END
$$;
COMMENT ON FUNCTION storemon_internal.stage_bad_value() IS 'Loader: the guard an INSERT puts on a value the feed format refuses.';

-- The store_id CHECK (store_id_ok) of a trimmed value, as a CASE branch on
-- column %1$I that says which way it fails.
CREATE FUNCTION storemon_internal.store_id_problem()
RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
    SELECT $f$WHEN %1$I IS NULL OR btrim(%1$I) = '' THEN 'store_id is empty'
               WHEN NOT storemon_internal.store_id_ok(btrim(%1$I))
                   THEN format('store_id %%s is longer than 1024 bytes', storemon_internal.shown(%1$I))$f$
$$;
COMMENT ON FUNCTION storemon_internal.store_id_problem() IS 'Loader: the checks every store_id gets, as a CASE branch.';

-- Read store_status's indexes into shared buffers (src/server/feed_functions.c): a
-- bulk-built index is written past them, and the first report would read
-- it cold.
CREATE FUNCTION storemon_internal.warm_indexes()
RETURNS bigint AS 'MODULE_PATHNAME', 'storemon_warm_indexes' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION storemon_internal.warm_indexes() IS 'Read store_status''s indexes into shared buffers after a bulk build; returns the pages read.';

-- A load at least as large as store_status, by a role that owns it, builds
-- the table's indexes once afterwards instead of keeping them up row by
-- row.  The decision and the drop are one function of the number of new
-- rows, so that the loader's direct COPY of a clean polls file
-- (src/client/) and the staged path share them.  The definitions it
-- returns are what a 1.1 or 1.2 database rebuilds from (the client calls
-- stage_rebuild_indexes there); here bulk_rebuild_indexes builds them.
CREATE FUNCTION storemon_internal.bulk_drop_indexes(new_rows bigint)
RETURNS text[]
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    defs text[];
BEGIN
    IF NOT pg_has_role((SELECT relowner FROM pg_class WHERE oid = 'storemon.store_status'::regclass), 'USAGE') THEN
        RETURN NULL;
    END IF;
    IF new_rows < (SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = 'storemon.store_status'::regclass)
       OR new_rows < 10000 THEN
        RETURN NULL;
    END IF;
    SELECT array_agg(pg_get_indexdef(indexrelid) ORDER BY indexrelid)
           || coalesce(array_agg(format('COMMENT ON INDEX %s IS %L', indexrelid::regclass,
                                        obj_description(indexrelid, 'pg_class')) ORDER BY indexrelid)
                       FILTER (WHERE obj_description(indexrelid, 'pg_class') IS NOT NULL), '{}')
    INTO defs
    FROM pg_index WHERE indrelid = 'storemon.store_status'::regclass;
    EXECUTE (SELECT 'DROP INDEX ' || string_agg(indexrelid::regclass::text, ', ')
             FROM pg_index WHERE indrelid = 'storemon.store_status'::regclass);
    RETURN defs;
END
$$;
COMMENT ON FUNCTION storemon_internal.bulk_drop_indexes(bigint) IS 'Loader: for a load of at least as many polls as store_status holds (and 10,000), by its owner, drop its indexes and return their definitions and comments for one rebuild afterwards; NULL otherwise.';

-- The indexes a bulk load dropped, built again from the extension's own
-- definitions (those of store_status above), with their comments; nothing
-- when none is missing.
CREATE FUNCTION storemon_internal.bulk_rebuild_indexes()
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF to_regclass('storemon.store_status_store_time_idx') IS NULL THEN
        CREATE INDEX store_status_store_time_idx ON storemon.store_status (store_id, timestamp_utc)
            INCLUDE (status);
        COMMENT ON INDEX storemon.store_status_store_time_idx IS 'The report''s read: each store''s polls newest first, status included so the heap is skipped on all-visible pages.';
    ELSIF to_regclass('storemon.store_status_time_idx') IS NOT NULL THEN
        RETURN;
    END IF;
    IF to_regclass('storemon.store_status_time_idx') IS NULL THEN
        CREATE INDEX store_status_time_idx ON storemon.store_status (timestamp_utc);
        COMMENT ON INDEX storemon.store_status_time_idx IS 'The default as_of: the latest poll, one index step.';
    END IF;
    PERFORM storemon_internal.warm_indexes();
END
$$;
COMMENT ON FUNCTION storemon_internal.bulk_rebuild_indexes() IS
'Loader: build store_status''s indexes that bulk_drop_indexes dropped, from the extension''s own definitions, with their comments, then warm them; nothing when none is missing.';

-- One function that takes no SQL and no table name from its caller.  Its
-- arguments are checked first, a long file name is cut in its messages,
-- and a replacement of hours or zones waits for any other (SHARE ROW
-- EXCLUSIVE, which the DELETE grant allows) so its DELETE, in READ
-- COMMITTED, sees what an earlier load committed.  Timestamps without an
-- offset are UTC whatever the session says (SPEC.md); their shape is
-- checked by is_feed_timestamp alone, which sql/loader.sql shows equal to
-- 1.0's regular expression.
CREATE FUNCTION storemon.storemon_load_staged(
    status_file text DEFAULT NULL, status_header text[] DEFAULT NULL,
    hours_file  text DEFAULT NULL, hours_header  text[] DEFAULT NULL,
    zones_file  text DEFAULT NULL, zones_header  text[] DEFAULT NULL,
    allow_empty boolean DEFAULT false)
RETURNS TABLE (table_name text, rows_loaded bigint, note text)
LANGUAGE plpgsql
SET TimeZone = 'UTC'
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    time_re constant text := '^\s*\d{1,2}:\d{2}(:\d{2}(\.\d{1,6})?)?\s*$';
    fix     constant text := 'Nothing was loaded; fix the row and load again.';
    -- per feed: its table, and the names each of its columns may have (NULL: no more)
    feeds constant text[] := ARRAY['status', 'hours', 'zones'];
    tables constant text[] := ARRAY['store_status', 'menu_hours', 'timezones'];
    names constant text[] := ARRAY[
        '{{store_id,NULL,NULL},{status,NULL,NULL},{timestamp_utc,NULL,NULL},{NULL,NULL,NULL}}',
        '{{store_id,NULL,NULL},{day_of_week,dayofweek,day},{start_time_local,NULL,NULL},{end_time_local,NULL,NULL}}',
        '{{store_id,NULL,NULL},{timezone_str,NULL,NULL},{NULL,NULL,NULL},{NULL,NULL,NULL}}'];
    k int; kind text; file text; shown text; header text[]; stage text; target text;
    accepted text[]; col text[]; i int;
    problem text; insert_sql text; casts text[]; cast_spec text[];
    bad record; r record; n bigint; total bigint; any_row boolean; dropped text[];
BEGIN
    FOR k IN 1 .. 3 LOOP
        kind := feeds[k];
        file := CASE k WHEN 1 THEN status_file WHEN 2 THEN hours_file ELSE zones_file END;
        CONTINUE WHEN file IS NULL;
        header := CASE k WHEN 1 THEN status_header WHEN 2 THEN hours_header ELSE zones_header END;
        shown := CASE WHEN length(file) <= 200 THEN file
                      ELSE left(file, 200) || format('... (%s characters)', length(file)) END;
        stage := 'storemon_stage_' || kind;
        target := tables[k];
        any_row := true;
        -- What storemon-load gives: a header of 1 to 100 names, and its file staged with as many columns.
        IF header IS NULL OR array_ndims(header) IS DISTINCT FROM 1 OR cardinality(header) > 100 THEN
            RAISE EXCEPTION 'storemon: %: the header must be a list of 1 to 100 names', shown
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF to_regclass('pg_temp.' || stage) IS NULL
           OR (SELECT count(*) FROM pg_attribute WHERE attrelid = to_regclass('pg_temp.' || stage)
                   AND attnum > 0 AND NOT attisdropped
                   AND ((attname = 'line' AND atttypid = 'int8'::regtype)
                        OR (attname ~ '^c[0-9]{1,3}$' AND atttypid = 'text'::regtype
                            AND substr(attname, 2)::int BETWEEN 1 AND cardinality(header))))
              <> cardinality(header) + 1 THEN
            RAISE EXCEPTION 'storemon: %: nothing is staged for it, or not with its header''s columns', shown
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = format('storemon-load stages each file into pg_temp.%s (line, c1 .. cN) before it calls this function.', stage);
        END IF;
        -- Which staged column (c1..cN) carries each of the feed's columns.
        col := '{}';
        FOREACH accepted SLICE 1 IN ARRAY names[k]::text[] LOOP
            CONTINUE WHEN accepted[1] IS NULL;
            i := (SELECT min(h.i) FROM generate_subscripts(header, 1) h (i)
                  WHERE lower(btrim(header[h.i], E' \t\r\n"\uFEFF')) = ANY (accepted));
            IF i IS NULL THEN
                RAISE EXCEPTION 'storemon: %: line 1: the header has no column %', shown,
                    array_to_string(accepted, ' or ')
                    USING DETAIL = format('The header is: %s', left(array_to_string(header, ','), 200)),
                          ERRCODE = 'invalid_text_representation';
            END IF;
            col := col || ('c' || i);
        END LOOP;
        -- A file that replaces a table must have rows, unless it is to be emptied.
        IF k > 1 AND NOT allow_empty THEN
            EXECUTE format('SELECT EXISTS (SELECT FROM pg_temp.%I)', stage) INTO any_row;
        END IF;
        IF NOT any_row THEN
            RAISE EXCEPTION 'storemon: %: the file has no data rows; % was left as it is', shown, target
                USING ERRCODE = 'no_data_found', HINT = format('A load replaces every row of %s. To empty it on purpose, load with --allow-empty.', target);
        END IF;
        -- Each feed's first problem by line, its INSERT and the casts it makes.
        problem := CASE kind
            WHEN 'status' THEN format($f$CASE %4$s
                WHEN %2$I IS NULL THEN 'status is empty' WHEN NOT storemon_internal.status_ok(lower(btrim(%2$I))) THEN format('status %%s is neither active nor inactive', storemon_internal.shown(%2$I))
                WHEN %3$I IS NULL THEN 'timestamp_utc is empty' WHEN NOT storemon_internal.is_feed_timestamp(%3$I) THEN format('timestamp_utc %%s is not a timestamp like 2023-01-22 12:09:39.388884 UTC (at most 6 fractional digits)', storemon_internal.shown(%3$I))
                END$f$, col[1], col[2], col[3], format(storemon_internal.store_id_problem(), col[1]))
            WHEN 'hours' THEN format($f$CASE %6$s
                WHEN %2$I IS NULL OR %2$I !~ '^\s*[0-6]\s*$' THEN format('day %%s is not a day of the week 0 (Monday) to 6 (Sunday)', storemon_internal.shown(%2$I))
                WHEN %3$I IS NULL OR %3$I !~ %5$L THEN format('start_time_local %%s is not a time 00:00:00 to 24:00:00', storemon_internal.shown(%3$I))
                WHEN %4$I IS NULL OR %4$I !~ %5$L THEN format('end_time_local %%s is not a time 00:00:00 to 24:00:00', storemon_internal.shown(%4$I))
                END$f$, col[1], col[2], col[3], col[4], time_re, format(storemon_internal.store_id_problem(), col[1]))
            ELSE format($f$CASE %3$s
                WHEN octet_length(btrim(%2$I)) > 1024 THEN format('timezone_str %%s is longer than 1024 bytes', storemon_internal.shown(%2$I))
                END$f$, col[1], col[2], format(storemon_internal.store_id_problem(), col[1])) END;
        -- the query of the first bad row by line
        problem := format('SELECT line, problem FROM (SELECT line, %s AS problem FROM pg_temp.%I) p
                           WHERE problem IS NOT NULL ORDER BY line LIMIT 1', problem, stage);
        insert_sql := CASE kind
            WHEN 'status' THEN format($f$INSERT INTO storemon.store_status (store_id, timestamp_utc, status)
                SELECT btrim(%1$I),
                       CASE WHEN storemon_internal.is_feed_timestamp(%2$I) THEN btrim(%2$I)::timestamptz
                            WHEN %2$I IS NOT NULL THEN storemon_internal.stage_bad_value() END,
                       lower(btrim(%3$I))
                FROM pg_temp.storemon_stage_status$f$, col[1], col[3], col[2])
            WHEN 'hours' THEN format('INSERT INTO storemon.menu_hours
                SELECT btrim(%I), btrim(%I)::smallint, btrim(%I)::time, btrim(%I)::time
                FROM pg_temp.storemon_stage_hours', col[1], col[2], col[3], col[4])
            -- One zone per store: the last row in the file wins (SPEC.md).
            ELSE format('INSERT INTO storemon.timezones
                SELECT DISTINCT ON (btrim(%1$I)) btrim(%1$I), btrim(%2$I)
                FROM pg_temp.storemon_stage_zones
                ORDER BY btrim(%1$I), line DESC', col[1], col[2]) END;
        casts := CASE kind
            WHEN 'status' THEN ARRAY[[col[3], 'timestamp_utc', 'timestamptz']]
            WHEN 'hours' THEN ARRAY[[col[3], 'start_time_local', 'time'], [col[4], 'end_time_local', 'time']]
            ELSE '{}' END;
        -- Polls append: a good file is checked by the INSERT alone, and a load
        -- as large as the table builds its indexes once (bulk_drop_indexes).
        -- Hours and zones are checked first, then replace the table.
        dropped := NULL;
        IF kind = 'status' THEN
            EXECUTE 'SELECT count(*) FROM pg_temp.storemon_stage_status' INTO n;
            dropped := storemon_internal.bulk_drop_indexes(n);
        ELSE
            EXECUTE problem INTO bad;
            problem := NULL; -- checked: what the INSERT may still refuse is a cast
            IF bad.line IS NOT NULL THEN
                RAISE EXCEPTION 'storemon: %: line %: %', shown, bad.line, bad.problem
                    USING ERRCODE = 'invalid_text_representation', HINT = fix;
            END IF;
            EXECUTE format('LOCK TABLE ONLY storemon.%I IN SHARE ROW EXCLUSIVE MODE', target);
            EXECUTE format('DELETE FROM storemon.%I', target);
        END IF;
        BEGIN
            EXECUTE insert_sql;
            GET DIAGNOSTICS n = ROW_COUNT;
        EXCEPTION WHEN data_exception OR check_violation OR not_null_violation THEN
            -- Only a file the INSERT refused is read row by row, to name its first bad row.
            IF problem IS NOT NULL THEN
                EXECUTE problem INTO bad;
                IF bad.line IS NOT NULL THEN
                    RAISE EXCEPTION 'storemon: %: line %: %', shown, bad.line, bad.problem
                        USING ERRCODE = 'invalid_text_representation', HINT = fix;
                END IF;
            END IF;
            IF cardinality(casts) > 0 THEN
                FOREACH cast_spec SLICE 1 IN ARRAY casts LOOP
                    FOR r IN EXECUTE format('SELECT line, %I AS v FROM pg_temp.%I ORDER BY line', cast_spec[1], stage) LOOP
                        BEGIN
                            EXECUTE format('SELECT %L::%s', btrim(r.v), cast_spec[3]);
                        EXCEPTION WHEN others THEN
                            RAISE EXCEPTION 'storemon: %: line %: % % is not a valid %: %', shown, r.line,
                                cast_spec[2], storemon_internal.shown(r.v), cast_spec[3], SQLERRM
                                USING ERRCODE = 'invalid_text_representation', HINT = fix;
                        END;
                    END LOOP;
                END LOOP;
            END IF;
            RAISE;
        END;
        IF dropped IS NOT NULL THEN
            PERFORM storemon_internal.bulk_rebuild_indexes();
        END IF;
        IF kind = 'zones' THEN
            EXECUTE 'SELECT count(*) FROM pg_temp.storemon_stage_zones' INTO total;
        END IF;
        RETURN QUERY SELECT target, n,
            CASE kind WHEN 'status' THEN CASE WHEN dropped IS NULL THEN 'appended' ELSE 'appended; indexes rebuilt in bulk' END
                      WHEN 'hours' THEN 'replaced'
                      ELSE format('replaced; %s earlier row(s) for an already listed store overridden', total - n) END;
    END LOOP;
END
$$;
COMMENT ON FUNCTION storemon.storemon_load_staged(text, text[], text, text[], text, text[], boolean) IS
'Validate and load CSV feeds staged by the storemon-load client: polls are appended, hours and zones replaced (a file without data rows is refused unless allow_empty). The first bad row stops the load with its file, line and value.';

--------------------------------------------------------------------------
-- Reports: a queue served by the background worker (src/worker/).
--------------------------------------------------------------------------

CREATE SEQUENCE storemon.reports_seq;
COMMENT ON SEQUENCE storemon.reports_seq IS 'Order of report requests: storemon.reports.seq.';
CREATE TABLE storemon.reports (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    seq               bigint NOT NULL UNIQUE DEFAULT nextval('storemon.reports_seq'),
    status            text NOT NULL DEFAULT 'Queued'
                      CHECK (status IN ('Queued', 'Running', 'Complete', 'Failed')),
    requested_as_of   timestamptz,          -- NULL: the latest poll when computed
    as_of             timestamptz,          -- the T used, set when Complete
    interpolation     text NOT NULL DEFAULT 'nearest',
    requested_by      name NOT NULL DEFAULT current_user,
    queued_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    started_at        timestamptz,
    finished_at       timestamptz,
    attempts          int NOT NULL DEFAULT 0,
    worker_pid        int,
    worker_started    timestamptz,
    stores_done       bigint,
    stores_total      bigint,
    error             text,
    requested_by_role oid
);
ALTER SEQUENCE storemon.reports_seq OWNED BY storemon.reports.seq;
COMMENT ON TABLE storemon.reports IS 'Report requests: Queued -> Running -> Complete or Failed. Read through storemon_get_report / storemon_list_reports.';
-- Which worker computes a report is known in shared memory alone; the two
-- columns stay, so that dumps of versions before 1.3 restore.
COMMENT ON COLUMN storemon.reports.worker_pid IS 'Unused since 1.3 (NULL): the worker computing a report is known in shared memory.';
COMMENT ON COLUMN storemon.reports.worker_started IS 'Unused since 1.3 (NULL): see worker_pid.';
-- The requesting role by oid, which a rename keeps: set by guard_request
-- for every role but a superuser (whose requests, and restored ones, are
-- served by the name in requested_by).
COMMENT ON COLUMN storemon.reports.requested_by_role IS 'The requesting role''s oid (since 1.3; NULL for a superuser''s request: then requested_by names it).';
COMMENT ON INDEX storemon.reports_pkey IS 'A report by its id.';
COMMENT ON INDEX storemon.reports_seq_key IS 'A report by its place in the queue.';
CREATE INDEX reports_pending_idx ON storemon.reports (seq) WHERE status IN ('Queued', 'Running');
COMMENT ON INDEX storemon.reports_pending_idx IS 'The worker''s queue: Queued and Running requests in order.';
CREATE INDEX reports_queued_at_idx ON storemon.reports (queued_at);
COMMENT ON INDEX storemon.reports_queued_at_idx IS 'storemon_purge_reports: requests by age.';

-- report_id is deliberately not a foreign key: its check is one lookup per
-- inserted row (README "How it works").  The worker, the only writer,
-- inserts rows of a report it has just claimed, and the trigger
-- reports_delete_rows deletes the rows of deleted reports, once per
-- statement.
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
COMMENT ON INDEX storemon.report_rows_pkey IS 'The rows of a report in store_id order.';

-- pg_dump keeps the queue's rows too.  It carries finished reports only: a
-- request still Queued or Running would be computed while its restore has
-- written the queue but not yet the polls or the grants (each table is
-- restored in turn).
SELECT pg_catalog.pg_extension_config_dump('storemon.reports',
    'WHERE status OPERATOR(pg_catalog.=) ANY (''{Complete,Failed}''::pg_catalog.text[])');
SELECT pg_catalog.pg_extension_config_dump('storemon.reports_seq', '');
SELECT pg_catalog.pg_extension_config_dump('storemon.report_rows', '');

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
COMMENT ON FUNCTION storemon_internal.delete_report_rows() IS 'Trigger: deleting reports deletes their rows, once per statement.';
CREATE TRIGGER reports_delete_rows AFTER DELETE ON storemon.reports
    REFERENCING OLD TABLE AS deleted_reports
    FOR EACH STATEMENT EXECUTE FUNCTION storemon_internal.delete_report_rows();
COMMENT ON TRIGGER reports_delete_rows ON storemon.reports IS 'Deleting reports deletes their rows.';

-- New requests wake the database's report worker when their transaction
-- commits (or have the launcher start one).  A trigger, so that whoever may
-- INSERT a request needs no other grant.
CREATE FUNCTION storemon_internal.wake_workers()
RETURNS trigger AS 'MODULE_PATHNAME', 'storemon_wake_workers' LANGUAGE C;
COMMENT ON FUNCTION storemon_internal.wake_workers() IS 'Trigger: new requests wake the database''s report worker when their transaction commits.';
CREATE TRIGGER reports_wake_workers AFTER INSERT ON storemon.reports
    FOR EACH STATEMENT EXECUTE FUNCTION storemon_internal.wake_workers();
COMMENT ON TRIGGER reports_wake_workers ON storemon.reports IS 'New requests wake the report worker at commit.';

-- A request is only what its caller may say (src/worker/queue_sql.c).
CREATE FUNCTION storemon_internal.guard_request()
RETURNS trigger AS 'MODULE_PATHNAME', 'storemon_guard_request' LANGUAGE C;
COMMENT ON FUNCTION storemon_internal.guard_request() IS
'Trigger: a new request keeps only requested_as_of and interpolation from its caller (every other column takes its default: requested_by is the inserting role), its mode and as_of are checked, one role''s Queued requests are capped; only superusers (the worker) change a request.';
CREATE TRIGGER reports_guard BEFORE INSERT OR UPDATE ON storemon.reports
    FOR EACH ROW EXECUTE FUNCTION storemon_internal.guard_request();
COMMENT ON TRIGGER reports_guard ON storemon.reports IS
'A request is only what its caller may say; only the worker changes it.';

CREATE FUNCTION storemon_internal.guard_report_rows()
RETURNS trigger AS 'MODULE_PATHNAME', 'storemon_guard_report_rows' LANGUAGE C;
COMMENT ON FUNCTION storemon_internal.guard_report_rows() IS
'Trigger: report rows are written by the worker only, whatever a role was granted.';
CREATE TRIGGER report_rows_guard BEFORE INSERT OR UPDATE ON storemon.report_rows
    FOR EACH STATEMENT EXECUTE FUNCTION storemon_internal.guard_report_rows();
COMMENT ON TRIGGER report_rows_guard ON storemon.report_rows IS
'Report rows are written by the worker only.';

-- A Complete report's rows go with their report only: a role that may
-- delete rows (to purge) cannot delete some of a report that stays, nor
-- empty either table past the cascade.
CREATE FUNCTION storemon_internal.guard_report_rows_delete()
RETURNS trigger AS 'MODULE_PATHNAME', 'storemon_guard_report_rows_delete' LANGUAGE C;
COMMENT ON FUNCTION storemon_internal.guard_report_rows_delete() IS
'Trigger: report rows are deleted with their report (storemon_purge_reports), not on their own; TRUNCATE of the queue''s tables is a superuser''s.';
CREATE TRIGGER report_rows_delete_guard AFTER DELETE ON storemon.report_rows
    REFERENCING OLD TABLE AS deleted_rows
    FOR EACH STATEMENT EXECUTE FUNCTION storemon_internal.guard_report_rows_delete();
COMMENT ON TRIGGER report_rows_delete_guard ON storemon.report_rows IS
'Rows are deleted with their report only.';
CREATE TRIGGER report_rows_truncate_guard BEFORE TRUNCATE ON storemon.report_rows
    FOR EACH STATEMENT EXECUTE FUNCTION storemon_internal.guard_report_rows_delete();
COMMENT ON TRIGGER report_rows_truncate_guard ON storemon.report_rows IS
'TRUNCATE is a superuser''s.';
CREATE TRIGGER reports_truncate_guard BEFORE TRUNCATE ON storemon.reports
    FOR EACH STATEMENT EXECUTE FUNCTION storemon_internal.guard_report_rows_delete();
COMMENT ON TRIGGER reports_truncate_guard ON storemon.reports IS
'TRUNCATE is a superuser''s: it would leave the rows of the reports it empties.';

-- Interpolation words in any letter case, with white space around: the C
-- code accepts them; requests store the word itself.
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
    VALUES (as_of, lower(btrim(interpolation, E' \t\n\r\f\v')))
    RETURNING id INTO report;
    RETURN report;
END
$$;
COMMENT ON FUNCTION storemon.storemon_trigger_report(timestamptz, text) IS
'Queue a report (as_of default: the latest poll when it is computed) and return its id at once; the background worker computes it after this transaction commits, with the privileges and row security of the calling role.  Needs INSERT (requested_as_of, interpolation) on storemon.reports and USAGE on storemon.reports_seq.';

-- What the worker computing report_id is doing (src/worker/shared_memory.c
-- keeps it in shared memory): "1000/14000 stores done", "waiting for a lock ...", or
-- NULL when no live worker is computing it.  A NULL id answers NULL
-- without reaching the C code.
CREATE FUNCTION storemon_internal.progress(report_id uuid)
RETURNS text AS 'MODULE_PATHNAME', 'storemon_progress' LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION storemon_internal.progress(uuid) IS
'What the worker computing this report is doing, from shared memory; NULL when no live worker computes it or the caller may not read the report.';

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
COMMENT ON FUNCTION storemon_internal.find_report(uuid) IS 'The request with this id; a NULL or unknown id is an error saying so.';

-- A Queued report has not been attempted: its detail says so, and how many
-- earlier attempts a stopped worker left unfinished.
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
            WHEN 'Queued' THEN
                CASE WHEN r.attempts = 0 THEN format('queued at %s, not started yet', r.queued_at)
                     ELSE format('queued at %s; %s earlier attempt(s) stopped before finishing',
                                 r.queued_at, r.attempts)
                END
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

-- A status that is not one is echoed cut, not whole.
CREATE FUNCTION storemon.storemon_latest_report(status text DEFAULT 'Complete')
RETURNS uuid
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    wanted text := initcap(btrim(status, E' \t\n\r\f'));
BEGIN
    IF wanted IS NOT NULL AND wanted NOT IN ('Queued', 'Running', 'Complete', 'Failed') THEN
        RAISE EXCEPTION 'storemon: unknown report status %', storemon_internal.shown(status)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Statuses: Queued, Running, Complete, Failed; NULL for any.';
    END IF;
    RETURN (SELECT r.id FROM storemon.reports r
            WHERE wanted IS NULL OR r.status = wanted
            ORDER BY r.seq DESC LIMIT 1);
END
$$;
COMMENT ON FUNCTION storemon.storemon_latest_report(text) IS
'The most recently requested report with this status (default Complete; NULL: any), or NULL when there is none: how a reporting role finds what pg_cron queued.  Needs SELECT on storemon.reports.';

CREATE FUNCTION storemon.storemon_report_summary(report_id uuid)
RETURNS TABLE (
    as_of                timestamptz,
    interpolation        text,
    stores               bigint,
    fully_up_stores      bigint,
    uptime_last_hour     numeric,
    uptime_last_day      numeric,
    uptime_last_week     numeric,
    downtime_last_hour   numeric,
    downtime_last_day    numeric,
    downtime_last_week   numeric,
    worst                jsonb)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r storemon.reports := storemon_internal.find_report(report_id);
BEGIN
    IF r.status <> 'Complete' THEN
        RAISE EXCEPTION 'storemon: report % is %, not Complete', r.id, r.status
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = left(r.error, 500),
                  HINT = 'storemon_latest_report() finds the newest Complete report.';
    END IF;
    RETURN QUERY
    SELECT r.as_of, r.interpolation, count(x.*),
           count(x.*) FILTER (WHERE x.downtime_last_hour = 0 AND x.downtime_last_day = 0
                                AND x.downtime_last_week = 0),
           coalesce(sum(x.uptime_last_hour), 0), coalesce(sum(x.uptime_last_day), 0),
           coalesce(sum(x.uptime_last_week), 0), coalesce(sum(x.downtime_last_hour), 0),
           coalesce(sum(x.downtime_last_day), 0), coalesce(sum(x.downtime_last_week), 0),
           (SELECT coalesce(jsonb_agg(to_jsonb(w) ORDER BY w.downtime_last_week DESC, w.store_id), '[]')
            FROM (SELECT y.store_id, y.downtime_last_week, y.downtime_last_day, y.downtime_last_hour,
                         y.uptime_last_week
                  FROM storemon.report_rows y WHERE y.report_id = r.id
                  ORDER BY y.downtime_last_week DESC, y.store_id LIMIT 10) w)
    FROM storemon.report_rows x
    WHERE x.report_id = r.id;
END
$$;
COMMENT ON FUNCTION storemon.storemon_report_summary(uuid) IS
'One row about a Complete report: stores, stores fully up (no downtime in any window), the sums of each figure over all stores (minutes for the hour, hours otherwise), and the worst ten by downtime last week as a JSON array.  Needs SELECT on storemon.reports and storemon.report_rows.';

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

-- pg_cron's own refusals of a NULL name or schedule are internal errors,
-- and it echoes a schedule whole: say it here instead.
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
    IF job_name IS NULL OR schedule IS NULL THEN
        RAISE EXCEPTION 'storemon: the job''s % must not be NULL', CASE WHEN job_name IS NULL THEN 'name' ELSE 'schedule' END
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass a job name and a cron schedule such as ''0 * * * *'', or leave the defaults.';
    END IF;
    IF octet_length(schedule) > 200 THEN
        RAISE EXCEPTION 'storemon: schedule % is not a cron schedule', storemon_internal.shown(schedule)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'A schedule is five fields, such as ''0 * * * *'', or an interval such as ''30 seconds''.';
    END IF;
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
REVOKE ALL ON FUNCTION storemon_internal.guard_request() FROM PUBLIC;
REVOKE ALL ON FUNCTION storemon_internal.guard_report_rows() FROM PUBLIC;
REVOKE ALL ON FUNCTION storemon_internal.guard_report_rows_delete() FROM PUBLIC;
