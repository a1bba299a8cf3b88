/*
 * test_csv_reader.c — unit tests of the loader's CSV reader and field
 * splitter (src/client/csv_reader.c), outside any server: records and
 * their physical lines, quotes, line ends, the bytes refused, the bound,
 * and input that arrives a byte at a time.  Prints TAP for prove.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv_reader.h"

static int tests = 0;
static int failures = 0;

static void
ok(int good, const char *name, const char *got, const char *want)
{
	tests++;
	if (good)
		printf("ok %d - %s\n", tests, name);
	else
	{
		failures++;
		printf("not ok %d - %s\n#   got  %s\n#   want %s\n", tests, name, got, want);
	}
}

/* A stream that hands out one byte per read, as a slow pipe may. */
static ssize_t
one_byte(void *cookie, char *buf, size_t size)
{
	const char **p = cookie;

	if (size == 0 || **p == '\0')
		return 0;
	buf[0] = *(*p)++;
	return 1;
}

/* Every record of input as "line:fields:text|" ... and the end: "end" or "error line N: ...". */
static char *
read_all(const char *input, size_t len, int bytewise)
{
	static char out[1 << 16];
	const char *cursor = input;
	cookie_io_functions_t io = {one_byte, NULL, NULL, NULL};
	FILE *f = bytewise ? fopencookie(&cursor, "r", io) : fmemopen((void *)input, len, "r");
	CsvReader *r = malloc(sizeof(CsvReader));
	CsvRecord rec = {0};
	CsvFields fields = {0};
	int got;

	out[0] = '\0';
	csv_reader_init(r, f, 1);
	while ((got = csv_read(r, &rec)) > 0)
	{
		int n = csv_split(&rec, &fields);

		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%ld:%s", rec.line,
		         rec.plain ? "" : "~");
		for (int i = 0; i < n && i < MAX_COLUMNS; i++)
			snprintf(out + strlen(out), sizeof(out) - strlen(out), "[%s]", fields.field[i]);
		/* the reader's count of fields outside quotes is the splitter's */
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s|", n == rec.fields ? "" : "?");
	}
	snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s", got == 0 ? "end" : "error ",
	         got == 0 ? "" : r->error);
	fclose(f);
	free(r);
	csv_record_free(&rec);
	csv_fields_free(&fields);
	return out;
}

/* input read whole and a byte at a time must give want. */
static void
reads(const char *input, size_t len, const char *want, const char *name)
{
	char *got = read_all(input, len, 0);

	ok(strcmp(got, want) == 0, name, got, want);
	if (memchr(input, '\0', len) == NULL)
	{
		got = read_all(input, len, 1);
		ok(strcmp(got, want) == 0, "the same a byte at a time", got, want);
	}
}

/* The first record of input[0..len): its length, or -1 with the reader's error in err. */
static long
first_record(const char *input, size_t len, char *err, size_t errlen)
{
	FILE *f = fmemopen((void *)input, len, "r");
	CsvReader *r = malloc(sizeof(CsvReader));
	CsvRecord rec = {0};
	long got;

	csv_reader_init(r, f, 1);
	got = csv_read(r, &rec) > 0 ? (long)rec.len : -1;
	snprintf(err, errlen, "%s", r->error);
	fclose(f);
	free(r);
	csv_record_free(&rec);
	return got;
}

static void
test_bound(void)
{
	size_t n = CSV_RECORD_MAX - 2;
	char *input = malloc(n + 8);
	char err[200], got[32];
	long len;

	memset(input, '9', n);
	memcpy(input + n, ",x\n", 4);
	len = first_record(input, n + 3, err, sizeof(err));
	snprintf(got, sizeof(got), "%ld", len);
	ok(len == CSV_RECORD_MAX, "a record of exactly CSV_RECORD_MAX bytes is read", got, "1048576");
	memcpy(input + n, "9,x\n", 5);
	len = first_record(input, n + 4, err, sizeof(err));
	ok(len == -1 &&
	       strcmp(err, "line 1: a record longer than 1048576 bytes, the most the loader reads") ==
	           0,
	   "one byte more is refused", err, "the bound's error");
	input[0] = '"';
	memset(input + 1, '\n', n + 2);
	len = first_record(input, n + 3, err, sizeof(err));
	ok(len == -1 && strncmp(err, "line 1: a record longer", 23) == 0,
	   "an unclosed quote stops at the bound, at its first line", err, "the bound's error");
	free(input);
}

/* 150 fields are counted, and the first MAX_COLUMNS kept. */
static void
test_many_fields(void)
{
	char text[400];
	CsvRecord rec = {text, 299, 0, 1, 0, 1};
	CsvFields f = {0};
	int n;

	for (int i = 0; i < 150; i++)
	{
		text[2 * i] = 'x';
		text[2 * i + 1] = ',';
	}
	text[299] = '\0';
	n = csv_split(&rec, &f);
	ok(n == 150 && strcmp(f.field[MAX_COLUMNS - 1], "x") == 0,
	   "150 fields are counted, the first 100 kept", n == 150 ? "150" : "another count", "150");
	csv_fields_free(&f);
}

