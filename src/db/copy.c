/* copy.c: COPY FROM STDIN in text format with a 1 MiB client buffer. */
#include "db/copy.h"

#include <stdio.h>
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

static int flush(struct copy_stream *cs, struct err *e)
{
	if (cs->buf.len == 0)
		return 0;
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
	strbuf_addc(&cs->buf, '\n');
	cs->row_fields = 0;
	cs->rows++;
	if (cs->buf.len >= cs->flush_at)
		return flush(cs, e);
	return 0;
}

int copy_finish(struct copy_stream *cs, struct err *e)
{
	int rc = flush(cs, e);
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
	if (PQputCopyEnd(cs->conn, reason ? reason : "aborted by ottrecon") == 1) {
		PGresult *res;
		while ((res = PQgetResult(cs->conn)) != NULL)
			PQclear(res);
	}
	strbuf_release(&cs->buf);
}
