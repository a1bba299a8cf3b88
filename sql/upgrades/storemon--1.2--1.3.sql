-- storemon 1.2 -> 1.3: storemon on a shared server, by design.
-- 1.0, 1.1 and 1.2 are frozen.  This file takes a 1.2 database to 1.3; a
-- new install runs sql/storemon.sql, which holds every object as this
-- leaves it (t/009_upgrade.pl compares the two).

\echo Use "ALTER EXTENSION storemon UPDATE TO '1.3'" to load this file. \quit

--------------------------------------------------------------------------
-- The queue: a request is only what its caller may say (src/worker/queue_sql.c).
--------------------------------------------------------------------------

-- 1.2 kept a mode cut in the middle of a character in an error text, which
-- no restore accepts: such texts are kept with their bytes escaped.  The
-- raw bytes come from textsend, which (unlike convert_to) does not check them.
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT id, error FROM storemon.reports WHERE error IS NOT NULL LOOP
        BEGIN
            PERFORM pg_catalog.convert_from(pg_catalog.textsend(r.error), 'UTF8');
        EXCEPTION WHEN character_not_in_repertoire OR untranslatable_character THEN
            UPDATE storemon.reports
            SET error = pg_catalog.encode(pg_catalog.textsend(r.error), 'escape')
            WHERE id = r.id;
        END;
    END LOOP;
END
$$;

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

REVOKE ALL ON FUNCTION storemon_internal.guard_request() FROM PUBLIC;
REVOKE ALL ON FUNCTION storemon_internal.guard_report_rows() FROM PUBLIC;

-- A NULL id answers NULL instead of reaching the C code.
ALTER FUNCTION storemon_internal.progress(uuid) STRICT;
COMMENT ON FUNCTION storemon_internal.progress(uuid) IS
'What the worker computing this report is doing, from shared memory; NULL when no live worker computes it or the caller may not read the report.';

COMMENT ON FUNCTION storemon.storemon_trigger_report(timestamptz, text) IS
'Queue a report (as_of default: the latest poll when it is computed) and return its id at once; the background worker computes it after this transaction commits, with the privileges and row security of the calling role.  Needs INSERT (requested_as_of, interpolation) on storemon.reports and USAGE on storemon.reports_seq.';

--------------------------------------------------------------------------
-- Every argument gets a clean error (t/012_sweep.pl calls every function
-- with NULL, empty, huge and extreme values).
--------------------------------------------------------------------------

-- A status that is not one is echoed cut, not whole.
CREATE OR REPLACE FUNCTION storemon.storemon_latest_report(status text DEFAULT 'Complete')
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

-- pg_cron's own refusals of a NULL name or schedule are internal errors,
-- and it echoes a schedule whole: say it here instead.
CREATE OR REPLACE FUNCTION storemon.storemon_schedule(
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

-- Which worker computes a report is known in shared memory alone since
-- 1.3; the columns stay, so that dumps of earlier versions restore.
COMMENT ON COLUMN storemon.reports.worker_pid IS 'Unused since 1.3 (NULL): the worker computing a report is known in shared memory.';
COMMENT ON COLUMN storemon.reports.worker_started IS 'Unused since 1.3 (NULL): see worker_pid.';
UPDATE storemon.reports SET worker_pid = NULL, worker_started = NULL WHERE worker_pid IS NOT NULL;

-- The requesting role by oid, which a rename keeps: set by guard_request
-- for every role but a superuser (whose requests, and restored ones, are
-- served by the name in requested_by).
ALTER TABLE storemon.reports ADD COLUMN requested_by_role oid;
COMMENT ON COLUMN storemon.reports.requested_by_role IS 'The requesting role''s oid (since 1.3; NULL for a superuser''s request: then requested_by names it).';

-- A dump carries finished reports only: a request still Queued or Running
-- would be computed while its restore has written the queue but not yet
-- the polls or the grants (each table is restored in turn).
SELECT pg_catalog.pg_extension_config_dump('storemon.reports',
    'WHERE status OPERATOR(pg_catalog.=) ANY (''{Complete,Failed}''::pg_catalog.text[])');

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
REVOKE ALL ON FUNCTION storemon_internal.guard_report_rows_delete() FROM PUBLIC;

--------------------------------------------------------------------------
-- storemon-load's staged load (the loader's): one function that takes no
-- SQL and no table name from its caller.  The helpers it called (1.0) took
-- SQL text, table and type names as arguments and ran them, and PUBLIC
-- could call them (t/012_sweep.pl); they are gone.  Its arguments are
-- checked first, a long file name is cut in its messages, and a
-- replacement of hours or zones waits for any other (SHARE ROW EXCLUSIVE,
-- which the DELETE grant allows) so its DELETE, in READ COMMITTED, sees
-- what an earlier load committed.
--------------------------------------------------------------------------