static const struct
{
	const char *bytes;
	size_t left;
	int want;
	const char *name;
} utf8_cases[] = {
    {"a", 1, 1, "utf8: ASCII"},
    {"\xc3\xa9", 2, 2, "utf8: two bytes"},
    {"\xc3\xa9", 1, 0, "utf8: cut short"},
    {"\xf0\x9f\x98\x80", 4, 4, "utf8: four bytes"},
    {"\xe0\x80\x80", 3, 0, "utf8: an overlong three"},
    {"\xf5\x80\x80\x80", 4, 0, "utf8: past F4"},
};

/* What each input must give: each record's physical line, ~ when it is not plain, its fields. */
static const struct
{
	const char *input, *want, *name;
} cases[] = {
    {"a,b\nc,d\n", "1:[a][b]|2:[c][d]|end", "records and their lines"},
    {"a,b\nc,d", "1:[a][b]|2:[c][d]|end", "the last record without a line end"},
    {"", "end", "an empty input has no record"},
    {"\n\na\n\n\nb\n", "3:[a]|6:[b]|end", "blank lines are skipped, lines still counted"},
    {"a\r\nb\r\n", "1:[a]|2:[b]|end", "CRLF line ends"},
    {"a\r", "1:[a]|end", "a CR just before the end"},
    {"\"x\ny\",2\nz,3\n", "1:~[x\ny][2]|3:[z][3]|end",
     "a quoted newline: one record over two lines, the next on line 3"},
    {"\"a,b\",c\n", "1:[a,b][c]|end", "a comma in quotes is no separator"},
    {"\"a\"\"b\",c\n", "1:[a\"b][c]|end", "a doubled quote stays in quotes"},
    {"\"x\r\ny\"\n", "1:~[x\r\ny]|end", "a CR in quotes is data"},
    {"a\tb,c\n", "1:~[a\tb][c]|end", "a tab makes a record not plain"},
    {"   \n", "1:[   ]|end", "spaces are a record, not a blank line"},
    {",,\n", "1:[][][]|end", "empty fields count"},
    {"\xc3\xa9t\xc3\xa9,\xe2\x82\xac\n", "1:[\xc3\xa9t\xc3\xa9][\xe2\x82\xac]|end", "UTF-8 passes"},
    {"\xef\xbb\xbf"
     "a\n",
     "1:[\xef\xbb\xbf"
     "a]|end",
     "a BOM is data"},
    {"a\nb\rc\n",
     "1:[a]|error line 2: a carriage return outside quotes (lines end with LF or CRLF)",
     "a CR outside quotes that ends no line"},
    {"a\n\"b\n", "1:[a]|error line 2: a quoted field is not closed before the end of the file",
     "an unclosed quote, named at its record's first line"},
    {"a\n\"x\ny\",\xff\n", "1:[a]|error line 3: invalid byte sequence for encoding \"UTF8\": 0xff",
     "invalid UTF-8, named at its own physical line"},
    {"\xc3(\n", "error line 1: invalid byte sequence for encoding \"UTF8\": 0xc3 0x28",
     "a broken two-byte sequence"},
    {"\xed\xa0\x80\n", "error line 1: invalid byte sequence for encoding \"UTF8\": 0xed 0xa0 0x80",
     "a UTF-16 surrogate"},
    {"\xc0\xaf\n", "error line 1: invalid byte sequence for encoding \"UTF8\": 0xc0 0xaf",
     "an overlong form"},
    {"\xf4\x90\x80\x80\n",
     "error line 1: invalid byte sequence for encoding \"UTF8\": 0xf4 0x90 0x80 0x80",
     "past U+10FFFF"},
    {"x\xe2\x82", "error line 1: invalid byte sequence for encoding \"UTF8\": 0xe2 0x82",
     "a sequence cut by the end"},
    {"a,b,c\n", "1:[a][b][c]|end", "three fields"},
    {",\n", "1:[][]|end", "two empty fields"},
    {"\"a,b\",c\n", "1:[a,b][c]|end", "quotes removed, their comma kept"},
    {"\"a\"\"b\"\n", "1:[a\"b]|end", "a doubled quote is one quote"},
    {"\"\"\n", "1:[]|end", "a quoted empty field"},
    {"\"a\"b\n", "1:[ab]|end", "text after a closing quote joins the field, as COPY reads it"},
    {"a\"b,c\"\n", "1:[ab,c]|end", "a quote inside a field opens quotes, as COPY reads it"},
    {" a , b \n", "1:[ a ][ b ]|end", "spaces are kept"},
};

int
main(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		reads(cases[i].input, strlen(cases[i].input), cases[i].want, cases[i].name);
	reads("a\nb\0c\n", 6, "1:[a]|error line 2: invalid byte sequence for encoding \"UTF8\": 0x00",
	      "a NUL");
	test_bound();
	test_many_fields();
	for (size_t i = 0; i < sizeof(utf8_cases) / sizeof(utf8_cases[0]); i++)
	{
		int got = csv_utf8_length((const unsigned char *)utf8_cases[i].bytes, utf8_cases[i].left);
		char shown[8];

		snprintf(shown, sizeof(shown), "%d", got);
		ok(got == utf8_cases[i].want, utf8_cases[i].name, shown, "another length");
	}
	printf("1..%d\n", tests);
	return failures == 0 ? 0 : 1;
}
