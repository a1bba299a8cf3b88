/*
 * conninfo.c — storemon_internal.conninfo_value(connstr, keyword): the value
 * libpq takes for keyword from a connection string (the last one given),
 * read by libpq's own parser, so a check of where a connection goes (the
 * coordinator's shards must pin search_path) sees what libpq will use, not
 * what a pattern over the text suggests.
 */
#include "postgres.h"

#include "fmgr.h"
#include "libpq-fe.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#define MESSAGE_SHOWN 160 /* bytes of libpq's message an error shows */

PG_FUNCTION_INFO_V1(storemon_conninfo_value);

Datum
storemon_conninfo_value(PG_FUNCTION_ARGS)
{
	char *connstr = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char *keyword = text_to_cstring(PG_GETARG_TEXT_PP(1));
	char *parse_error = NULL;
	PQconninfoOption *options = PQconninfoParse(connstr, &parse_error);
	char *value = NULL;
	bool known = false;

	if (options == NULL)
	{
		/* copied out of libpq's malloc before ereport leaves this frame */
		char *message = pstrdup(parse_error != NULL ? parse_error : "out of memory");
		size_t length = strlen(message);

		if (length > 0 && message[length - 1] == '\n')
			message[--length] = '\0';
		/* libpq quotes the part it stopped at, which may be most of a huge string */
		if (length > MESSAGE_SHOWN)
			message = psprintf("%.*s...", pg_mbcliplen(message, length, MESSAGE_SHOWN), message);

		if (parse_error != NULL)
			PQfreemem(parse_error);
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("storemon: libpq cannot read the connection string: %s", message)));
	}
	for (PQconninfoOption *o = options; o->keyword != NULL; o++)
		if (strcmp(o->keyword, keyword) == 0)
		{
			known = true;
			if (o->val != NULL)
				value = pstrdup(o->val);
		}
	PQconninfoFree(options);
	if (!known)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("storemon: \"%s\" is not a libpq connection keyword", keyword)));
	if (value == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(value));
}
