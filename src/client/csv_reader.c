/*
 * csv_reader.c — CSV records from a stream, bounded and checked (see
 * csv_reader.h).
 *
 * The input is read in blocks and scanned once: ordinary bytes are copied
 * in runs, and only the bytes CSV gives a meaning to (newline, quote,
 * comma, carriage return) or that a check needs (control bytes, bytes of
 * multi-byte characters) stop the scan.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "csv_reader.h"

enum
{
	SEEN_CONTROL = 1, /* a byte below 0x20 or 0x7F, kept in the text */
	SEEN_HIGH = 2,    /* a byte of 0x80 or more */
	SEEN_NUL = 4
};

void
csv_reader_init(CsvReader *r, FILE *f, bool check_utf8)
{
	r->f = f;
	r->check_utf8 = check_utf8;
	r->line = 1;
	r->pos = r->end = 0;
	r->error[0] = '\0';
}

void
csv_record_free(CsvRecord *rec)
{
	free(rec->text);
	rec->text = NULL;
	rec->len = rec->cap = 0;
}

static int failed(CsvReader *r, long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
failed(CsvReader *r, long line, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(r->error, sizeof(r->error), "line %ld: ", line);

	va_start(ap, fmt);
	vsnprintf(r->error + n, sizeof(r->error) - n, fmt, ap);
	va_end(ap);
	return -1;
}

/* Room for n more bytes and a NUL; false past the bound or out of memory. */
static bool
reserve(CsvRecord *rec, size_t n)
{
	size_t need = rec->len + n + 1;

	if (need <= rec->cap)
		return true;
	if (need > (size_t)CSV_RECORD_MAX + 1)
		return false;
	rec->cap = rec->cap ? 2 * rec->cap : 4096;
	if (rec->cap < need)
		rec->cap = need;
	if (rec->cap > (size_t)CSV_RECORD_MAX + 1)
		rec->cap = (size_t)CSV_RECORD_MAX + 1;
	rec->text = realloc(rec->text, rec->cap);
	return rec->text != NULL;
}

static bool
refill(CsvReader *r)
{
	r->pos = 0;
	r->end = fread(r->buf, 1, sizeof(r->buf), r->f);
	return r->end > 0;
}

/* Bytes a scan stops at; everything else is copied as it comes. */
static bool
special(unsigned char c)
{
	return c < 0x20 || c >= 0x7F || c == '"' || c == ',';
}

int
csv_utf8_length(const unsigned char *p, size_t left)
{
	int n = p[0] < 0x80   ? 1
	        : p[0] < 0xC2 ? 0
	        : p[0] < 0xE0 ? 2
	        : p[0] < 0xF0 ? 3
	        : p[0] < 0xF5 ? 4
	                      : 0;
	unsigned char lo = 0x80, hi = 0xBF; /* the second byte's range, as PostgreSQL checks it */

	if (n == 0 || (size_t)n > left)
		return 0;
	if (p[0] == 0xE0)
		lo = 0xA0;
	else if (p[0] == 0xED)
		hi = 0x9F; /* no UTF-16 surrogates */
	else if (p[0] == 0xF0)
		lo = 0x90;
	else if (p[0] == 0xF4)
		hi = 0x8F; /* nothing past U+10FFFF */
	if (n > 1 && (p[1] < lo || p[1] > hi))
		return 0;
	for (int i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	return n;
}

/* The physical line of byte at of rec. */
static long
line_at(const CsvRecord *rec, size_t at)
{
	long line = rec->line;

	for (size_t i = 0; i < at; i++)
		line += rec->text[i] == '\n';
	return line;
}

/* Refuse what no text can hold, and bytes that are not UTF-8 when they must be. */
static int
check_bytes(CsvReader *r, const CsvRecord *rec, int seen)
{
	const unsigned char *t = (const unsigned char *)rec->text;

	for (size_t i = 0; i < rec->len && (seen & (SEEN_NUL | SEEN_HIGH));)
	{
		int n = t[i] == 0                       ? 0
		        : !r->check_utf8 || t[i] < 0x80 ? 1
		                                        : csv_utf8_length(t + i, rec->len - i);
		char bytes[20] = "";

		if (n > 0)
		{
			i += n;
			continue;
		}
		if (!r->check_utf8)
			return failed(r, line_at(rec, i), "a NUL byte (0x00): no text holds one");
		n = t[i] < 0xC0   ? 1
		    : t[i] < 0xE0 ? 2
		    : t[i] < 0xF0 ? 3
		    : t[i] < 0xF8 ? 4
		                  : 1; /* as PostgreSQL shows them */
		for (int k = 0; k < n && i + k < rec->len; k++)
			snprintf(bytes + strlen(bytes), sizeof(bytes) - strlen(bytes), "%s0x%02x", k ? " " : "",
			         t[i + k]);
		return failed(r, line_at(rec, i), "invalid byte sequence for encoding \"UTF8\": %s", bytes);
	}
	return 1;
}

/* Where the scan of a record is. */
typedef struct Scan
{
	bool quoted; /* inside quotes */
	bool cr;     /* the last byte was a CR outside quotes */
	bool any;    /* a byte was read */
	int seen;    /* SEEN_* */
} Scan;

static int
too_long(CsvReader *r, const CsvRecord *rec)
{
	if (rec->text == NULL)
		return failed(r, rec->line, "out of memory");
	return failed(r, rec->line, "a record longer than %d bytes, the most the loader reads",
	              CSV_RECORD_MAX);
}

static int
stray_cr(CsvReader *r)
{
	return failed(r, r->line, "a carriage return outside quotes (lines end with LF or CRLF)");
}

/* Copy the ordinary bytes at the reader's position: 0, or -1 on an error. */
static int
copy_run(CsvReader *r, CsvRecord *rec, Scan *sc)
{
	size_t run = r->pos;

	while (run < r->end && !special(r->buf[run]))
		run++;
	if (run == r->pos)
		return 0;
	if (sc->cr)
		return stray_cr(r);
	if (!reserve(rec, run - r->pos))
		return too_long(r, rec);
	memcpy(rec->text + rec->len, r->buf + r->pos, run - r->pos);
	rec->len += run - r->pos;
	r->pos = run;
	sc->any = true;
	return 0;
}

/* The record ends: the CR of a CRLF dropped, whether it is plain, its bytes checked. */
static int
finish(CsvReader *r, CsvRecord *rec, const Scan *sc)
{
	rec->len -= sc->cr;
	rec->text[rec->len] = '\0';
	rec->plain = !(sc->seen & SEEN_CONTROL);
	return check_bytes(r, rec, sc->seen);
}

/* A byte CSV or a check gives a meaning to: 1 when it ended the record, 0, or -1. */
static int
take_special(CsvReader *r, CsvRecord *rec, Scan *sc, unsigned char c)
{
	sc->any = true;
	if (sc->cr && c != '\n')
		return stray_cr(r);
	if (c == '\n')
	{
		r->line++;
		if (!sc->quoted)
			return finish(r, rec, sc) < 0 ? -1 : 1;
	}
	sc->cr = c == '\r' && !sc->quoted;
	if (c == '"')
		sc->quoted = !sc->quoted;
	else if (c == ',' && !sc->quoted)
		rec->fields++;
	else if (c == 0)
		sc->seen |= SEEN_NUL | SEEN_CONTROL;
	else if (c >= 0x80)
		sc->seen |= SEEN_HIGH;
	else if ((c < 0x20 || c == 0x7F) && !sc->cr)
		sc->seen |= SEEN_CONTROL;
	if (!reserve(rec, 1))
		return too_long(r, rec);
	rec->text[rec->len++] = (char)c;
	rec->text[rec->len] = '\0';
	return 0;
}

/* One record, blank or not: 1, 0 at the end of the input, -1 on an error. */
static int
read_one(CsvReader *r, CsvRecord *rec)
{
	Scan sc = {false, false, false, 0};
	int got = 0;

	rec->len = 0;
	rec->fields = 1;
	rec->line = r->line;
	if (!reserve(rec, 0))
		return failed(r, rec->line, "out of memory");
	rec->text[0] = '\0';
	while (got == 0)
	{
		if (copy_run(r, rec, &sc) < 0)
			return -1;
		if (r->pos == r->end && !refill(r))
			break;
		if (special(r->buf[r->pos]))
			got = take_special(r, rec, &sc, r->buf[r->pos++]);
	}
	if (got != 0)
		return got;
	if (ferror(r->f))
		return failed(r, r->line, "cannot read: %s", strerror(errno));
	if (sc.quoted)
		return failed(r, rec->line, "a quoted field is not closed before the end of the file");
	if (!sc.any)
		return 0;
	return finish(r, rec, &sc) < 0 ? -1 : 1; /* the last record, without a line end */
}

int
csv_read(CsvReader *r, CsvRecord *rec)
{
	int got;

	while ((got = read_one(r, rec)) > 0 && rec->len == 0)
		;
	return got;
}

int
csv_split(const CsvRecord *rec, CsvFields *f)
{
	bool quoted = false;
	char *o;
	int n = 0;

	if (f->cap < rec->len + 1)
	{
		f->cap = rec->len + 1;
		if ((f->buf = realloc(f->buf, f->cap)) == NULL)
			return -1;
	}
	o = f->buf;
	f->field[0] = o;
	for (const char *p = rec->text;; p++)
	{
		if (*p == '"')
		{
			if (quoted && p[1] == '"')
				p++; /* "" inside quotes: one quote */
			else
			{
				quoted = !quoted;
				continue;
			}
		}
		else if ((*p == ',' && !quoted) || *p == '\0')
		{
			if (n < MAX_COLUMNS)
				*o++ = '\0';
			if (*p == '\0')
				return n + 1;
			if (++n < MAX_COLUMNS)
				f->field[n] = o;
			continue;
		}
		if (n < MAX_COLUMNS)
			*o++ = *p;
	}
}

void
csv_fields_free(CsvFields *f)
{
	free(f->buf);
	f->buf = NULL;
	f->cap = 0;
}
