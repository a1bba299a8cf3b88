-- storemon 1.1 -> 1.2: store_status's CHECK constraints as one C call each.
-- 1.0 and 1.1 are frozen: this file is the only way to 1.2, for new
-- installs too (CREATE EXTENSION runs 1.0, then 1.0--1.1, then this).

\echo Use "ALTER EXTENSION storemon UPDATE TO '1.2'" to load this file. \quit

-- A bulk COPY checks every poll: the expressions of 1.0 cost four to five
-- function calls a row, these one (src/functions.c).  Same rules, same
-- constraint names, so errors read as before.
CREATE FUNCTION storemon_internal.store_id_ok(store_id text)
RETURNS boolean AS 'MODULE_PATHNAME', 'storemon_store_id_ok'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION storemon_internal.store_id_ok(text) IS
'store_status''s CHECK: a store_id of 1 to 1024 bytes (longer ones would not fit the indexes).';

CREATE FUNCTION storemon_internal.status_ok(status text)
RETURNS boolean AS 'MODULE_PATHNAME', 'storemon_status_ok'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION storemon_internal.status_ok(text) IS
'store_status''s CHECK: a status of exactly active or inactive.';

ALTER TABLE storemon.store_status
    DROP CONSTRAINT store_status_store_id_check,
    ADD CONSTRAINT store_status_store_id_check CHECK (storemon_internal.store_id_ok(store_id)),
    DROP CONSTRAINT store_status_status_check,
    ADD CONSTRAINT store_status_status_check CHECK (storemon_internal.status_ok(status));
