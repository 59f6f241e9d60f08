/* reader.h: the layout-driven CSV reader: streams a file, applies SPEC §3's common input rules and
 * the layout's fields, and hands each row either to a row callback (normalised values) or to a
 * reject callback (line, column, reason, raw). Memory stays flat whatever the file size. */
#ifndef OTTRECON_READER_H
#define OTTRECON_READER_H

#include <stdbool.h>
#include <stddef.h>

#include "layout/layout.h"

struct err;

/* Longest record accepted; longer ones are rejected (their raw text cut to this). */
#define READER_MAX_RECORD (1024 * 1024)

struct reader_row {
	long line;                  /* physical line where the record starts (header = line 1) */
	const char *raw;            /* the record's original text, without its line terminator */
	size_t raw_len;
	const char *const *values;  /* per layout field: normalised value, or NULL when missing */
	const size_t *lens;         /* per layout field: strlen of its value (0 when missing) */
	size_t n_values;            /* = layout's n_fields */
};

struct reader_reject {
	long line;
	const char *column;         /* the file's header name of the offending column, or "" */
	const char *reason;
	const char *raw;
	size_t raw_len;
};

struct reader_callbacks {
	/* A valid row. Return 0 to go on, non-zero (an exit code) to stop reading with that code. */
	int (*row)(void *ctx, const struct reader_row *row);
	/* A rejected row; same return convention. */
	int (*reject)(void *ctx, const struct reader_reject *rej);
};

struct reader_stats {
	long read;        /* records after the header, blank lines not counted */
	long loaded;      /* handed to the row callback */
	long rejected;    /* handed to the reject callback */
	long blank;       /* blank lines skipped */
	unsigned long long bytes;
};

/*
 * Reads the file open on fd (display name `name` for messages) with layout l.
 * Returns 0 when the file was read to the end (rows may have been rejected); EXIT_DATA when the
 * file as a whole is refused (empty file, bad header: duplicate column, missing required column,
 * none of a requireOneOf group) with e naming the file and line; EXIT_IOERR on a read error; or the
 * non-zero code a callback returned. Warnings (unknown columns ignored, enum values kept) are logged.
 */
int reader_read_fd(const struct layout *l, int fd, const char *name,
		   const struct reader_callbacks *cb, void *ctx, struct reader_stats *st,
		   struct err *e);
/* The same over a buffer in memory (tests, fuzzing). */
int reader_read_mem(const struct layout *l, const char *buf, size_t len, const char *name,
		    const struct reader_callbacks *cb, void *ctx, struct reader_stats *st,
		    struct err *e);

/* Reads path again and calls cb with the raw text of each record starting on one of lines (sorted
 * ascending): for rows found bad only after the first pass (a repeated primary key), whose raw
 * text was not kept. Returns 0, a code cb returned, or an error (a line not found is internal). */
int reader_rescan(const struct layout *l, const char *path, const char *name, const long *lines,
		  size_t n, int (*cb)(void *ctx, long line, const char *raw, size_t raw_len),
		  void *ctx, struct err *e);

/* The SPEC §4 rule: true when rejected rows exceed max_ratio of rows read (duplicates, which do
 * not count towards the ratio, are passed separately and subtracted). */
bool reader_over_reject_ratio(long read, long rejected, long duplicates, double max_ratio);

#endif
