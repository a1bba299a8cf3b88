/*
 * store_svg.c — storemon_store_svg(store_id, as_of, interpolation): a
 * self-contained SVG picture of one store's week.
 *
 * One row per local calendar day the window (as_of - 168 h, as_of] touches,
 * 24 local hours across.  Business hours are a pale band; inside it a bar
 * is green where the store was up and red where it was down; each outage
 * episode is outlined and carries a tooltip with its times.  The caption
 * holds the report's six figures.  Everything is drawn from the same
 * timeline the report sums (store_walk.h), so the picture cannot disagree
 * with the figures.  Instants are placed by their local clock through the
 * zone's offset spans, so an autumn repeated hour is drawn over itself and
 * a spring skipped hour is a gap, as SPEC.md counts them.
 */
#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "server/call_args.h"
#include "server/result_rows.h"

PG_FUNCTION_INFO_V1(storemon_store_svg);

#define LABEL_W 120 /* day labels on the left */
#define HOUR_W  30  /* pixels per local hour */
#define ROW_H   26
#define ROW_GAP 8
#define TOP     56 /* title and hour ticks */
#define CAPTION 74
#define WIDTH   (LABEL_W + 24 * HOUR_W + 20)

typedef struct Picture
{
	StringInfo svg;
	const SmStore *store;
	int64 first_day; /* local day number of the first row */
	int nrows;
} Picture;

/* Text for XML: markup characters escaped, control characters (not allowed in XML 1.0) as '?'. */
static void
append_xml_text(StringInfo out, const char *s)
{
	for (; *s; s++)
	{
		unsigned char c = (unsigned char)*s;

		if (c == '&')
			appendStringInfoString(out, "&amp;");
		else if (c == '<')
			appendStringInfoString(out, "&lt;");
		else if (c == '>')
			appendStringInfoString(out, "&gt;");
		else if (c == '"')
			appendStringInfoString(out, "&quot;");
		else if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
			appendStringInfoChar(out, '?');
		else
			appendStringInfoChar(out, (char)c);
	}
}

/* UTC offset of instant t from the spans (they cover the window). */
static int64
offset_at(const SmStore *store, int64 t)
{
	for (int i = 0; i < store->nspans; i++)
		if (t < store->spans[i].hi)
			return store->spans[i].offset_us;
	return store->nspans > 0 ? store->spans[store->nspans - 1].offset_us : 0;
}

static int
row_y(int row)
{
	return TOP + row * (ROW_H + ROW_GAP);
}

/*
 * Draw [lo, hi) (UTC) as rectangles of class cls, inset pixels from the
 * row's top and bottom: split where the offset changes and at local
 * midnights.
 */
static void
draw_utc(Picture *pic, int64 lo, int64 hi, const char *cls, int inset)
{
	const SmStore *store = pic->store;

	for (int i = 0; i < store->nspans; i++)
	{
		int64 a = Max(lo, store->spans[i].lo);
		int64 b = Min(hi, store->spans[i].hi);
		int64 local = a + store->spans[i].offset_us;
		int64 local_end = b + store->spans[i].offset_us;

		while (local < local_end)
		{
			int64 day = sm_floor_div(local, SM_USECS_PER_DAY);
			int64 day_end = Min(local_end, (day + 1) * SM_USECS_PER_DAY);
			int row = (int)(day - pic->first_day);
			double x0 =
			    LABEL_W + (double)(local - day * SM_USECS_PER_DAY) * HOUR_W / SM_USECS_PER_HOUR;
			double x1 =
			    LABEL_W + (double)(day_end - day * SM_USECS_PER_DAY) * HOUR_W / SM_USECS_PER_HOUR;

			if (row >= 0 && row < pic->nrows)
				appendStringInfo(pic->svg,
				                 "<rect class=\"%s\" x=\"%.2f\" y=\"%d\" width=\"%.2f\" "
				                 "height=\"%d\"/>\n",
				                 cls, x0, row_y(row) + inset, Max(x1 - x0, 0.5), ROW_H - 2 * inset);
			local = day_end;
		}
	}
}