-- The indexes a bulk load dropped (bulk_drop_indexes) built again from the
-- extension's own definitions, with their comments; nothing when none is
-- missing.  Replaces stage_rebuild_indexes(text[]), which ran any text.
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

-- Timestamps without an offset are UTC whatever the session says (SPEC.md);
-- their shape is checked by is_feed_timestamp (src/core/feed_format.c) alone,
-- which sql/loader.sql shows equal to 1.0's regular expression.
CREATE OR REPLACE FUNCTION storemon.storemon_load_staged(status_file text DEFAULT NULL,
    status_header text[] DEFAULT NULL, hours_file text DEFAULT NULL, hours_header text[] DEFAULT NULL,
    zones_file text DEFAULT NULL, zones_header text[] DEFAULT NULL, allow_empty boolean DEFAULT false)
RETURNS TABLE (table_name text, rows_loaded bigint, note text)
LANGUAGE plpgsql SET TimeZone = 'UTC' SET search_path = pg_catalog, pg_temp
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

-- Each took SQL text, or a table or type name, from its caller and ran it.
DROP FUNCTION storemon_internal.stage_check(text, text, text);
DROP FUNCTION storemon_internal.stage_find_bad_cast(text, text, text, text, text);
DROP FUNCTION storemon_internal.stage_insert(text, text, text, text[], text);
DROP FUNCTION storemon_internal.stage_require_rows(text, text, text, boolean);
DROP FUNCTION storemon_internal.stage_drop_indexes(text);
DROP FUNCTION storemon_internal.stage_column(text, text[], text[]);
DROP FUNCTION storemon_internal.stage_rebuild_indexes(text[]);

--------------------------------------------------------------------------
-- One implementation of each rule (sql/storemon.sql, the current script,
-- says the same).  1.2 made store_status's CHECKs C calls; menu_hours and
-- timezones kept 1.0's expression for the same store_id rule.  Now every
-- store_id CHECK is store_id_ok, with the same constraint names, so errors
-- read as before; the loader words a bad store_id by calling it too.
--------------------------------------------------------------------------

ALTER TABLE storemon.menu_hours
    DROP CONSTRAINT menu_hours_store_id_check,
    ADD CONSTRAINT menu_hours_store_id_check CHECK (storemon_internal.store_id_ok(store_id));
ALTER TABLE storemon.timezones
    DROP CONSTRAINT timezones_store_id_check,
    ADD CONSTRAINT timezones_store_id_check CHECK (storemon_internal.store_id_ok(store_id));
COMMENT ON FUNCTION storemon_internal.store_id_ok(text) IS
'The store_id CHECK of store_status, menu_hours and timezones: a store_id of 1 to 1024 bytes (longer ones would not fit the indexes).';

CREATE OR REPLACE FUNCTION storemon_internal.store_id_problem()
RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
    SELECT $f$WHEN %1$I IS NULL OR btrim(%1$I) = '' THEN 'store_id is empty'
               WHEN NOT storemon_internal.store_id_ok(btrim(%1$I))
                   THEN format('store_id %%s is longer than 1024 bytes', storemon_internal.shown(%1$I))$f$
$$;

--------------------------------------------------------------------------
-- A connection string as libpq reads it (src/server/conninfo.c), for
-- storemon_coordinator 1.1's check that each shard pins search_path: a
-- pattern over the text took an escaped "\ options=..." inside another
-- value for the keyword.
--------------------------------------------------------------------------

CREATE FUNCTION storemon_internal.conninfo_value(connstr text, keyword text)
RETURNS text AS 'MODULE_PATHNAME', 'storemon_conninfo_value'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION storemon_internal.conninfo_value(text, text) IS
'The value libpq takes for keyword from the connection string (the last given; NULL if none), read by libpq''s own parser: storemon_coordinator checks its shards'' search_path with it.';

-- The comment names the file where it lives now (src/ has a folder a layer).
COMMENT ON FUNCTION storemon_internal.is_feed_timestamp(text) IS 'Loader: has the value the shape of a feed timestamp (src/core/feed_format.c)?';
