-- storemon 1.2 -> 1.3: storemon on a shared server, by design.
-- 1.0, 1.1 and 1.2 are frozen: this file is the only way to 1.3, for new
-- installs too (CREATE EXTENSION runs 1.0, then each upgrade in turn).

\echo Use "ALTER EXTENSION storemon UPDATE TO '1.3'" to load this file. \quit
