/* strbuf.h: a growable byte buffer, always NUL-terminated (after git's strbuf). */
#ifndef OTTRECON_STRBUF_H
#define OTTRECON_STRBUF_H

#include <stddef.h>

struct strbuf {
	char *buf;   /* never NULL after a first add; "" when empty */
	size_t len;
	size_t alloc;
};
#define STRBUF_INIT { NULL, 0, 0 }

/* All adders abort the program on out-of-memory (like git's xmalloc): there is no sane recovery. */
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_adds(struct strbuf *sb, const char *s);
void strbuf_addc(struct strbuf *sb, char c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Adds s as a JSON string literal, quotes included; bytes that are not valid UTF-8 become
 * \\ufffd, so that the result is always valid JSON text. */
void strbuf_add_json_string(struct strbuf *sb, const char *s);
/* Adds one CSV field (RFC 4180): quoted when it holds a comma, quote, CR or LF. */
void strbuf_add_csv_field(struct strbuf *sb, const char *s, size_t len);
void strbuf_reset(struct strbuf *sb);
void strbuf_release(struct strbuf *sb);
/* Returns the buffer (caller frees) and resets sb. */
char *strbuf_detach(struct strbuf *sb);
/* The string, "" for a buffer never added to. */
const char *strbuf_str(const struct strbuf *sb);

/* Allocation helpers that abort on out-of-memory. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
