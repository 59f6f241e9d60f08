/* copy.c: COPY FROM STDIN (text or binary format) with a 1 MiB client buffer, optionally sent by a
 * thread of its own. */
#include "db/copy.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

enum { COPY_FLUSH_AT = 1 << 20 };

static int conn_code(PGconn *conn)
{
	return PQstatus(conn) == CONNECTION_BAD ? EXIT_UNAVAILABLE : EXIT_SOFTWARE;
}

static void trim_message(char *m)
{
	size_t n = strlen(m);
	while (n > 0 && (m[n - 1] == '\n' || m[n - 1] == ' '))
		m[--n] = '\0';
}

int copy_begin(struct copy_stream *cs, PGconn *conn, const char *sql, struct err *e)
{
	memset(cs, 0, sizeof(*cs));
	cs->conn = conn;
	cs->flush_at = COPY_FLUSH_AT;
	PGresult *res = PQexec(conn, sql);
	if (PQresultStatus(res) != PGRES_COPY_IN) {
		char msg[1024];
		snprintf(msg, sizeof(msg), "%s", PQerrorMessage(conn));
		trim_message(msg);
		PQclear(res);
		return err_set(e, conn_code(conn), "cannot start COPY: %s", msg);
	}
	PQclear(res);
	strbuf_grow(&cs->buf, cs->flush_at + 4096);
	return 0;
}

void copy_field_len(struct copy_stream *cs, const char *v, size_t len)
{
	if (cs->row_fields++ > 0)
		strbuf_addc(&cs->buf, '\t');
	if (!v) {
		strbuf_add(&cs->buf, "\\N", 2);
		return;
	}
	strbuf_grow(&cs->buf, 2 * len);
	char *out = cs->buf.buf + cs->buf.len;
	for (size_t i = 0; i < len; i++) {
		char c = v[i];
		switch (c) {
		case '\\': *out++ = '\\'; *out++ = '\\'; break;
		case '\t': *out++ = '\\'; *out++ = 't'; break;
		case '\n': *out++ = '\\'; *out++ = 'n'; break;
		case '\r': *out++ = '\\'; *out++ = 'r'; break;
		default: *out++ = c;
		}
	}
	cs->buf.len = (size_t)(out - cs->buf.buf);
	cs->buf.buf[cs->buf.len] = '\0';
}

int copy_bin_begin(struct copy_stream *cs, PGconn *conn, const char *sql, struct err *e)
{
	int rc = copy_begin(cs, conn, sql, e);
	if (rc)
		return rc;
	cs->binary = 1;
	/* signature, flags (no OIDs), header extension length */
	static const char header[] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";
	strbuf_add(&cs->buf, header, 19);
	return 0;
}

/* Room for n more bytes at the end of the buffer; the caller writes them and adds n to len (a
 * binary buffer is sent by its length: it is not kept NUL-terminated). */
static unsigned char *reserve(struct copy_stream *cs, size_t n)
{
	if (cs->buf.alloc - cs->buf.len <= n)
		strbuf_grow(&cs->buf, n);
	return (unsigned char *)cs->buf.buf + cs->buf.len;
}

static unsigned char *be32(unsigned char *b, uint32_t v)
{
	b[0] = (unsigned char)(v >> 24);
	b[1] = (unsigned char)(v >> 16);
	b[2] = (unsigned char)(v >> 8);
	b[3] = (unsigned char)v;
	return b + 4;
}

static void put_be16(struct copy_stream *cs, uint16_t v)
{
	unsigned char *b = reserve(cs, 2);
	b[0] = (unsigned char)(v >> 8);
	b[1] = (unsigned char)v;
	cs->buf.len += 2;
}

static void put_be32(struct copy_stream *cs, uint32_t v)
{
	be32(reserve(cs, 4), v);
	cs->buf.len += 4;
}

void copy_bin_row(struct copy_stream *cs, int nfields)
{
	put_be16(cs, (uint16_t)nfields);
}

void copy_bin_null(struct copy_stream *cs)
{
	put_be32(cs, 0xFFFFFFFFu);
}

void copy_bin_int8(struct copy_stream *cs, int64_t v)
{
	unsigned char *b = be32(reserve(cs, 12), 8);
	b = be32(b, (uint32_t)((uint64_t)v >> 32));
	be32(b, (uint32_t)v);
	cs->buf.len += 12;
}

void copy_bin_text(struct copy_stream *cs, const char *s, size_t len)
{
	unsigned char *b = be32(reserve(cs, 4 + len), (uint32_t)len);
	memcpy(b, s, len);
	cs->buf.len += 4 + len;
}

/* PostgreSQL's epoch is 2000-01-01 00:00:00 UTC: 946684800 s after the Unix epoch. */
void copy_bin_timestamptz(struct copy_stream *cs, int64_t unix_us)
{
	copy_bin_int8(cs, unix_us - INT64_C(946684800000000));
}

void copy_bin_text_array(struct copy_stream *cs, const char *const *elems, int n)
{
	enum { TEXTOID = 25 };
	uint32_t len = 12 + (n > 0 ? 8 : 0);
	for (int i = 0; i < n; i++)
		len += 4 + (uint32_t)strlen(elems[i]);
	put_be32(cs, len);
	put_be32(cs, n > 0 ? 1 : 0); /* dimensions */
	put_be32(cs, 0);             /* no NULL elements */
	put_be32(cs, TEXTOID);
	if (n > 0) {
		put_be32(cs, (uint32_t)n); /* size of the dimension */
		put_be32(cs, 1);           /* lower bound */
	}
	for (int i = 0; i < n; i++)
		copy_bin_text(cs, elems[i], strlen(elems[i]));
}

void copy_field(struct copy_stream *cs, const char *v)
{
	copy_field_len(cs, v, v ? strlen(v) : 0);
}

