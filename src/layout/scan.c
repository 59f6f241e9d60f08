/* scan.c: CSV record boundaries and physical line numbers (see scan.h for why this exists). */
#include "layout/scan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"

enum { READ_CHUNK = 256 * 1024 };

enum state {
	ST_FIELD_START, /* at the start of a field: spaces, then a quote opens a quoted field */
	ST_UNQUOTED,
	ST_QUOTED,
	ST_QUOTE_IN_QUOTED, /* a quote inside a quoted field: closing, or the first of a pair */
};

/* Byte classes: the only bytes that end a run inside an unquoted or a quoted field. */
enum { C_DELIM = 1, C_QUOTE = 2, C_CR = 4, C_LF = 8 };

static void scanner_setup(struct csv_scanner *s, const char *name, char delim, char quote,
			  size_t max_record)
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->name = name;
	s->delim = delim;
	s->quote = quote;
	s->max_record = max_record;
	s->next_line = 1;
	s->cls[(unsigned char)delim] |= C_DELIM;
	s->cls[(unsigned char)quote] |= C_QUOTE;
	s->cls['\r'] |= C_CR;
	s->cls['\n'] |= C_LF;
}

void scanner_init(struct csv_scanner *s, int fd, const char *name, char delim, char quote,
		  size_t max_record)
{
	scanner_setup(s, name, delim, quote, max_record);
	s->fd = fd;
	s->buf = xmalloc(READ_CHUNK);
}

void scanner_init_mem(struct csv_scanner *s, const char *buf, size_t len, const char *name,
		      char delim, char quote, size_t max_record)
{
	scanner_setup(s, name, delim, quote, max_record);
	s->buf = xmalloc(len ? len : 1);
	memcpy(s->buf, buf, len);
	s->buf_len = len;
	s->eof = true;
}

void scanner_free(struct csv_scanner *s)
{
	free(s->buf);
	s->buf = NULL;
	strbuf_release(&s->rec);
}

/* Refills the buffer; returns 0, or an exit code on a read error. */
static int fill(struct csv_scanner *s, struct err *e)
{
	if (s->eof)
		return 0;
	for (;;) {
		ssize_t n = read(s->fd, s->buf, READ_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_set(e, EXIT_IOERR, "cannot read '%s': %s", s->name, strerror(errno));
		s->buf_len = (size_t)n;
		s->buf_pos = 0;
		s->bytes_read += (unsigned long long)n;
		if (n == 0)
			s->eof = true;
		return 0;
	}
}

/* Appends a run of bytes to the current record, up to max_record. */
static void rec_append(struct csv_scanner *s, struct scan_record *r, const char *p, size_t n)
{
	if (s->rec.len + n > s->max_record) {
		r->too_long = true;
		n = s->rec.len < s->max_record ? s->max_record - s->rec.len : 0;
	}
	if (n)
		strbuf_add(&s->rec, p, n);
}

static void finish(struct csv_scanner *s, struct scan_record *r)
{
	/* A CRLF terminator's CR is not part of the record. */
	if (s->rec.len > 0 && s->rec.buf[s->rec.len - 1] == '\r' && !r->too_long) {
		s->rec.len--;
		s->rec.buf[s->rec.len] = '\0';
	}
	r->data = strbuf_str(&s->rec);
	r->len = s->rec.len;
	r->blank = true;
	for (size_t i = 0; i < r->len; i++)
		if (r->data[i] != ' ' && r->data[i] != '\t') {
			r->blank = false;
			break;
		}
}

int scanner_next(struct csv_scanner *s, struct scan_record *r, struct err *e)
{
	enum state st = ST_FIELD_START;
	bool any = false;
	bool pending_cr = false; /* last byte was a CR outside quotes */

	memset(r, 0, sizeof(*r));
	strbuf_reset(&s->rec);
	r->line = s->next_line;

	for (;;) {
		if (s->buf_pos >= s->buf_len) {
			int rc = fill(s, e);
			if (rc)
				return rc;
			if (s->buf_pos >= s->buf_len) {
				/* end of input */
				if (!any)
					return 0;
				if (st == ST_QUOTED) {
					/* the file's last line terminator is not part of the record */
					r->unterminated = true;
					if (s->rec.len > 0 && s->rec.buf[s->rec.len - 1] == '\n')
						s->rec.len--;
				}
				/* A CR as the very last byte is taken as a line terminator. */
				finish(s, r);
				return 1;
			}
		}
		if (!s->started) {
			s->started = true;
			if (s->buf_len - s->buf_pos >= 3 &&
			    memcmp(s->buf + s->buf_pos, "\xEF\xBB\xBF", 3) == 0) {
				s->buf_pos += 3;
				continue;
			}
		}
		/* Runs of bytes are appended at once; the state machine only looks at each byte. */
		const char *b = s->buf;
		size_t i = s->buf_pos, stop = s->buf_len, from = i;
		bool done = false;
		any = true;
		for (; i < stop; i++) {
			/* Inside a field, skip at once to the next byte that can change something. */
			if (st == ST_UNQUOTED && !pending_cr) {
				while (i < stop && !(s->cls[(unsigned char)b[i]] & (C_DELIM | C_CR | C_LF)))
					i++;
			} else if (st == ST_QUOTED) {
				while (i < stop && !(s->cls[(unsigned char)b[i]] & (C_QUOTE | C_LF)))
					i++;
			}
			if (i == stop)
				break;
			char c = b[i];
			if (c == '\n') {
				s->next_line++;
				if (st != ST_QUOTED) {
					done = true;
					break;
				}
				continue;
			}
			if (pending_cr)
				r->bare_cr = true; /* a CR outside quotes followed by something other than LF */
			pending_cr = false;
			switch (st) {
			case ST_FIELD_START:
				if (c == s->quote)
					st = ST_QUOTED;
				else if (c == '\r')
					pending_cr = true;
				else if (c != ' ' && c != '\t' && c != s->delim)
					st = ST_UNQUOTED;
				break;
			case ST_UNQUOTED:
				if (c == s->delim)
					st = ST_FIELD_START;
				else if (c == '\r')
					pending_cr = true;
				break;
			case ST_QUOTED:
				if (c == s->quote)
					st = ST_QUOTE_IN_QUOTED;
				break;
			case ST_QUOTE_IN_QUOTED:
				if (c == s->quote)
					st = ST_QUOTED; /* "" is an escaped quote */
				else if (c == s->delim)
					st = ST_FIELD_START;
				else {
					pending_cr = c == '\r';
					st = ST_UNQUOTED; /* text after a closing quote: libcsv rejects it */
				}
				break;
			}
		}
		rec_append(s, r, b + from, i - from);
		s->buf_pos = done ? i + 1 : i;
		if (done) {
			finish(s, r);
			return 1;
		}
	}
}
