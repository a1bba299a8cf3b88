-- storemon_store_svg on the sample feed: well-formed XML, the expected
-- elements, and agreement with the report and the outages it draws.
BEGIN;
SELECT plan(10);

SELECT store_id AS worst FROM storemon_compute() ORDER BY downtime_last_week DESC, store_id LIMIT 1 \gset
SELECT store_id AS best FROM storemon_compute() WHERE downtime_last_week = 0 ORDER BY store_id LIMIT 1 \gset
CREATE TEMP TABLE pic AS SELECT xmlparse(document storemon_store_svg(:'worst')) AS doc;
CREATE FUNCTION pg_temp.count_of(path text) RETURNS int LANGUAGE sql AS $$
    SELECT (xpath(path, doc, ARRAY[ARRAY['s', 'http://www.w3.org/2000/svg']]))[1]::text::numeric::int FROM pic
$$;

SELECT ok(xpath_exists('/s:svg', (SELECT doc FROM pic), ARRAY[ARRAY['s', 'http://www.w3.org/2000/svg']]),
          'the SVG is a well-formed XML document with an svg root in the SVG namespace');
SELECT is(pg_temp.count_of('count(//s:rect[@class="closed"])'), 8,
          'one row per local day the week touches: 8');
SELECT cmp_ok(pg_temp.count_of('count(//s:rect[@class="business"])'), '>', 0, 'business hours are shaded');
SELECT cmp_ok(pg_temp.count_of('count(//s:rect[@class="down"])'), '>', 0, 'the worst store has red down bars');
SELECT is(pg_temp.count_of('count(//s:g[@class="outage"])'),
          (SELECT count(*)::int FROM storemon_outages(store_ids => ARRAY[:'worst'])),
          'each outage episode of the week is marked, one group each');
SELECT is((SELECT string_agg(t::text, ' ') FROM unnest(xpath('//s:text[@class="figures"]/text()', (SELECT doc FROM pic),
                                                              ARRAY[ARRAY['s', 'http://www.w3.org/2000/svg']])) t),
          (SELECT format('uptime: last hour %s min, last day %s h, last week %s h downtime: last hour %s min, last day %s h, last week %s h',
                         uptime_last_hour, uptime_last_day, uptime_last_week, downtime_last_hour, downtime_last_day, downtime_last_week)
           FROM storemon_compute(store_ids => ARRAY[:'worst'])),
          'the caption holds the report''s six figures');
SELECT is((xpath('count(//s:rect[@class="down"])', xmlparse(document storemon_store_svg(:'best', interpolation => 'nearest')),
                 ARRAY[ARRAY['s', 'http://www.w3.org/2000/svg']]))[1]::text, '0',
          'a store without downtime has no red');
INSERT INTO store_status VALUES (E'<a href="x">&\x01', (SELECT max(timestamp_utc) FROM store_status), 'inactive');
SELECT lives_ok($$SELECT xmlparse(document storemon_store_svg(E'<a href="x">&\x01'))$$,
                'a store id with markup and control characters still gives well-formed XML');
SELECT is(storemon_store_svg('no such store'), NULL, 'a store without polls: NULL (and a notice)');
SELECT throws_ok($$SELECT storemon_store_svg(NULL)$$, '22004', 'storemon: store_id must not be NULL',
                 'a NULL store_id is an error');
SELECT * FROM finish();
ROLLBACK;
