/* scan.h: splits a CSV byte stream into records, knowing each record's physical line and raw text.
 *
 * libcsv parses fields well but cannot say where in the input a record began, and the reject
 * files need the physical line and the original text of every bad record (SPEC §3). So this small
 * state machine finds record boundaries (RFC 4180: a line feed outside quotes ends a record) and
 * the reader hands each record to libcsv. It mirrors libcsv's rule that a quote opens a quoted
 * field only at the start of a field (after optional spaces). Memory is bounded: one read buffer
 * and one record of at most max_record bytes.
 */
#ifndef OTTRECON_SCAN_H
#define OTTRECON_SCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "core/strbuf.h"

struct err;

struct scan_record {
	const char *data;      /* record text without its line terminator (valid until the next call) */
	size_t len;
	long line;             /* physical line on which the record starts (first line is 1) */
	bool blank;            /* empty or only spaces/tabs */
	bool unterminated;     /* the input ended inside a quoted field */
	bool bare_cr;          /* a CR not followed by LF outside quotes */
	bool too_long;         /* longer than max_record: data holds only the first max_record bytes */
};

struct csv_scanner {
	int fd;
	const char *name;      /* for messages */
	char delim, quote;
	size_t max_record;
	char *buf;             /* read buffer */
	size_t buf_len, buf_pos;
	bool eof;
	bool started;          /* BOM check done */
	long next_line;        /* physical line where the next record starts */
	struct strbuf rec;
	unsigned long long bytes_read;
	unsigned char cls[256]; /* per byte: which of delimiter, quote, CR, LF it is (scan.c) */
};

/* Prepares a scanner reading fd (not owned). A UTF-8 BOM at the start is skipped. */
void scanner_init(struct csv_scanner *s, int fd, const char *name, char delim, char quote,
		  size_t max_record);
/* Reads the next record: 1 when *r was filled, 0 at end of input, or an exit code on a read error. */
int scanner_next(struct csv_scanner *s, struct scan_record *r, struct err *e);
void scanner_free(struct csv_scanner *s);

/* Scans from memory instead of a file descriptor (tests, fuzzing): buf must outlive the scanner. */
void scanner_init_mem(struct csv_scanner *s, const char *buf, size_t len, const char *name,
		      char delim, char quote, size_t max_record);

#endif
