/*
 * zones.c — time-zone lookup and UTC-offset spans (see zones.h).
 */
#include "postgres.h"

#include "datatype/timestamp.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/formatting.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#include "server/catalog.h"
#include "server/zones.h"

#define SM_ZONE_NAME_MAX 128

typedef struct ZoneEntry
{
	char key[SM_ZONE_NAME_MAX];  /* lower-case name as listed */
	char name[SM_ZONE_NAME_MAX]; /* the listed spelling */
} ZoneEntry;

/* Built once per backend, when needed: the zone list does not change while it runs. */
static HTAB *known_zones = NULL;

/* Every name met by this backend (lower case) and its zone, or NULL: unknown. */
typedef struct ResolvedZone
{
	char key[SM_ZONE_NAME_MAX];
	pg_tz *tz;
} ResolvedZone;

static HTAB *resolved_zones = NULL;

static void
load_known_zones(void)
{
	HASHCTL ctl;
	HTAB *zones;
	int level;

	ctl.keysize = SM_ZONE_NAME_MAX;
	ctl.entrysize = sizeof(ZoneEntry);
	ctl.hcxt = TopMemoryContext;
	zones =
	    hash_create("storemon known zones", 1024, &ctl, HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);

	level = sm_pin_search_path();
	SPI_connect();
	if (SPI_execute("SELECT pg_catalog.lower(name), name FROM pg_catalog.pg_timezone_names", true,
	                0) != SPI_OK_SELECT)
		elog(ERROR, "storemon: cannot read pg_timezone_names");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		char *key = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		char *name = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
		ZoneEntry *e;
		bool found;

		if (strlen(key) >= SM_ZONE_NAME_MAX)
			continue;
		e = hash_search(zones, key, HASH_ENTER, &found);
		strlcpy(e->name, name, SM_ZONE_NAME_MAX);
	}
	SPI_finish();
	sm_unpin_search_path(level);
	known_zones = zones;
}

/* The zone listed under key (lower case) in pg_timezone_names, or NULL. */
static pg_tz *
listed_zone(const char *key)
{
	ZoneEntry *e;

	if (known_zones == NULL)
		load_known_zones();
	e = hash_search(known_zones, key, HASH_FIND, NULL);
	return e != NULL ? pg_tzset(e->name) : NULL; /* once per name: see sm_zone_find */
}

/*
 * A name shaped like a zone file's path: components of letters, digits and
 * _+- starting with a letter, none of them the two files pg_timezone_names
 * leaves out ("posixrules", "Factory").
 */
static bool
plain_zone_name(const char *key)
{
	const char *c = key;

	while (*c != '\0')
	{
		const char *start = c;

		if (!(*c >= 'a' && *c <= 'z'))
			return false;
		while (*c != '\0' && *c != '/')
		{
			if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '+' ||
			      *c == '-'))
				return false;
			c++;
		}
		if ((c - start == 10 && strncmp(start, "posixrules", 10) == 0) ||
		    (c - start == 7 && strncmp(start, "factory", 7) == 0))
			return false;
		if (*c == '/')
			c++;
	}
	return true;
}

/*
 * Resolve a lower-case name.  The quick way loads just that zone: when
 * PostgreSQL found it as a file (its canonical spelling then differs from
 * the upper-cased name, which is what a POSIX-style spec like "XYZ5" gets)
 * and accepts it, it is exactly a zone pg_timezone_names lists.  Anything
 * else is decided by the list itself, which costs loading every zone, once
 * per backend and only when such a name appears.
 */
static pg_tz *
resolve_zone(const char *key)
{
	if (plain_zone_name(key))
	{
		pg_tz *tz = pg_tzset(key);
		char upper[SM_ZONE_NAME_MAX];
		int i;

		if (tz == NULL)
			return NULL; /* neither a zone file nor a POSIX spec: not listed */
		for (i = 0; key[i] != '\0'; i++)
			upper[i] = pg_ascii_toupper((unsigned char)key[i]);
		upper[i] = '\0';
		if (strcmp(pg_get_timezone_name(tz), upper) != 0 && pg_tz_acceptable(tz))
			return tz;
	}
	return listed_zone(key);
}

pg_tz *
sm_zone_find(const char *name, int len)
{
	char key[SM_ZONE_NAME_MAX];
	ResolvedZone *e;
	bool found;

	if (len <= 0 || len >= SM_ZONE_NAME_MAX)
		return NULL;
	if (resolved_zones == NULL)
	{
		HASHCTL ctl;

		ctl.keysize = SM_ZONE_NAME_MAX;
		ctl.entrysize = sizeof(ResolvedZone);
		ctl.hcxt = TopMemoryContext;
		resolved_zones = hash_create("storemon resolved zones", 256, &ctl,
		                             HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	}
	for (int i = 0; i < len; i++)
		key[i] = pg_ascii_tolower((unsigned char)name[i]);
	key[len] = '\0';
	e = hash_search(resolved_zones, key, HASH_FIND, NULL);
	if (e == NULL)
	{
		pg_tz *tz = resolve_zone(key); /* may raise an error: enter the name after */

		e = hash_search(resolved_zones, key, HASH_ENTER, &found);
		e->tz = tz;
	}
	return e->tz;
}

pg_tz *
sm_zone_default(void)
{
	pg_tz *tz = sm_zone_find(SM_DEFAULT_ZONE, strlen(SM_DEFAULT_ZONE));

	if (tz == NULL)
		ereport(ERROR,
		        (errcode(ERRCODE_CONFIG_FILE_ERROR),
		         errmsg("storemon: the server's time zone database lacks %s", SM_DEFAULT_ZONE)));
	return tz;
}

/* Seconds since 1970 (pg_time_t) <-> microseconds since 2000 (TimestampTz). */
#define SM_EPOCH_SHIFT_SECS ((int64)(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY)

static pg_time_t
to_pg_time(int64 us)
{
	int64 secs = us / USECS_PER_SEC;

	if (us % USECS_PER_SEC < 0)
		secs--;
	return (pg_time_t)(secs + SM_EPOCH_SHIFT_SECS);
}

static int64
from_pg_time(pg_time_t t)
{
	return ((int64)t - SM_EPOCH_SHIFT_SECS) * USECS_PER_SEC;
}

int
sm_zone_spans(pg_tz *tz, SmInterval range, SmOffsetSpan *out, int cap)
{
	int64 cur = range.lo;
	pg_time_t t = to_pg_time(range.lo);
	int n = 0;

	while (cur < range.hi)
	{
		long int before_off, after_off;
		int before_dst, after_dst;
		pg_time_t boundary;
		int64 end = range.hi;
		int r = pg_next_dst_boundary(&t, &before_off, &before_dst, &boundary, &after_off,
		                             &after_dst, tz);

		if (r < 0)
			elog(ERROR, "storemon: time zone %s has no offset at " INT64_FORMAT,
			     pg_get_timezone_name(tz), (int64)t);
		/* compared in seconds: a boundary far past the range would overflow as microseconds */
		if (r == 1 && boundary <= to_pg_time(range.hi - 1))
			end = Max(from_pg_time(boundary), cur + 1);
		if (n < cap)
			out[n] = (SmOffsetSpan){cur, end, (int64)before_off * USECS_PER_SEC};
		n++;
		cur = end;
		t = boundary;
	}
	return n;
}
