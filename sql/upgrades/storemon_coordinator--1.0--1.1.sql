-- storemon_coordinator 1.0 -> 1.1: every connection to a shard runs with an
-- empty search_path.  PL/Proxy sends its calls with unqualified type names
-- ($1::text), which a shard's owner could shadow with a type of its own in
-- a schema it puts first; so each partition's connection string must set
-- search_path itself, and the coordinator refuses to use one that does not.

\echo Use "ALTER EXTENSION storemon_coordinator UPDATE TO '1.1'" to load this file. \quit

-- The schema was created by CREATE EXTENSION only if it did not exist: a
-- database owner who made it first owns it, could rename it and plant the
-- names these functions call.  Refuse it (as storemon refuses its own).
DO $$
DECLARE
    owner_name name;
BEGIN
    SELECT r.rolname INTO owner_name
    FROM pg_catalog.pg_namespace n JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) n.nspowner
    WHERE n.nspname OPERATOR(pg_catalog.=) 'storemon_coordinator' AND NOT r.rolsuper;
    IF owner_name IS NOT NULL THEN
        RAISE EXCEPTION 'storemon: schema storemon_coordinator belongs to %, who is not a superuser', owner_name
            USING HINT = 'storemon_coordinator must own its schema: drop the extension and that schema (or rename the schema), then CREATE EXTENSION storemon_coordinator.';
    END IF;
END
$$;

-- The shards' check reads connection strings with storemon 1.3's
-- conninfo_value (libpq's own parser).
DO $$
BEGIN
    IF pg_catalog.to_regprocedure('storemon_internal.conninfo_value(pg_catalog.text, pg_catalog.text)') IS NULL THEN
        RAISE EXCEPTION 'storemon: storemon_coordinator 1.1 needs storemon 1.3 or later'
            USING HINT = 'ALTER EXTENSION storemon UPDATE first.';
    END IF;
END
$$;

CREATE FUNCTION storemon_coordinator.check_shards()
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    shard record;
    options text;
    unpinned text[] := '{}';
BEGIN
    -- the options libpq will use (the last given), as libpq's own parser reads the string
    FOR shard IN SELECT * FROM storemon_coordinator.shards() LOOP
        BEGIN
            options := storemon_internal.conninfo_value(shard.connstr, 'options');
        EXCEPTION WHEN invalid_parameter_value THEN
            options := NULL;   -- not a connection string libpq reads: it pins nothing
        END;
        IF options IS DISTINCT FROM '-csearch_path=' AND options IS DISTINCT FROM '-c search_path=' THEN
            unpinned := unpinned || ('p' || shard.shard);
        END IF;
    END LOOP;
    IF cardinality(unpinned) > 0 THEN
        RAISE EXCEPTION 'storemon: the connection string of shard(s) % does not pin search_path',
                array_to_string(unpinned, ', ')
            USING ERRCODE = 'invalid_authorization_specification',
                  DETAIL = 'A shard''s owner could otherwise shadow the type names PL/Proxy sends with types of its own.',
                  HINT = 'End each partition''s string with options=-csearch_path=, e.g. ALTER SERVER storemon_shards OPTIONS (SET p0 ''host=... dbname=... options=-csearch_path='').';
    END IF;
END
$$;
COMMENT ON FUNCTION storemon_coordinator.check_shards() IS
'Refuse shards whose connection string, as libpq reads it, does not set an empty search_path (options=-csearch_path=).';

CREATE OR REPLACE FUNCTION storemon_coordinator.storemon_default_as_of()
RETURNS timestamptz
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM storemon_coordinator.check_shards();
    RETURN (SELECT max(t) FROM storemon_coordinator.default_as_of_each() t);
END
$$;

CREATE OR REPLACE FUNCTION storemon_coordinator.storemon_compute(
    as_of timestamptz DEFAULT NULL,
    interpolation text DEFAULT 'nearest',
    store_ids text[] DEFAULT NULL)
RETURNS TABLE (store_id text, uptime_last_hour numeric, uptime_last_day numeric,
               uptime_last_week numeric, downtime_last_hour numeric, downtime_last_day numeric,
               downtime_last_week numeric)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t timestamptz := coalesce(as_of, storemon_coordinator.storemon_default_as_of());
BEGIN
    PERFORM storemon_coordinator.check_shards();
    PERFORM storemon_internal.check_request(t, interpolation);
    -- what storemon_compute on one node refuses, refused before PL/Proxy splits the list
    IF pg_catalog.array_ndims(store_ids) > 1 THEN
        RAISE EXCEPTION 'storemon: store_ids must be a one-dimensional array, not %-dimensional',
            pg_catalog.array_ndims(store_ids)
            USING ERRCODE = 'array_subscript_error', HINT = 'Pass ARRAY[''id1'', ''id2'', ...].';
    END IF;
    IF pg_catalog.array_position(store_ids, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'storemon: store_ids element % is NULL', pg_catalog.array_position(store_ids, NULL)
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass store ids, or NULL instead of the array for every store.';
    END IF;
    IF t IS NULL THEN
        RETURN;   -- no polls on any shard
    END IF;
    IF store_ids IS NULL THEN
        RETURN QUERY SELECT * FROM storemon_coordinator.compute_each(t, interpolation) c
                     ORDER BY c.store_id COLLATE "C";
    ELSE
        RETURN QUERY SELECT * FROM storemon_coordinator.compute_listed(t, interpolation, store_ids) c
                     ORDER BY c.store_id COLLATE "C";
    END IF;
END
$$;

-- What storemon's report worker asks of an extension that computes its
-- reports (src/requester.c): the latest poll, and the rows of every shard,
-- unordered (report_rows is read in store_id order), after the check.
CREATE FUNCTION storemon_coordinator.storemon_report_as_of()
RETURNS timestamptz LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT storemon_coordinator.storemon_default_as_of() $$;
COMMENT ON FUNCTION storemon_coordinator.storemon_report_as_of() IS
'For storemon''s report worker: the as_of of a report when none is asked for, the latest poll across all shards.';

CREATE FUNCTION storemon_coordinator.storemon_report_rows(as_of timestamptz, interpolation text)
RETURNS TABLE (store_id text, uptime_last_hour numeric, uptime_last_day numeric,
               uptime_last_week numeric, downtime_last_hour numeric, downtime_last_day numeric,
               downtime_last_week numeric)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM storemon_coordinator.check_shards();
    RETURN QUERY SELECT * FROM storemon_coordinator.compute_each(as_of, interpolation);
END
$$;
COMMENT ON FUNCTION storemon_coordinator.storemon_report_rows(timestamptz, text) IS
'For storemon''s report worker: the report''s rows from every shard, storemon_compute on each, unordered.';

-- The hash rule over no shards is refused, not a division by zero.
CREATE OR REPLACE FUNCTION storemon_coordinator.shard_of(store_id text, shards int)
RETURNS int LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF shards < 1 THEN
        RAISE EXCEPTION 'storemon: shards must be at least 1, not %', shards
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN abs(storemon_coordinator.store_hash(store_id) % shards);
END
$$;

-- The PL/Proxy functions run on the shards with what the API checked; a
-- role computes on a coordinator once it is granted them (README
-- "Sharding"), not by default.
REVOKE ALL ON FUNCTION storemon_coordinator.default_as_of_each(),
    storemon_coordinator.compute_each(timestamptz, text),
    storemon_coordinator.compute_exact_each(timestamptz, text),
    storemon_coordinator.compute_listed(timestamptz, text, text[]),
    storemon_coordinator.storemon_report_rows(timestamptz, text) FROM PUBLIC;