void copy_field_long(struct copy_stream *cs, long long v)
{
	char num[32];
	int n = snprintf(num, sizeof(num), "%lld", v);
	copy_field_len(cs, num, (size_t)n);
}

/*
 * The background sender: the caller fills cs->buf while the thread sends `out`; a full cs->buf and
 * the sent (emptied) `out` swap places under the mutex. Only the thread touches the connection
 * between copy_send_in_background and sender_stop.
 */
struct copy_sender {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t th;
	PGconn *conn;
	struct strbuf out; /* the buffer being sent while busy; empty otherwise */
	bool busy, stop;
	int rc;            /* the first error (the thread stops at it), with its message */
	char msg[1024];
};

static void *sender_main(void *arg)
{
	struct copy_sender *s = arg;
	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (!s->busy && !s->stop)
			pthread_cond_wait(&s->cv, &s->mu);
		if (!s->busy)
			break;
		pthread_mutex_unlock(&s->mu);
		int rc = 0;
		if (PQputCopyData(s->conn, s->out.buf, (int)s->out.len) != 1) {
			snprintf(s->msg, sizeof(s->msg), "%s", PQerrorMessage(s->conn));
			trim_message(s->msg);
			rc = conn_code(s->conn);
		}
		strbuf_reset(&s->out);
		pthread_mutex_lock(&s->mu);
		s->rc = rc;
		s->busy = false;
		pthread_cond_broadcast(&s->cv);
		if (rc)
			break;
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

int copy_send_in_background(struct copy_stream *cs, struct err *e)
{
	struct copy_sender *s = xcalloc(1, sizeof(*s));
	s->conn = cs->conn;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	strbuf_grow(&s->out, cs->flush_at + 4096);
	if (pthread_create(&s->th, NULL, sender_main, s) != 0) {
		strbuf_release(&s->out);
		pthread_cond_destroy(&s->cv);
		pthread_mutex_destroy(&s->mu);
		free(s);
		return err_set(e, EXIT_SOFTWARE, "cannot start a thread to send COPY data");
	}
	cs->sender = s;
	return 0;
}

/* Hands the full buffer to the sender once it is done with the previous one; returns the
 * sender's error, if it had one. */
static int sender_put(struct copy_stream *cs, struct err *e)
{
	struct copy_sender *s = cs->sender;
	pthread_mutex_lock(&s->mu);
	while (s->busy)
		pthread_cond_wait(&s->cv, &s->mu);
	int rc = s->rc;
	if (rc == 0) {
		struct strbuf t = s->out;
		s->out = cs->buf;
		cs->buf = t;
		s->busy = true;
		pthread_cond_broadcast(&s->cv);
	}
	pthread_mutex_unlock(&s->mu);
	if (rc) {
		cs->failed = 1;
		return err_set(e, rc, "COPY failed: %s", s->msg);
	}
	return 0;
}

/* Lets the sender finish what it was given and stops it; the connection is the caller's again.
 * Returns the sender's error, if it had one. */
static int sender_stop(struct copy_stream *cs, struct err *e)
{
	struct copy_sender *s = cs->sender;
	if (!s)
		return 0;
	pthread_mutex_lock(&s->mu);
	s->stop = true;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->th, NULL);
	int rc = s->rc;
	if (rc && e) {
		cs->failed = 1;
		err_set(e, rc, "COPY failed: %s", s->msg);
	}
	strbuf_release(&s->out);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
	cs->sender = NULL;
	return rc;
}

static int flush(struct copy_stream *cs, struct err *e)
{
	if (cs->buf.len == 0)
		return 0;
	if (cs->sender)
		return sender_put(cs, e);
	if (PQputCopyData(cs->conn, cs->buf.buf, (int)cs->buf.len) != 1) {
		cs->failed = 1;
		char msg[1024];
		snprintf(msg, sizeof(msg), "%s", PQerrorMessage(cs->conn));
		trim_message(msg);
		return err_set(e, conn_code(cs->conn), "COPY failed: %s", msg);
	}
	strbuf_reset(&cs->buf);
	return 0;
}

int copy_end_row(struct copy_stream *cs, struct err *e)
{
	if (!cs->binary)
		strbuf_addc(&cs->buf, '\n');
	cs->row_fields = 0;
	cs->rows++;
	if (cs->buf.len >= cs->flush_at)
		return flush(cs, e);
	return 0;
}

int copy_finish(struct copy_stream *cs, struct err *e)
{
	if (cs->binary)
		put_be16(cs, 0xFFFFu); /* trailer */
	int rc = flush(cs, e);
	int src = sender_stop(cs, rc ? NULL : e);
	if (rc == 0)
		rc = src;
	if (rc == 0 && PQputCopyEnd(cs->conn, NULL) != 1)
		rc = err_set(e, conn_code(cs->conn), "COPY failed: %s", PQerrorMessage(cs->conn));
	PGresult *res;
	while ((res = PQgetResult(cs->conn)) != NULL) {
		if (rc == 0 && PQresultStatus(res) != PGRES_COMMAND_OK) {
			char msg[1024];
			snprintf(msg, sizeof(msg), "%s", PQresultErrorMessage(res));
			trim_message(msg);
			rc = err_set(e, conn_code(cs->conn), "COPY failed: %s", msg);
		}
		PQclear(res);
	}
	strbuf_release(&cs->buf);
	return rc;
}

void copy_abort(struct copy_stream *cs, const char *reason)
{
	sender_stop(cs, NULL);
	if (PQputCopyEnd(cs->conn, reason ? reason : "aborted by ottrecon") == 1) {
		PGresult *res;
		while ((res = PQgetResult(cs->conn)) != NULL)
			PQclear(res);
	}
	strbuf_release(&cs->buf);
}
