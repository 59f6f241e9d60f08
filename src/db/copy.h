/* copy.h: streaming rows into PostgreSQL with COPY ... FROM STDIN (text format), through a large
 * client-side buffer so a 10-million-row file costs few round trips (SPEC §4: bulk load with COPY). */
#ifndef OTTRECON_COPY_H
#define OTTRECON_COPY_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "core/strbuf.h"

struct err;
struct copy_sender;

struct copy_stream {
	PGconn *conn;
	struct strbuf buf;
	size_t flush_at;      /* bytes buffered before PQputCopyData */
	unsigned long long rows;
	size_t row_fields;    /* fields added to the current row */
	int binary;           /* FORMAT binary: the trailer goes out at copy_finish */
	int failed;
	struct copy_sender *sender; /* NULL: full buffers are sent by the caller's thread */
};

/* Starts `sql` (a COPY ... FROM STDIN statement shipped with ottrecon). */
int copy_begin(struct copy_stream *cs, PGconn *conn, const char *sql, struct err *e);
/*
 * From now on full buffers are sent by a thread of its own (two buffers take turns), so that
 * building rows overlaps with sending them and with the server storing them: with the caller
 * sending, the two alternate, because the socket holds only a few hundred KiB. The connection
 * belongs to that thread until copy_finish or copy_abort, which stop it. Returns 0 or an error
 * (then the stream stays as it was: the caller sends).
 */
int copy_send_in_background(struct copy_stream *cs, struct err *e);
/* Adds one field to the current row (NULL = SQL NULL); escapes per COPY text format. */
void copy_field(struct copy_stream *cs, const char *value);
void copy_field_len(struct copy_stream *cs, const char *value, size_t len);
void copy_field_long(struct copy_stream *cs, long long v);
/* Ends the current row; flushes when the buffer is full. Returns 0 or an error code. */
int copy_end_row(struct copy_stream *cs, struct err *e);
/* Sends what is buffered and ends COPY; returns 0 or an error naming PostgreSQL's message. */
int copy_finish(struct copy_stream *cs, struct err *e);
/*
 * Binary COPY (COPY ... FROM STDIN WITH (FORMAT binary)): the server does not parse text, which
 * is most of its cost for timestamps. copy_bin_begin sends the header; each row starts with
 * copy_bin_row(n fields), then one copy_bin_* call per field in the table's column order, then
 * copy_end_row. The types must match the columns exactly.
 */
int copy_bin_begin(struct copy_stream *cs, PGconn *conn, const char *sql, struct err *e);
void copy_bin_row(struct copy_stream *cs, int nfields);
void copy_bin_null(struct copy_stream *cs);
void copy_bin_int8(struct copy_stream *cs, int64_t v);
void copy_bin_text(struct copy_stream *cs, const char *s, size_t len);
/* timestamptz from microseconds since 1970-01-01 UTC */
void copy_bin_timestamptz(struct copy_stream *cs, int64_t unix_us);
/* a one-dimensional text[] of n elements (n may be 0) */
void copy_bin_text_array(struct copy_stream *cs, const char *const *elems, int n);

/* Aborts COPY (PQputCopyEnd with a reason) so the server discards it; frees the buffers. */
void copy_abort(struct copy_stream *cs, const char *reason);

#endif
