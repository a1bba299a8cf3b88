-- bench/peer.sql — SPEC.md in plain SQL, as a strong SQL engineer would write
-- it, for the benchmark's side-by-side (c).  Not part of the extension.
--
-- Same plan as the C code, set-based: a skip scan (recursive CTE) for the
-- stores, the (store_id, timestamp_utc) index for each store's week plus the
-- poll before it, lead/lag for the status segments, AT TIME ZONE once per
-- zone and UTC hour for the offset spans, int8 multiranges (microseconds)
-- for business time and its intersection with the segments.

CREATE SCHEMA IF NOT EXISTS bench;

-- Microseconds since 1970 as int8.  date_part is float8 (extract is numeric,
-- several times slower); a float8 holds these to well under half a
-- microsecond, so rounding gives the exact count (the benchmark checks the
-- whole report equal to storemon's before timing it).
-- STABLE as date_part(timestamptz) is, so the planner inlines it: a SQL
-- function it cannot inline costs a function call per poll.
CREATE OR REPLACE FUNCTION bench.us(t timestamptz) RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT (date_part('epoch', t) * 1000000)::bigint $$;

CREATE OR REPLACE FUNCTION bench.peer_report(as_of timestamptz, mode text DEFAULT 'nearest')
RETURNS TABLE (store_id text, uptime_last_hour numeric, uptime_last_day numeric,
               uptime_last_week numeric, downtime_last_hour numeric,
               downtime_last_day numeric, downtime_last_week numeric)
LANGUAGE sql STABLE AS $$
WITH RECURSIVE
skip (store_id) AS (
    (SELECT s.store_id FROM store_status s ORDER BY s.store_id LIMIT 1)
    UNION ALL
    SELECT (SELECT s.store_id FROM store_status s WHERE s.store_id > k.store_id
            ORDER BY s.store_id LIMIT 1)
    FROM skip k WHERE k.store_id IS NOT NULL
),
t AS (SELECT bench.us(as_of) AS t, as_of - interval '168 hours' AS wstart),
-- Each store's down time as a multirange, computed store by store inside
-- the index walk (small sorts, no sort of all polls): its polls in the week
-- and all at the last instant before it, one status per instant (inactive
-- wins), the segments each poll owns (lag/lead), and only the inactive ones
-- aggregated (a twelfth of the polls): every instant has a status, so up
-- time is business time less down time.
active AS (
    SELECT k.store_id, d.down
    FROM skip k CROSS JOIN t
    CROSS JOIN LATERAL (
        SELECT coalesce(range_agg(int8range(
                   CASE WHEN prev IS NULL THEN -9223372036854775807
                        WHEN mode = 'previous' THEN at ELSE prev + (at - prev + 1) / 2 END,
                   CASE WHEN next IS NULL THEN 9223372036854775807
                        WHEN mode = 'previous' THEN next ELSE at + (next - at + 1) / 2 END))
                   FILTER (WHERE NOT active), '{}'::int8multirange) AS down,
               count(*) AS npolls
        FROM (SELECT at, active, lag(at) OVER w AS prev, lead(at) OVER w AS next
              FROM (SELECT bench.us(p.ts) AS at, bool_and(p.status = 'active') AS active
                    FROM (SELECT s.timestamp_utc AS ts, s.status FROM store_status s
                          WHERE s.store_id = k.store_id AND s.timestamp_utc > t.wstart
                            AND s.timestamp_utc <= as_of
                          UNION ALL
                          SELECT s.timestamp_utc, s.status FROM store_status s
                          WHERE s.store_id = k.store_id
                            AND s.timestamp_utc = (SELECT max(b.timestamp_utc) FROM store_status b
                                                   WHERE b.store_id = k.store_id
                                                     AND b.timestamp_utc <= t.wstart)) p
                    GROUP BY p.ts) g
              WINDOW w AS (ORDER BY at)) x
    ) d
    WHERE k.store_id IS NOT NULL AND d.npolls > 0
),
-- The zone names the server lists, read once.
known AS MATERIALIZED (
    SELECT DISTINCT ON (lower(name)) lower(name) AS key, name FROM pg_timezone_names ORDER BY lower(name), name
),
-- The zone of each store: listed names case-insensitively, else America/Chicago.
zone AS (
    SELECT a.store_id, coalesce(k.name, 'America/Chicago') AS name
    FROM skip a
    LEFT JOIN timezones z ON z.store_id = a.store_id
    LEFT JOIN known k ON k.key = lower(z.timezone_str)
    WHERE a.store_id IS NOT NULL
),
-- UTC offset per zone and UTC hour of the week (offsets change on whole UTC
-- hours in every zone storemon meets), merged into spans.
hours_utc AS (
    SELECT z.name, h,
           bench.us(((h AT TIME ZONE z.name) AT TIME ZONE 'UTC')) - bench.us(h) AS off
    FROM (SELECT DISTINCT name FROM zone) z, t,
         generate_series(date_trunc('hour', t.wstart), as_of, interval '1 hour') h
),
spans AS (
    SELECT name, off, greatest(min(bench.us(h)), (SELECT t - 604800000000 + 1 FROM t)) AS lo,
           least(max(bench.us(h)) + 3600000000, (SELECT t + 1 FROM t)) AS hi
    FROM (SELECT *, row_number() OVER (PARTITION BY name ORDER BY h)
                    - row_number() OVER (PARTITION BY name, off ORDER BY h) AS island
          FROM hours_utc) x
    GROUP BY name, off, island
),
-- Business hours as pieces of the local week (microseconds since Monday 00:00).
week AS (
    SELECT h.store_id, piece
    FROM menu_hours h,
    LATERAL (VALUES
        (CASE WHEN h.start_time_local < h.end_time_local THEN
              int8range(h.day_of_week * 86400000000 + bench.us('epoch'::timestamptz + h.start_time_local::interval),
                        h.day_of_week * 86400000000 + bench.us('epoch'::timestamptz + h.end_time_local::interval))
              WHEN h.start_time_local = h.end_time_local THEN
              int8range(h.day_of_week * 86400000000, (h.day_of_week + 1) * 86400000000)
              ELSE int8range(h.day_of_week * 86400000000 + bench.us('epoch'::timestamptz + h.start_time_local::interval),
                             (h.day_of_week + 1) * 86400000000) END),
        (CASE WHEN h.start_time_local > h.end_time_local THEN
              int8range(((h.day_of_week + 1) % 7) * 86400000000,
                        ((h.day_of_week + 1) % 7) * 86400000000 + bench.us('epoch'::timestamptz + h.end_time_local::interval)) END)
    ) v (piece)
    WHERE piece IS NOT NULL
),
-- Lay the week over the local clock of each span; 2000-01-03 was a Monday.
business AS (
    SELECT z.store_id,
           range_agg(int8range(greatest(wk.w0 + w.piece_lo, sp.lo + sp.off) - sp.off,
                               least(wk.w0 + w.piece_hi, sp.hi + sp.off) - sp.off)) AS open
    FROM zone z
    JOIN spans sp ON sp.name = z.name
    CROSS JOIN LATERAL (
        SELECT g AS w0 FROM generate_series(
            bench.us('2000-01-03 00:00+00') + floor((sp.lo + sp.off - bench.us('2000-01-03 00:00+00')) / 604800000000.0)::bigint * 604800000000,
            sp.hi + sp.off, 604800000000) g) wk
    JOIN (SELECT store_id, lower(piece) AS piece_lo, upper(piece) AS piece_hi FROM week) w
      ON w.store_id = z.store_id
    WHERE greatest(wk.w0 + w.piece_lo, sp.lo + sp.off) < least(wk.w0 + w.piece_hi, sp.hi + sp.off)
    GROUP BY z.store_id
),
windows (name, len) AS (VALUES ('hour', 3600000000::bigint), ('day', 86400000000), ('week', 604800000000)),
figures AS (
    SELECT store_id, name, open_us - down_us AS up_us, down_us
    FROM (
    SELECT a.store_id, w.name,
        (SELECT coalesce(sum(upper(r) - lower(r)), 0) FROM unnest(
            o.open * int8multirange(int8range(t.t - w.len + 1, t.t + 1))) r) AS open_us,
        (SELECT coalesce(sum(upper(r) - lower(r)), 0) FROM unnest(
            o.open * a.down * int8multirange(int8range(t.t - w.len + 1, t.t + 1))) r) AS down_us
    FROM active a CROSS JOIN t CROSS JOIN windows w
    LEFT JOIN business b ON b.store_id = a.store_id
    -- No hours rows: open at every instant; rows but none in the week: never.
    CROSS JOIN LATERAL (SELECT CASE
        WHEN EXISTS (SELECT 1 FROM menu_hours m WHERE m.store_id = a.store_id)
        THEN coalesce(b.open, '{}'::int8multirange)
        ELSE int8multirange(int8range(NULL, NULL)) END AS open) o
    ) f
)
SELECT store_id,
    round(max(up_us) FILTER (WHERE name = 'hour') / 60000000.0, 2),
    round(max(up_us) FILTER (WHERE name = 'day') / 3600000000.0, 2),
    round(max(up_us) FILTER (WHERE name = 'week') / 3600000000.0, 2),
    round(max(down_us) FILTER (WHERE name = 'hour') / 60000000.0, 2),
    round(max(down_us) FILTER (WHERE name = 'day') / 3600000000.0, 2),
    round(max(down_us) FILTER (WHERE name = 'week') / 3600000000.0, 2)
FROM figures
GROUP BY store_id
ORDER BY store_id
$$;
