/* transport.c: what every driver shares: the generic copy (pipelined large chunks, progress,
 * resume offset), remote-name checks, backoff, push order. */
#include "transport/transport.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/err.h"
#include "core/log.h"
#include "core/strbuf.h"

/* Big enough that libssh2 keeps many read requests in flight (it reads ahead up to 4x this). */
enum { COPY_CHUNK = 4 << 20 };

void tp_free(struct transport *t)
{
	if (t)
		t->ops->free(t);
}

void tp_list_free(struct tp_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct tp_entry *x = a, *y = b;
	return strcmp(x->name, y->name);
}

void tp_list_sort(struct tp_list *l)
{
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), cmp_entry);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A progress line for one transfer (bytes, MB/s, ETA), only on a terminal (SPEC §1). */
struct xfer_progress {
	bool on, shown;
	double start, last;
};

static void progress_show(struct xfer_progress *p, const char *label, uint64_t done,
			  uint64_t base, uint64_t total)
{
	double t = now_s();
	if (!p->on || t - p->last < 0.25)
		return;
	p->last = t;
	double el = t - p->start;
	double mbs = el > 0 ? (double)(done - base) / 1e6 / el : 0;
	char eta[32] = "";
	if (total > done && mbs > 0)
		snprintf(eta, sizeof(eta), ", ETA %.0fs", (double)(total - done) / 1e6 / mbs);
	fprintf(stderr, "\r%s: %llu of %llu bytes, %.1f MB/s%s\033[K", label,
		(unsigned long long)done, (unsigned long long)total, mbs, eta);
	fflush(stderr);
	p->shown = true;
}

/*
 * The destination side of a copy runs in a thread of its own, so that writing (the page-cache
 * copy of a download, the upload of a push) overlaps with reading (for SFTP: receiving and
 * decrypting). Two buffers take turns: the reader fills one while the writer empties the other.
 */
