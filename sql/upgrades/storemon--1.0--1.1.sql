-- storemon 1.0 -> 1.1: when and for how long a store was down, any window,
-- chosen stores, finding and summarising reports, a picture of a store's
-- week, and friendlier edges.  1.0 is frozen: this file is the only way to
-- 1.1, for new installs too (CREATE EXTENSION runs 1.0, then this).

\echo Use "ALTER EXTENSION storemon UPDATE TO '1.1'" to load this file. \quit

--------------------------------------------------------------------------
-- Chosen stores: storemon_compute and storemon_compute_exact gain
-- store_ids.  A new parameter needs a new function (CREATE OR REPLACE
-- cannot add one, and an overload would make storemon_compute() ambiguous),
-- so the 1.0 ones are dropped; a view built on them must be recreated.
--------------------------------------------------------------------------

DROP FUNCTION storemon.storemon_compute(timestamptz, text, text, text);
DROP FUNCTION storemon.storemon_compute_exact(timestamptz, text, text, text);

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

--------------------------------------------------------------------------
-- Any window, and the outage episodes in it (src/window_functions.c).
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
-- A picture of one store's week (src/store_svg.c).
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
-- Finding and reading reports.
--------------------------------------------------------------------------

CREATE FUNCTION storemon.storemon_latest_report(status text DEFAULT 'Complete')
RETURNS uuid
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    wanted text := initcap(btrim(status, E' \t\n\r\f'));
BEGIN
    IF wanted IS NOT NULL AND wanted NOT IN ('Queued', 'Running', 'Complete', 'Failed') THEN
        RAISE EXCEPTION 'storemon: unknown report status "%"', status
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

--------------------------------------------------------------------------
-- Friendlier edges.
--------------------------------------------------------------------------

-- Interpolation words in any letter case, with white space around: the C
-- code accepts them; requests store the word itself.
CREATE OR REPLACE FUNCTION storemon.storemon_trigger_report(
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

-- A Queued report has not been attempted: its detail says so, and how many
-- earlier attempts a stopped worker left unfinished.
CREATE OR REPLACE FUNCTION storemon.storemon_get_report(report_id uuid)
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

-- Every object has a comment (1.0 left these without).
COMMENT ON SEQUENCE storemon.reports_seq IS 'Order of report requests: storemon.reports.seq.';
COMMENT ON INDEX storemon.store_status_store_time_idx IS 'The report''s read: each store''s polls newest first, status included so the heap is skipped on all-visible pages.';
COMMENT ON INDEX storemon.store_status_time_idx IS 'The default as_of: the latest poll, one index step.';
COMMENT ON INDEX storemon.menu_hours_store_idx IS 'Business hours of each store, merged with the poll scan in store_id order; covering.';
COMMENT ON INDEX storemon.reports_pending_idx IS 'The worker''s queue: Queued and Running requests in order.';
COMMENT ON INDEX storemon.reports_queued_at_idx IS 'storemon_purge_reports: requests by age.';
COMMENT ON FUNCTION storemon_internal.check_request(timestamptz, text) IS 'The checks of a report request: a known interpolation mode and an as_of the computation can handle.';
COMMENT ON FUNCTION storemon_internal.progress(uuid) IS 'What the worker computing this report is doing, from shared memory; NULL when no live worker computes it.';
COMMENT ON FUNCTION storemon_internal.find_report(uuid) IS 'The request with this id; a NULL or unknown id is an error saying so.';
COMMENT ON FUNCTION storemon_internal.delete_report_rows() IS 'Trigger: deleting reports deletes their rows, once per statement.';
COMMENT ON FUNCTION storemon_internal.wake_workers() IS 'Trigger: new requests wake the database''s report worker when their transaction commits.';
COMMENT ON FUNCTION storemon_internal.shown(text) IS 'A value for an error message: quoted, and cut after 60 characters.';
COMMENT ON FUNCTION storemon_internal.stage_column(text, text[], text[]) IS 'Loader: which staged column carries one of the accepted header names.';
COMMENT ON FUNCTION storemon_internal.stage_check(text, text, text) IS 'Loader: raise the first problem a staged file has, by line.';
COMMENT ON FUNCTION storemon_internal.stage_find_bad_cast(text, text, text, text, text) IS 'Loader: after a bulk cast failed, find the row whose value the cast rejects.';
COMMENT ON FUNCTION storemon_internal.stage_insert(text, text, text, text[], text) IS 'Loader: the bulk INSERT of a staged file; if it fails, name the first bad row.';
COMMENT ON FUNCTION storemon_internal.is_feed_timestamp(text) IS 'Loader: has the value the shape of a feed timestamp (src/feed_format.c)?';
COMMENT ON FUNCTION storemon_internal.stage_bad_value() IS 'Loader: the guard an INSERT puts on a value the feed format refuses.';
COMMENT ON FUNCTION storemon_internal.stage_require_rows(text, text, text, boolean) IS 'Loader: a file that replaces a whole table must have data rows, unless allow_empty.';
COMMENT ON FUNCTION storemon_internal.stage_drop_indexes(text) IS 'Loader: for a big load by the owner, drop store_status''s indexes and return their definitions for one rebuild afterwards.';
COMMENT ON FUNCTION storemon_internal.warm_indexes() IS 'Read store_status''s indexes into shared buffers after a bulk build; returns the pages read.';
COMMENT ON FUNCTION storemon_internal.stage_rebuild_indexes(text[]) IS 'Loader: recreate the indexes stage_drop_indexes dropped, then warm them.';
COMMENT ON FUNCTION storemon_internal.store_id_problem() IS 'Loader: the checks every store_id gets, as a CASE branch.';
COMMENT ON INDEX storemon.timezones_pkey IS 'One zone per store; merged with the poll scan in store_id order; covering.';
COMMENT ON INDEX storemon.reports_pkey IS 'A report by its id.';
COMMENT ON INDEX storemon.reports_seq_key IS 'A report by its place in the queue.';
COMMENT ON INDEX storemon.report_rows_pkey IS 'The rows of a report in store_id order.';
COMMENT ON TRIGGER reports_delete_rows ON storemon.reports IS 'Deleting reports deletes their rows.';
COMMENT ON TRIGGER reports_wake_workers ON storemon.reports IS 'New requests wake the report worker at commit.';

-- A bulk load rebuilds store_status's indexes: their comments come back
-- with them (1.0 lost them).  The decision and the drop are one function of
-- the number of new rows, so that the loader's direct COPY of a clean polls
-- file (src/client/storemon_load.c) and the staged path share them.
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

CREATE OR REPLACE FUNCTION storemon_internal.stage_drop_indexes(stage text)
RETURNS text[]
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    new_rows bigint;
BEGIN
    EXECUTE format('SELECT count(*) FROM pg_temp.%I', stage) INTO new_rows;
    RETURN storemon_internal.bulk_drop_indexes(new_rows);
END
$$;
