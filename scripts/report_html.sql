-- scripts/report_html.sql — a self-contained HTML page about one Complete
-- report: its summary, a histogram of weekly downtime across stores, and
-- the pictures of the ten worst stores (storemon_store_svg).  No scripts,
-- no links: it opens from a file with no network.
--   psql -XAt -v report=<uuid> -f scripts/report_html.sql -o out/report.html
\set ON_ERROR_STOP 1
\set QUIET on
SET search_path = pg_catalog, pg_temp;
WITH s AS (
    SELECT * FROM storemon.storemon_report_summary(:'report')
), r AS (
    SELECT * FROM storemon.storemon_get_report(:'report')
), bins AS (
    -- twelve equal bins from 0 to the largest weekly downtime
    SELECT b, count(r.store_id) AS n,
           (b - 1) * hi / 12 AS lo_h, b * hi / 12 AS hi_h
    FROM (SELECT greatest(max(downtime_last_week), 1) AS hi FROM r) m
    CROSS JOIN generate_series(1, 12) b
    LEFT JOIN r ON least(width_bucket(r.downtime_last_week, 0, m.hi, 12), 12) = b
    GROUP BY b, hi
), histogram AS (
    SELECT '<svg xmlns="http://www.w3.org/2000/svg" width="760" height="260" font-family="sans-serif" font-size="11">'
        || string_agg(format('<rect x="%s" y="%s" width="52" height="%s" fill="#d64545"><title>%s stores</title></rect>'
                             '<text x="%s" y="%s" text-anchor="middle">%s</text>'
                             '<text x="%s" y="236" text-anchor="middle">%s</text>',
                             40 + (b - 1) * 58, 220 - h, h, n, 66 + (b - 1) * 58, 214 - h, n,
                             66 + (b - 1) * 58, round(lo_h, 0) || '–' || round(hi_h, 0)), '' ORDER BY b)
        || '<line x1="36" y1="220" x2="740" y2="220" stroke="#333"/>'
        || '<text x="380" y="254" text-anchor="middle">downtime last week (hours)</text></svg>' AS svg
    FROM (SELECT b, n, lo_h, hi_h,
                 round(200.0 * n / greatest(max(n) OVER (), 1))::int AS h FROM bins) x
), worst AS (
    SELECT string_agg(format('<section><h3>%s: down %s h last week</h3>%s</section>',
                             replace(replace(replace(w->>'store_id', '&', '&amp;'), '<', '&lt;'), '>', '&gt;'),
                             w->>'downtime_last_week',
                             storemon.storemon_store_svg(w->>'store_id', s.as_of, s.interpolation)),
                      E'\n' ORDER BY ord) AS html
    FROM s, jsonb_array_elements(s.worst) WITH ORDINALITY AS t(w, ord)
)
SELECT format($html$<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>storemon report %1$s</title>
<style>body{font-family:sans-serif;margin:24px;color:#222}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}th{background:#f2f2f2}
section{margin:18px 0}h3{margin:4px 0;font-size:15px}</style></head>
<body>
<h1>storemon report</h1>
<p>Report <code>%1$s</code> as of %2$s (UTC), interpolation %3$s.</p>
<table>
<tr><th>stores</th><th>fully up</th><th>uptime last hour (min)</th><th>downtime last hour (min)</th>
<th>uptime last day (h)</th><th>downtime last day (h)</th><th>uptime last week (h)</th><th>downtime last week (h)</th></tr>
<tr><td>%4$s</td><td>%5$s</td><td>%6$s</td><td>%7$s</td><td>%8$s</td><td>%9$s</td><td>%10$s</td><td>%11$s</td></tr>
</table>
<h2>Weekly downtime across stores</h2>
%12$s
<h2>The ten stores down longest last week</h2>
%13$s
</body></html>$html$,
    :'report', to_char(s.as_of AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), s.interpolation,
    s.stores, s.fully_up_stores, s.uptime_last_hour, s.downtime_last_hour, s.uptime_last_day,
    s.downtime_last_day, s.uptime_last_week, s.downtime_last_week, h.svg, coalesce(w.html, '<p>No store was down.</p>'))
FROM s, histogram h, worst w;
