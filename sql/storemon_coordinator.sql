-- storemon_coordinator, the current version (default_version in
-- storemon_coordinator.control): a coordinator database over storemon
-- shards.  The Makefile copies this file to storemon_coordinator--<version>.sql,
-- the script a new install runs; a database made at 1.0 gets the same
-- objects through sql/upgrades/ (t/011_shards.pl compares the two).
--
-- Layout: N shard databases, each an ordinary storemon database holding the
-- stores that hash to it (each store's polls, hours and zone together), and
-- one coordinator, this database, holding the queue and the reports.  The
-- shards are the partitions of the PL/Proxy cluster "storemon_shards", a
-- SQL/MED server the administrator creates (README "Sharding"):
--
--   CREATE SERVER storemon_shards FOREIGN DATA WRAPPER plproxy
--       OPTIONS (modular_mapping '1', p0 'dbname=... host=... options=-csearch_path=', ...);
--
-- The hash rule lives in one place, shard_of() below: PL/Proxy routes a
-- store by RUN ON storemon_coordinator.store_hash(store_id), and maps the
-- hash as abs(hash % partitions) under modular_mapping, which is what
-- shard_of() computes for the loader.  Loads and queries therefore agree.
--
-- Every connection to a shard runs with an empty search_path.  PL/Proxy
-- sends its calls with unqualified type names ($1::text), which a shard's
-- owner could shadow with a type of its own in a schema it puts first; so
-- each partition's connection string must set search_path itself, and the
-- coordinator refuses to use one that does not (check_shards).

\echo Use "CREATE EXTENSION storemon_coordinator" to load this file. \quit

-- The schema is created by CREATE EXTENSION only if it does not exist: a
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

-- The hash of a store id: hashtext, PostgreSQL's own and stable across
-- servers of one major version.
CREATE FUNCTION storemon_coordinator.store_hash(store_id text)
RETURNS int4 LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT pg_catalog.hashtext(store_id) $$;
COMMENT ON FUNCTION storemon_coordinator.store_hash(text) IS
'The hash a store is routed by: hashtext(store_id).';

-- The shards of the cluster, in partition order, from the SQL/MED server.
CREATE FUNCTION storemon_coordinator.shards()
RETURNS TABLE (shard int, connstr text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_foreign_server WHERE srvname = 'storemon_shards') THEN
        RAISE EXCEPTION 'storemon: no shards: the PL/Proxy cluster "storemon_shards" is not defined'
            USING HINT = 'CREATE SERVER storemon_shards FOREIGN DATA WRAPPER plproxy OPTIONS (modular_mapping ''1'', p0 ''dbname=... host=...'', ...); see the README, "Sharding".';
    END IF;
    RETURN QUERY
        SELECT substr(o.option_name, 2)::int, o.option_value
        FROM pg_foreign_server s, pg_options_to_table(s.srvoptions) o
        WHERE s.srvname = 'storemon_shards' AND o.option_name ~ '^p[0-9]+$'
        ORDER BY 1;
END
$$;
COMMENT ON FUNCTION storemon_coordinator.shards() IS
'The shards (PL/Proxy partitions p0, p1, ...) of the cluster storemon_shards and their connection strings.';

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

-- The rule.  Over no shards it is refused, not a division by zero.
CREATE FUNCTION storemon_coordinator.shard_of(store_id text, shards int)
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
COMMENT ON FUNCTION storemon_coordinator.shard_of(text, int) IS
'The rule: the shard holding a store among this many, abs(store_hash(store_id) % shards), the partition PL/Proxy picks under modular_mapping.';

CREATE FUNCTION storemon_coordinator.shard_of(store_id text)
RETURNS int LANGUAGE sql STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT storemon_coordinator.shard_of(store_id, (SELECT count(*)::int FROM storemon_coordinator.shards()))
$$;
COMMENT ON FUNCTION storemon_coordinator.shard_of(text) IS
'The shard holding a store in the cluster storemon_shards as it is now.';

-- What runs on the shards.  PL/Proxy runs RUN ON ALL on every partition at
-- once and returns the union; a shard it cannot reach is an error naming it.
CREATE FUNCTION storemon_coordinator.default_as_of_each()
RETURNS SETOF timestamptz LANGUAGE plproxy AS $$
    CLUSTER 'storemon_shards';
    RUN ON ALL;
    SELECT storemon.storemon_default_as_of();
$$;
COMMENT ON FUNCTION storemon_coordinator.default_as_of_each() IS 'Each shard''s latest poll.';

CREATE FUNCTION storemon_coordinator.compute_each(as_of timestamptz, interpolation text)
RETURNS TABLE (store_id text, uptime_last_hour numeric, uptime_last_day numeric,
               uptime_last_week numeric, downtime_last_hour numeric, downtime_last_day numeric,
               downtime_last_week numeric)
LANGUAGE plproxy AS $$
    CLUSTER 'storemon_shards';
    RUN ON ALL;
    SELECT * FROM storemon.storemon_compute(as_of, interpolation);
$$;
COMMENT ON FUNCTION storemon_coordinator.compute_each(timestamptz, text) IS
'storemon_compute on every shard at once, unordered.';

CREATE FUNCTION storemon_coordinator.compute_exact_each(as_of timestamptz, interpolation text)
RETURNS TABLE (store_id text, uptime_last_hour_us bigint, uptime_last_day_us bigint,
               uptime_last_week_us bigint, downtime_last_hour_us bigint, downtime_last_day_us bigint,
               downtime_last_week_us bigint)
LANGUAGE plproxy AS $$
    CLUSTER 'storemon_shards';
    RUN ON ALL;
    SELECT * FROM storemon.storemon_compute_exact(as_of, interpolation);
$$;
COMMENT ON FUNCTION storemon_coordinator.compute_exact_each(timestamptz, text) IS
'storemon_compute_exact on every shard at once, unordered.';

-- Chosen stores go only to their shards: SPLIT hands each shard the ids
-- that hash to it.
CREATE FUNCTION storemon_coordinator.compute_listed(as_of timestamptz, interpolation text, store_ids text[])
RETURNS TABLE (store_id text, uptime_last_hour numeric, uptime_last_day numeric,
               uptime_last_week numeric, downtime_last_hour numeric, downtime_last_day numeric,
               downtime_last_week numeric)
LANGUAGE plproxy AS $$
    CLUSTER 'storemon_shards';
    SPLIT store_ids;
    RUN ON storemon_coordinator.store_hash(store_ids);
    SELECT * FROM storemon.storemon_compute(as_of, interpolation, NULL, NULL, store_ids);
$$;
COMMENT ON FUNCTION storemon_coordinator.compute_listed(timestamptz, text, text[]) IS
'storemon_compute of the listed stores, each asked of its own shard only.';

-- The API on the coordinator: as storemon_compute on one node.
CREATE FUNCTION storemon_coordinator.storemon_default_as_of()
RETURNS timestamptz
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM storemon_coordinator.check_shards();
    RETURN (SELECT max(t) FROM storemon_coordinator.default_as_of_each() t);
END
$$;
COMMENT ON FUNCTION storemon_coordinator.storemon_default_as_of() IS
'The latest poll across all shards: the as_of a report on the coordinator uses when none is given.';

CREATE FUNCTION storemon_coordinator.storemon_compute(
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
COMMENT ON FUNCTION storemon_coordinator.storemon_compute(timestamptz, text, text[]) IS
'The report gathered from every shard (or only the listed stores'' shards) with one as_of fixed first, in store_id byte order.';

-- What storemon's report worker asks of an extension that computes its
-- reports (src/worker/requester.c): the latest poll, and the rows of every shard,
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

-- The PL/Proxy functions run on the shards with what the API checked; a
-- role computes on a coordinator once it is granted them (README
-- "Sharding"), not by default.
REVOKE ALL ON FUNCTION storemon_coordinator.default_as_of_each(),
    storemon_coordinator.compute_each(timestamptz, text),
    storemon_coordinator.compute_exact_each(timestamptz, text),
    storemon_coordinator.compute_listed(timestamptz, text, text[]),
    storemon_coordinator.storemon_report_rows(timestamptz, text) FROM PUBLIC;
