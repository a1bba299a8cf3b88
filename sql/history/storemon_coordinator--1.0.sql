-- storemon_coordinator 1.0: a coordinator database over storemon shards.
--
-- Layout: N shard databases, each an ordinary storemon database holding the
-- stores that hash to it (each store's polls, hours and zone together), and
-- one coordinator, this database, holding the queue and the reports.  The
-- shards are the partitions of the PL/Proxy cluster "storemon_shards", a
-- SQL/MED server the administrator creates (README "Sharding"):
--
--   CREATE SERVER storemon_shards FOREIGN DATA WRAPPER plproxy
--       OPTIONS (modular_mapping '1', p0 'dbname=... host=...', p1 '...', p2 '...');
--
-- The hash rule lives in one place, shard_of() below: PL/Proxy routes a
-- store by RUN ON storemon_coordinator.store_hash(store_id), and maps the
-- hash as abs(hash % partitions) under modular_mapping, which is what
-- shard_of() computes for the loader.  Loads and queries therefore agree.

\echo Use "CREATE EXTENSION storemon_coordinator" to load this file. \quit

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

CREATE FUNCTION storemon_coordinator.shard_of(store_id text, shards int)
RETURNS int LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT abs(storemon_coordinator.store_hash(store_id) % shards) $$;
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
RETURNS timestamptz LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT max(t) FROM storemon_coordinator.default_as_of_each() t $$;
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
    PERFORM storemon_internal.check_request(t, interpolation);
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
