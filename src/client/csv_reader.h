/*
 * csv_reader.h — the loader's CSV records, read once from a stream.
 *
 * A record ends at a newline outside quotes; it keeps its physical line
 * (a quoted field may hold newlines), the count of its fields outside
 * quotes, and whether every byte is printable.  Blank lines are skipped,
 * one CR before a line's LF is dropped.  No record is read past
 * CSV_RECORD_MAX bytes, and a record the server's COPY would refuse for
 * its bytes (a NUL, a carriage return outside quotes, invalid UTF-8 when
 * the connection's encoding is UTF-8) is an error naming its line, so both
 * load paths refuse exactly the same bytes, before any reaches the server.
 * Plain C, no libpq: test/unit/test_csv_reader.c tests it alone.
 */
#ifndef STOREMON_CSV_READER_H
#define STOREMON_CSV_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* The most bytes of one record; README "Loading the feeds" says why this many. */
#define CSV_RECORD_MAX (1 << 20)
#define MAX_COLUMNS    100

typedef struct CsvRecord
{
	char *text; /* without its line end, NUL-terminated */
	size_t len;
	size_t cap;
	long line;  /* physical line it starts on (the header is line 1) */
	int fields; /* fields outside quotes */
	bool plain; /* no byte below 0x20 and no 0x7F in text */
} CsvRecord;

typedef struct CsvReader
{
	FILE *f;
	bool check_utf8; /* refuse bytes that are not UTF-8 */
	long line;       /* physical line of the next byte */
	size_t pos, end;
	char error[200]; /* why csv_read returned -1, starting "line N: " */
	unsigned char buf[1 << 16];
} CsvReader;

extern void csv_reader_init(CsvReader *r, FILE *f, bool check_utf8);

/* The next non-blank record into rec: 1, or 0 at the end, or -1 with r->error. */
extern int csv_read(CsvReader *r, CsvRecord *rec);
extern void csv_record_free(CsvRecord *rec);

/* A record's fields, unquoted: field[] points at the first MAX_COLUMNS of them in buf. */
typedef struct CsvFields
{
	char *buf;
	size_t cap;
	char *field[MAX_COLUMNS];
} CsvFields;

/* Split rec into f (grown as needed); returns how many fields it has. */
extern int csv_split(const CsvRecord *rec, CsvFields *f);
extern void csv_fields_free(CsvFields *f);

/* Length of the valid UTF-8 sequence at p (1 to 4) within left bytes, or 0. */
extern int csv_utf8_length(const unsigned char *p, size_t left);

#endif /* STOREMON_CSV_READER_H */
