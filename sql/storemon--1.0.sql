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
