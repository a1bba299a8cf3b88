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

/* One record, blank or not: 1, 0 at the end of the input, -1 on an error. */
static int
read_one(CsvReader *r, CsvRecord *rec)
{
	bool quoted = false, cr = false, any = false;
	int seen = 0;

	rec->len = 0;
	rec->fields = 1;
	rec->line = r->line;
	if (!reserve(rec, 0))
		return failed(r, rec->line, "out of memory");
	rec->text[0] = '\0';
	for (;;)
	{
		size_t run = r->pos;
		unsigned char c;

		while (run < r->end && !special(r->buf[run]))
			run++;
		if (run > r->pos)
		{
			if (cr)
				return failed(r, r->line,
				              "a carriage return outside quotes (lines end with LF or CRLF)");
			if (!reserve(rec, run - r->pos))
				goto too_long;
			memcpy(rec->text + rec->len, r->buf + r->pos, run - r->pos);
			rec->len += run - r->pos;
			r->pos = run;
			any = true;
		}
		if (r->pos == r->end && !refill(r))
			break;
		if (!special(r->buf[r->pos]))
			continue;
		c = r->buf[r->pos++];
		any = true;
		if (cr && c != '\n')
			return failed(r, r->line,
			              "a carriage return outside quotes (lines end with LF or CRLF)");
		if (c == '\n')
		{
			r->line++;
			if (!quoted)
			{
				rec->len -= cr; /* the CR of a CRLF */
				rec->text[rec->len] = '\0';
				rec->plain = !(seen & SEEN_CONTROL);
				return check_bytes(r, rec, seen);
			}
		}
		cr = c == '\r' && !quoted;
		if (c == '"')
			quoted = !quoted;
		else if (c == ',' && !quoted)
			rec->fields++;
		else if (c == 0)
			seen |= SEEN_NUL | SEEN_CONTROL;
		else if (c >= 0x80)
			seen |= SEEN_HIGH;
		else if ((c < 0x20 || c == 0x7F) && !cr)
			seen |= SEEN_CONTROL;
		if (!reserve(rec, 1))
			goto too_long;
		rec->text[rec->len++] = (char)c;
		rec->text[rec->len] = '\0';
	}
	if (ferror(r->f))
		return failed(r, r->line, "cannot read: %s", strerror(errno));
	if (quoted)
		return failed(r, rec->line, "a quoted field is not closed before the end of the file");
	rec->len -= cr; /* a CR just before the end of the file */
	rec->text[rec->len] = '\0';
	rec->plain = !(seen & SEEN_CONTROL);
	if (!any)
		return 0;
	return check_bytes(r, rec, seen) < 0 ? -1 : 1;

too_long:
	if (rec->text == NULL)
		return failed(r, rec->line, "out of memory");
	return failed(r, rec->line, "a record longer than %d bytes, the most the loader reads",
	              CSV_RECORD_MAX);
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