struct writer {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct transport *dst;
	struct tp_file *out;
	int64_t mark_mtime;
	const char *buf;  /* the chunk handed over (busy) */
	size_t len;
	bool busy, stop;
	int rc;           /* the first error, with e; the writer stops at it */
	struct err e;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->busy && !w->stop)
			pthread_cond_wait(&w->cv, &w->mu);
		if (!w->busy)
			break;
		const char *buf = w->buf;
		size_t len = w->len;
		pthread_mutex_unlock(&w->mu);
		int rc = w->dst->ops->write(w->out, buf, len, &w->e);
		if (rc == 0 && w->mark_mtime >= 0 && w->dst->ops->set_mtime)
			rc = w->dst->ops->set_mtime(w->out, w->mark_mtime, &w->e);
		pthread_mutex_lock(&w->mu);
		w->rc = rc;
		w->busy = false;
		pthread_cond_broadcast(&w->cv);
		if (rc)
			break;
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* Hands buf to the writer once it is free; returns its error, if it had one. */
static int writer_put(struct writer *w, const char *buf, size_t len)
{
	pthread_mutex_lock(&w->mu);
	while (w->busy)
		pthread_cond_wait(&w->cv, &w->mu);
	int rc = w->rc;
	if (rc == 0) {
		w->buf = buf;
		w->len = len;
		w->busy = true;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return rc;
}

/* Waits for the last chunk, stops the thread; returns the writer's error, if any. */
static int writer_finish(struct writer *w, pthread_t th)
{
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(th, NULL);
	return w->rc;
}

int tp_copy(struct transport *src, const char *src_path, struct transport *dst,
	    const char *dst_path, const struct tp_copy_opts *o, uint64_t *total, struct err *e)
{
	struct tp_file *in = NULL, *out = NULL;
	*total = o->offset;
	int rc = src->ops->open_read(src, src_path, o->offset, &in, e);
	if (rc)
		return rc;
	rc = dst->ops->open_write(dst, dst_path, o->offset, o->mode, &out, e);
	if (rc) {
		src->ops->close(in, NULL);
		return rc;
	}
	struct writer w = { .dst = dst, .out = out, .mark_mtime = o->mark_mtime };
	pthread_t th;
	pthread_mutex_init(&w.mu, NULL);
	pthread_cond_init(&w.cv, NULL);
	if (pthread_create(&th, NULL, writer_main, &w) != 0) {
		dst->ops->close(out, NULL);
		src->ops->close(in, NULL);
		pthread_cond_destroy(&w.cv);
		pthread_mutex_destroy(&w.mu);
		return err_set(e, EXIT_SOFTWARE, "cannot start a thread to write '%s'", dst_path);
	}
	char *bufs[2] = { xmalloc(COPY_CHUNK), xmalloc(COPY_CHUNK) };
	int cur = 0;
	struct xfer_progress p = { .on = log_progress_enabled(), .start = now_s() };
	p.last = p.start;
	uint64_t done = o->offset;
	for (;;) {
		size_t got = 0;
		rc = src->ops->read(in, bufs[cur], COPY_CHUNK, &got, e);
		if (rc || got == 0)
			break;
		if ((rc = writer_put(&w, bufs[cur], got)) != 0)
			break;
		cur ^= 1;
		done += got;
		progress_show(&p, o->label, done, o->offset, o->expect);
		if (done > o->expect)
			break; /* the source grew past what was listed: the caller leaves it for later */
	}
	int wrc = writer_finish(&w, th);
	if (wrc && (rc == 0 || rc == wrc)) {
		rc = wrc;
		if (e)
			*e = w.e;
	}
	pthread_cond_destroy(&w.cv);
	pthread_mutex_destroy(&w.mu);
	free(bufs[0]);
	free(bufs[1]);
	if (p.shown) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	if (rc == 0)
		rc = dst->ops->sync(out, e);
	/* Close both on every path; the first error wins. */
	int crc = dst->ops->close(out, rc ? NULL : e);
	if (rc == 0)
		rc = crc;
	crc = src->ops->close(in, rc ? NULL : e);
	if (rc == 0)
		rc = crc;
	*total = done;
	return rc;
}

const char *tp_name_problem(const char *name, size_t len)
{
	if (len == 0)
		return "empty name";
	if (memchr(name, '\0', len))
		return "holds a NUL byte";
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return "not a file name";
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c < 0x20 || c == 0x7f)
			return "holds a control character";
		if (c == '/')
			return "holds a '/'";
	}
	if (len >= 2 && strstr(name, ".."))
		return "holds '..'";
	if (len > 200)
		return "longer than 200 bytes";
	if (len >= 5 && memcmp(name + len - 5, ".part", 5) == 0)
		return "ends in .part (the name of a download in progress)";
	return NULL;
}

void tp_name_printable(const char *name, size_t len, char *out, size_t cap)
{
	size_t o = 0;
	if (cap == 0)
		return;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		char tmp[8];
		int n;
		if (c == '\n')
			n = snprintf(tmp, sizeof(tmp), "\\n");
		else if (c == '\t')
			n = snprintf(tmp, sizeof(tmp), "\\t");
		else if (c == '\\')
			n = snprintf(tmp, sizeof(tmp), "\\\\");
		else if (c < 0x20 || c >= 0x7f)
			n = snprintf(tmp, sizeof(tmp), "\\x%02x", c);
		else
			n = snprintf(tmp, sizeof(tmp), "%c", c);
		if (o + (size_t)n + 1 > cap)
			break;
		memcpy(out + o, tmp, (size_t)n);
		o += (size_t)n;
	}
	out[o] = '\0';
}

long tp_backoff_ms(int attempt, long base_ms, long cap_ms)
{
	if (attempt < 1)
		return 0;
	long ms = base_ms;
	for (int i = 1; i < attempt && ms < cap_ms; i++)
		ms *= 2;
	return ms < cap_ms ? ms : cap_ms;
}

void tp_sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

bool tp_is_ctl(const char *name)
{
	size_t n = strlen(name);
	return n >= 4 && strcmp(name + n - 4, ".ctl") == 0;
}

int tp_push_order_cmp(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	bool cx = tp_is_ctl(x), cy = tp_is_ctl(y);
	if (cx != cy)
		return cx ? 1 : -1;
	return strcmp(x, y);
}
