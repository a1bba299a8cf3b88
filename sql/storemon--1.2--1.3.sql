-- storemon 1.2 -> 1.3: storemon on a shared server, by design.
-- 1.0, 1.1 and 1.2 are frozen: this file is the only way to 1.3, for new
-- installs too (CREATE EXTENSION runs 1.0, then each upgrade in turn).

\echo Use "ALTER EXTENSION storemon UPDATE TO '1.3'" to load this file. \quit

--------------------------------------------------------------------------
-- One behaviour on PostgreSQL 15, 17 and 18.
--------------------------------------------------------------------------

-- A vertical tab around the interpolation word is white space on every
-- version (the C check agrees, src/compat.h): E'\v' is one only from
-- PostgreSQL 17 on, and the letter v before, so the word is trimmed of
-- E'\x0B'.  The body is 1.1's otherwise.
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
    VALUES (as_of, lower(btrim(interpolation, E' \t\n\r\f\x0B')))
    RETURNING id INTO report;
    RETURN report;
END
$$;