static char *
local_text(const SmStore *store, int64 t)
{
	Timestamp local = t + offset_at(store, t);
	struct pg_tm tm;
	fsec_t fsec;

	if (timestamp2tm(local, NULL, &tm, &fsec, NULL, NULL) != 0)
		return pstrdup("?");
	return psprintf("%04d-%02d-%02d %02d:%02d:%02d%s", tm.tm_year, tm.tm_mon, tm.tm_mday,
	                tm.tm_hour, tm.tm_min, tm.tm_sec, fsec != 0 ? psprintf(".%06d", fsec) : "");
}

static void
draw_rows(Picture *pic)
{
	for (int r = 0; r < pic->nrows; r++)
	{
		int jd = (int)(pic->first_day + POSTGRES_EPOCH_JDATE);
		static const char *const names[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
		int y, m, d;

		j2date(jd + r, &y, &m, &d);
		appendStringInfo(pic->svg,
		                 "<text class=\"day\" x=\"8\" y=\"%d\">%s %04d-%02d-%02d</text>\n"
		                 "<rect class=\"closed\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>\n",
		                 row_y(r) + ROW_H / 2 + 4, names[j2day(jd + r)], y, m, d, LABEL_W, row_y(r),
		                 24 * HOUR_W, ROW_H);
	}
	for (int h = 0; h <= 24; h += 3)
		appendStringInfo(pic->svg,
		                 "<text class=\"tick\" x=\"%d\" y=\"%d\">%02d:00</text>\n"
		                 "<line class=\"grid\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n",
		                 LABEL_W + h * HOUR_W - 14, TOP - 6, h, LABEL_W + h * HOUR_W, TOP,
		                 LABEL_W + h * HOUR_W, row_y(pic->nrows) - ROW_GAP);
}

/* Business band, status bars, then outage outlines with their times as tooltips. */
static void
draw_timeline(Picture *pic)
{
	const SmStore *store = pic->store;
	const SmTimeline *tl = &store->timeline;
	int seg = 0;
	int n;

	for (int i = 0; i < tl->nbusiness; i++)
	{
		int64 lo = Max(tl->business[i].lo, store->window.lo);
		int64 hi = Min(tl->business[i].hi, store->window.hi);

		if (lo >= hi)
			continue;
		draw_utc(pic, lo, hi, "business", 0);
		while (seg < tl->nsegments && tl->segments[seg].hi <= lo)
			seg++;
		for (int k = seg; k < tl->nsegments && tl->segments[k].lo < hi; k++)
			draw_utc(pic, Max(lo, tl->segments[k].lo), Min(hi, tl->segments[k].hi),
			         tl->segments[k].active ? "up" : "down", 6);
	}
	n = sm_outages(tl, store->window, store->scratch);
	for (int i = 0; i < n; i++)
	{
		SmInterval ep = store->scratch->outages[i];

		appendStringInfo(pic->svg, "<g class=\"outage\"><title>down %s to %s local, ",
		                 local_text(store, ep.lo), local_text(store, ep.hi));
		appendStringInfo(pic->svg, "%.2f min</title>\n",
		                 (double)(ep.hi - ep.lo) / SM_USECS_PER_MIN);
		draw_utc(pic, ep.lo, ep.hi, "episode", 2);
		appendStringInfoString(pic->svg, "</g>\n");
	}
}

static void
draw_caption(Picture *pic)
{
	const SmStore *store = pic->store;
	SmFigures f;
	char v[6][24];
	int y = row_y(pic->nrows) + 18;

	sm_window_figures(store->timeline.business, store->timeline.nbusiness, store->timeline.segments,
	                  store->timeline.nsegments, store->as_of, &f);
	for (int w = 0; w < SM_NWINDOWS; w++)
	{
		int64 unit = w == SM_LAST_HOUR ? SM_USECS_PER_MIN : SM_USECS_PER_HOUR;

		sm_format_hundredths(sm_round_hundredths(f.up_us[w], unit), v[w]);
		sm_format_hundredths(sm_round_hundredths(f.down_us[w], unit), v[3 + w]);
	}
	appendStringInfo(pic->svg,
	                 "<rect class=\"up key\" x=\"8\" y=\"%d\" width=\"12\" height=\"12\"/>"
	                 "<text class=\"caption\" x=\"24\" y=\"%d\">up</text>\n"
	                 "<rect class=\"down key\" x=\"60\" y=\"%d\" width=\"12\" height=\"12\"/>"
	                 "<text class=\"caption\" x=\"76\" y=\"%d\">down</text>\n"
	                 "<rect class=\"business key\" x=\"124\" y=\"%d\" width=\"12\" height=\"12\"/>"
	                 "<text class=\"caption\" x=\"140\" y=\"%d\">business hours</text>\n",
	                 y - 10, y, y - 10, y, y - 10, y);
	appendStringInfo(pic->svg,
	                 "<text class=\"figures\" x=\"8\" y=\"%d\">uptime: last hour %s min, last day "
	                 "%s h, last week %s h</text>\n"
	                 "<text class=\"figures\" x=\"8\" y=\"%d\">downtime: last hour %s min, last "
	                 "day %s h, last week %s h</text>\n",
	                 y + 22, v[0], v[1], v[2], y + 42, v[3], v[4], v[5]);
}

static void
draw_store(void *arg, const SmStore *store)
{
	Picture *pic = arg;
	int64 first = store->window.lo + offset_at(store, store->window.lo);
	int64 last = store->window.hi - 1 + offset_at(store, store->window.hi - 1);
	int height;

	pic->store = store;
	pic->first_day = sm_floor_div(first, SM_USECS_PER_DAY);
	pic->nrows = (int)(sm_floor_div(last, SM_USECS_PER_DAY) - pic->first_day + 1);
	height = row_y(pic->nrows) + CAPTION;
	appendStringInfo(pic->svg,
	                 "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
	                 "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n"
	                 "<style>.closed{fill:#eeeeee}.business{fill:#cfe3f7}.up{fill:#2e9d4f}"
	                 ".down{fill:#d64545}.episode{fill:none;stroke:#6b0000;stroke-width:1.5}"
	                 ".grid{stroke:#ffffff;stroke-width:1}.tick{fill:#555555;font-size:10px}"
	                 ".day,.caption{fill:#222222}.figures{fill:#222222;font-size:13px}"
	                 ".title{fill:#111111;font-size:14px;font-weight:bold}</style>\n",
	                 WIDTH, height, WIDTH, height);
	appendStringInfoString(pic->svg, "<text class=\"title\" x=\"8\" y=\"20\">store ");
	append_xml_text(pic->svg, text_to_cstring(store->store_id));
	appendStringInfo(pic->svg, " \xE2\x80\x94 week to %s local (", local_text(store, store->as_of));
	append_xml_text(pic->svg, pg_get_timezone_name(store->zone));
	appendStringInfoString(pic->svg, ")</text>\n");
	draw_rows(pic);
	draw_timeline(pic);
	draw_caption(pic);
	appendStringInfoString(pic->svg, "</svg>\n");
}

/* (store_id, as_of, interpolation) */
static const SmCallArgs svg_args = {1, 2, -1, -1, -1, -1};

Datum
storemon_store_svg(PG_FUNCTION_ARGS)
{
	SmComputeRequest req;
	Picture pic = {0};
	SmStoreSink sink = {draw_store, NULL, &pic};
	text *store_id;

	if (PG_ARGISNULL(0))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
		                errmsg("storemon: store_id must not be NULL")));
	if (!sm_request_from_call(fcinfo, &svg_args, &req))
		PG_RETURN_NULL(); /* no polls at all */
	store_id = pg_detoast_datum_packed(PG_GETARG_TEXT_PP(0));
	req.store_ids = &store_id;
	req.nstore_ids = 1;
	pic.svg = makeStringInfo();
	sm_compute_stores(&req, &sink);
	if (pic.svg->len == 0)
		PG_RETURN_NULL(); /* no poll at or before as_of: the notice names the store */
	PG_RETURN_TEXT_P(cstring_to_text_with_len(pic.svg->data, pic.svg->len));
}
