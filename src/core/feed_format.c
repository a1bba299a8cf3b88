/*
 * feed_format.c — the shape of a feed's timestamp, and the value of its
 * common shapes (see feed_format.h).
 *
 * A left-to-right match without backtracking: every optional part of the
 * grammar starts with a character no following part can start with, so
 * taking each part when it fits is the regular expression's own answer.
 */
#include "feed_format.h"

typedef struct Cursor
{
	const char *p;
	const char *end;
} Cursor;

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 'a' - 'A') : c;
}

/* Up to max digits (at least min); how many were taken, or -1. */
static int
digits(Cursor *c, int min, int max)
{
	int n = 0;

	while (n < max && c->p < c->end && is_digit(*c->p))
	{
		c->p++;
		n++;
	}
	return n >= min ? n : -1;
}

static bool
take(Cursor *c, char ch)
{
	if (c->p < c->end && lower(*c->p) == ch)
	{
		c->p++;
		return true;
	}
	return false;
}

static void
skip_spaces(Cursor *c)
{
	while (c->p < c->end && is_space(*c->p))
		c->p++;
}

/* [ T] d{1,2}:d{2} (:d{2} (.d{1,6})?)?, all or nothing. */
static void
time_of_day(Cursor *c)
{
	Cursor save = *c;

	if (!(take(c, ' ') || take(c, 't')) || digits(c, 1, 2) < 0 || !take(c, ':') ||
	    digits(c, 2, 2) < 0)
	{
		*c = save;
		return;
	}
	save = *c;
	if (!take(c, ':') || digits(c, 2, 2) < 0)
	{
		*c = save;
		return;
	}
	save = *c;
	if (!take(c, '.') || digits(c, 1, 6) < 0)
		*c = save;
}

/* UTC | GMT | Z | [+-] d{1,2} (:? d{2})?, or nothing. */
static void
zone(Cursor *c)
{
	const char *p = c->p;
	size_t left = (size_t)(c->end - p);

	if (left >= 3 && ((lower(p[0]) == 'u' && lower(p[1]) == 't' && lower(p[2]) == 'c') ||
	                  (lower(p[0]) == 'g' && lower(p[1]) == 'm' && lower(p[2]) == 't')))
		c->p += 3;
	else if (take(c, 'z'))
		return;
	else if (take(c, '+') || take(c, '-'))
	{
		/* d{1,2} then optionally :d{2} or d{2}: 1 to 4 digits, or 1-2 ':' 2 */
		int n = digits(c, 1, 4);

		if (n < 0)
			c->p = p; /* a bare sign: no zone; the end check refuses it */
		else if (n <= 2 && take(c, ':') && digits(c, 2, 2) < 0)
			c->p = p + 1 + n; /* ':' without two digits is left for the end check to refuse */
	}
}

bool
sm_feed_timestamp_shape(const char *s, size_t len)
{
	Cursor c = {s, s + len};

	skip_spaces(&c);
	if (digits(&c, 4, 4) < 0 || !take(&c, '-') || digits(&c, 2, 2) < 0 || !take(&c, '-') ||
	    digits(&c, 2, 2) < 0)
		return false;
	time_of_day(&c);
	skip_spaces(&c);
	zone(&c);
	skip_spaces(&c);
	return c.p == c.end;
}

/* The value of exactly n digits at c (n <= 6), or -1 when they are not there. */
static int64_t
number(Cursor *c, int n)
{
	int64_t v = 0;

	for (int i = 0; i < n; i++, c->p++)
	{
		if (c->p >= c->end || !is_digit(*c->p))
			return -1;
		v = v * 10 + (*c->p - '0');
	}
	return v;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t
days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t era, yoe, doy;

	y -= m <= 2;
	era = y / 400; /* y >= 999 here: no negative division */
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static int
days_in_month(int64_t y, int64_t m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

/* [ Tt] h{1,2}:mm(:ss(.f{1,6})?)? as microseconds into the day; -1 if not that. */
static int64_t
day_time_us(Cursor *c)
{
	int64_t h, mi, s = 0, frac = 0;
	int hour_digits = 1 + (c->p + 1 < c->end && is_digit(c->p[1]));
	bool seconds;

	if ((h = number(c, hour_digits)) < 0 || h > 23 || !take(c, ':') || (mi = number(c, 2)) < 0 ||
	    mi > 59)
		return -1;
	if ((seconds = take(c, ':')) && ((s = number(c, 2)) < 0 || s > 59))
		return -1;
	if (seconds && take(c, '.'))
	{
		int n = 0;

		for (; n < 6 && c->p < c->end && is_digit(*c->p); n++, c->p++)
			frac = frac * 10 + (*c->p - '0');
		if (n == 0 || (c->p < c->end && is_digit(*c->p)))
			return -1;
		for (; n < 6; n++)
			frac *= 10;
	}
	return ((h * 60 + mi) * 60 + s) * INT64_C(1000000) + frac;
}

/*
 * [+-] d{1,2} (: d{2})? or [+-] d{3,4}, as PostgreSQL's DecodeTimezone
 * reads them (three or four digits are hours and minutes, hours at most
 * 15): seconds east of UTC into *east, or false.
 */
static bool
offset_east(Cursor *c, int64_t *east)
{
	int sign = *c->p++ == '-' ? -1 : 1;
	const char *start = c->p;
	int64_t hours, minutes = 0;
	int n;

	if ((n = digits(c, 1, 4)) < 0)
		return false;
	c->p = start;
	hours = number(c, n);
	if (n >= 3)
	{
		minutes = hours % 100;
		hours /= 100;
	}
	else if (take(c, ':') && (minutes = number(c, 2)) < 0)
		return false;
	if (hours > 15 || minutes > 59)
		return false;
	*east = sign * (hours * 3600 + minutes * 60);
	return true;
}

bool
sm_feed_timestamp_us(const char *s, size_t len, int64_t *us)
{
	Cursor c = {s, s + len};
	int64_t y, m, d, in_day = 0, east = 0;
	bool timed = false;

	skip_spaces(&c);
	if ((y = number(&c, 4)) < 1000 || !take(&c, '-') || (m = number(&c, 2)) < 1 || m > 12 ||
	    !take(&c, '-') || (d = number(&c, 2)) < 1 || d > days_in_month(y, m))
		return false;
	if (c.p + 1 < c.end && (*c.p == ' ' || lower(*c.p) == 't') && is_digit(c.p[1]))
	{
		c.p++;
		if ((in_day = day_time_us(&c)) < 0)
			return false;
		timed = true;
	}
	skip_spaces(&c);
	if (c.end - c.p >= 3 && (lower(c.p[0]) == 'u' || lower(c.p[0]) == 'g'))
	{
		if (!(take(&c, 'u') && take(&c, 't') && take(&c, 'c')) &&
		    !(take(&c, 'g') && take(&c, 'm') && take(&c, 't')))
			return false;
	}
	else if (c.p < c.end && (*c.p == '+' || *c.p == '-'))
	{
		/* an offset after a time; after a bare date it is left to the server */
		if (!timed || !offset_east(&c, &east))
			return false;
	}
	else
		take(&c, 'z');
	skip_spaces(&c);
	if (c.p != c.end)
		return false;
	/* PostgreSQL counts from 2000-01-01, 10957 days after 1970-01-01. */
	*us = (days_from_civil(y, m, d) - 10957) * INT64_C(86400000000) + in_day -
	      east * INT64_C(1000000);
	return true;
}
