-- storemon 1.2 -> 1.3: storemon on a shared server, by design.
-- 1.0, 1.1 and 1.2 are frozen: this file is the only way to 1.3, for new
-- installs too (CREATE EXTENSION runs 1.0, then each upgrade in turn).

\echo Use "ALTER EXTENSION storemon UPDATE TO '1.3'" to load this file. \quit

--------------------------------------------------------------------------
-- The queue: a request is only what its caller may say (src/queue_triggers.c).
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
