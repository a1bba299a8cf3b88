/*
 * feed_format.c — the shape of a feed's timestamp (see feed_format.h).
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
