-- bench/timing.sql — helpers for bench/run (schema bench).
CREATE SCHEMA IF NOT EXISTS bench;

-- Milliseconds to run q to the end inside the server (nothing sent to the client).
CREATE OR REPLACE FUNCTION bench.time_ms(q text, seqscan boolean DEFAULT true) RETURNS float8
LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz;
BEGIN
    IF NOT seqscan THEN
        -- the floor: an index-ordered read, never a scan and a sort
        SET LOCAL enable_seqscan = off;
        SET LOCAL enable_bitmapscan = off;
        SET LOCAL enable_sort = off;
    END IF;
    t0 := clock_timestamp();
    EXECUTE q;
    RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;
END
$$;

-- Wait until a report is finished; its time from queued to Complete, in ms.
CREATE OR REPLACE FUNCTION bench.wait_ms(id uuid) RETURNS float8
LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    LOOP
        SELECT status, finished_at - queued_at AS took INTO r FROM reports WHERE reports.id = wait_ms.id;
        EXIT WHEN r.status IN ('Complete', 'Failed');
        PERFORM pg_sleep(0.002);
    END LOOP;
    IF r.status <> 'Complete' THEN
        RAISE EXCEPTION 'bench: report % failed', id;
    END IF;
    RETURN extract(epoch FROM r.took) * 1000;
END
$$;

CREATE TABLE IF NOT EXISTS bench.timings (point text, what text, rep int, ms float8);
