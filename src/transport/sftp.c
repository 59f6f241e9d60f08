/* sftp.c: the SFTP driver's file operations over libssh2 (blocking session with a timeout):
 * list, stat, pipelined large reads and writes, fsync@openssh.com, rename, remove. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"
#include "core/strbuf.h"
#include "transport/sftp_int.h"

struct sftp_file {
	struct tp_file base;
	LIBSSH2_SFTP_HANDLE *h;  /* owned: closed by sftp_close */
	char *path;
};

bool sftp_is_connection_error(int rc)
{
	switch (rc) {
	case LIBSSH2_ERROR_SOCKET_NONE:
	case LIBSSH2_ERROR_BANNER_RECV:
	case LIBSSH2_ERROR_BANNER_SEND:
	case LIBSSH2_ERROR_SOCKET_SEND:
	case LIBSSH2_ERROR_SOCKET_RECV:
	case LIBSSH2_ERROR_SOCKET_DISCONNECT:
	case LIBSSH2_ERROR_SOCKET_TIMEOUT:
	case LIBSSH2_ERROR_TIMEOUT:
	case LIBSSH2_ERROR_BAD_SOCKET:
	case LIBSSH2_ERROR_CHANNEL_CLOSED:
	case LIBSSH2_ERROR_CHANNEL_EOF_SENT:
	case LIBSSH2_ERROR_CHANNEL_FAILURE:
	case LIBSSH2_ERROR_DECRYPT:
	case LIBSSH2_ERROR_INVALID_MAC:
	case LIBSSH2_ERROR_PROTO:
		return true;
	default:
		return false;
	}
}

const char *sftp_status_text(unsigned long status)
{
	static const char *const text[] = {
		"ok", "end of file", "no such file", "permission denied", "failure",
		"bad message", "no connection", "connection lost", "operation unsupported",
		"invalid handle", "no such path", "file already exists", "write protected",
		"no media", "no space on the file system", "quota exceeded", "unknown principal",
		"lock conflict", "directory not empty", "not a directory", "invalid file name",
		"link loop",
	};
	return status < sizeof(text) / sizeof(text[0]) ? text[status] : "unknown SFTP status";
}

/* Sets e from the last libssh2 error: an SFTP status refusal (the connection lives on) or a
 * connection failure (marks the transport lost). Returns EXIT_UNAVAILABLE. */
static int fail(struct sftp_transport *st, const char *what, const char *path, struct err *e)
{
	char *msg = NULL;
	int rc = libssh2_session_last_error(st->session, &msg, NULL, 0);
	if (rc == LIBSSH2_ERROR_SFTP_PROTOCOL) {
		unsigned long status = libssh2_sftp_last_error(st->sftp);
		return err_set(e, EXIT_UNAVAILABLE, "cannot %s '%s' on %s: %s", what, path,
			       st->where, sftp_status_text(status));
	}
	st->base.lost = true;
	if (rc == LIBSSH2_ERROR_TIMEOUT || rc == LIBSSH2_ERROR_SOCKET_TIMEOUT)
		return err_set(e, EXIT_UNAVAILABLE, "cannot %s '%s' on %s: timed out (the server "
			       "stopped answering)", what, path, st->where);
	return err_set(e, EXIT_UNAVAILABLE, "cannot %s '%s' on %s: connection lost: %s", what,
		       path, st->where, msg && *msg ? msg : "unknown error");
}

static void attrs_to_stat(const LIBSSH2_SFTP_ATTRIBUTES *a, struct tp_stat *st)
{
	memset(st, 0, sizeof(*st));
	if (a->flags & LIBSSH2_SFTP_ATTR_SIZE)
		st->size = a->filesize;
	if (a->flags & LIBSSH2_SFTP_ATTR_ACMODTIME)
		st->mtime = (int64_t)a->mtime;
	if (a->flags & LIBSSH2_SFTP_ATTR_PERMISSIONS) {
		st->is_reg = (a->permissions & LIBSSH2_SFTP_S_IFMT) == LIBSSH2_SFTP_S_IFREG;
		st->is_dir = (a->permissions & LIBSSH2_SFTP_S_IFMT) == LIBSSH2_SFTP_S_IFDIR;
	}
}

static int sftp_list(struct transport *t, const char *dir, struct tp_list *out, struct err *e)
{
	struct sftp_transport *st = (struct sftp_transport *)t;
	memset(out, 0, sizeof(*out));
	LIBSSH2_SFTP_HANDLE *h = libssh2_sftp_opendir(st->sftp, dir);
	if (!h)
		return fail(st, "list directory", dir, e);
	char name[4096];
	size_t cap = 0;
	int rc = 0;
	for (;;) {
		LIBSSH2_SFTP_ATTRIBUTES a;
		int n = libssh2_sftp_readdir_ex(h, name, sizeof(name), NULL, 0, &a);
		if (n == 0)
			break;
		if (n < 0) {
			rc = fail(st, "list directory", dir, e);
			break;
		}
		if (out->n == cap) {
			cap = cap ? 2 * cap : 64;
			out->v = xrealloc(out->v, cap * sizeof(*out->v));
		}
		struct tp_entry *en = &out->v[out->n++];
		en->name = xmalloc((size_t)n + 1);
		memcpy(en->name, name, (size_t)n);
		en->name[n] = '\0';
		en->len = (size_t)n;
		attrs_to_stat(&a, &en->st);
	}
	if (libssh2_sftp_closedir(h) != 0 && rc == 0)
		rc = fail(st, "list directory", dir, e);
	if (rc)
		tp_list_free(out);
	return rc;
}

static int sftp_stat(struct transport *t, const char *path, struct tp_stat *s, bool *found,
		     struct err *e)
{
	struct sftp_transport *st = (struct sftp_transport *)t;
	LIBSSH2_SFTP_ATTRIBUTES a;
	*found = false;
	if (libssh2_sftp_stat(st->sftp, path, &a) != 0) {
		if (libssh2_session_last_errno(st->session) == LIBSSH2_ERROR_SFTP_PROTOCOL &&
		    (libssh2_sftp_last_error(st->sftp) == LIBSSH2_FX_NO_SUCH_FILE ||
		     libssh2_sftp_last_error(st->sftp) == LIBSSH2_FX_NO_SUCH_PATH))
			return 0;
		return fail(st, "stat", path, e);
	}
	attrs_to_stat(&a, s);
	*found = true;
	return 0;
}

static int open_file(struct sftp_transport *st, const char *path, unsigned long flags, long mode,
		     const char *what, struct tp_file **f, struct err *e)
{
	LIBSSH2_SFTP_HANDLE *h = libssh2_sftp_open(st->sftp, path, flags, mode);
	if (!h)
		return fail(st, what, path, e);
	struct sftp_file *sf = xcalloc(1, sizeof(*sf));
	sf->base.t = &st->base;
	sf->h = h;
	sf->path = xstrdup(path);
	*f = &sf->base;
	return 0;
}

static int sftp_open_read(struct transport *t, const char *path, uint64_t offset,
			  struct tp_file **f, struct err *e)
{
	int rc = open_file((struct sftp_transport *)t, path, LIBSSH2_FXF_READ, 0, "open", f, e);
	if (rc == 0 && offset)
		libssh2_sftp_seek64(((struct sftp_file *)*f)->h, offset);
	return rc;
}

static int sftp_open_write(struct transport *t, const char *path, uint64_t offset, mode_t mode,
			   struct tp_file **f, struct err *e)
{
	struct sftp_transport *st = (struct sftp_transport *)t;
	unsigned long flags = LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT;
	if (offset == 0)
		flags |= LIBSSH2_FXF_TRUNC;
	int rc = open_file(st, path, flags, (long)mode, "create", f, e);
	if (rc || offset == 0)
		return rc;
	struct sftp_file *sf = (struct sftp_file *)*f;
	LIBSSH2_SFTP_ATTRIBUTES a = { .flags = LIBSSH2_SFTP_ATTR_SIZE, .filesize = offset };
	if (libssh2_sftp_fsetstat(sf->h, &a) != 0) {
		rc = fail(st, "truncate", path, e);
		t->ops->close(*f, NULL);
		*f = NULL;
		return rc;
	}
	libssh2_sftp_seek64(sf->h, offset);
	return 0;
}

static int sftp_read(struct tp_file *f, void *buf, size_t cap, size_t *got, struct err *e)
{
	struct sftp_file *sf = (struct sftp_file *)f;
	/* With a large buffer libssh2 keeps many read requests in flight (pipelining). */
	ssize_t n = libssh2_sftp_read(sf->h, buf, cap);
	if (n < 0) {
		*got = 0;
		return fail((struct sftp_transport *)f->t, "read", sf->path, e);
	}
	*got = (size_t)n;
	return 0;
}

static int sftp_write(struct tp_file *f, const void *buf, size_t n, struct err *e)
{
	struct sftp_file *sf = (struct sftp_file *)f;
	const char *p = buf;
	while (n > 0) {
		/* libssh2 sends the buffer as many write requests at once and returns what was
		 * acknowledged; the rest is passed again (it is already on its way). */
		ssize_t w = libssh2_sftp_write(sf->h, p, n);
		if (w < 0)
			return fail((struct sftp_transport *)f->t, "write", sf->path, e);
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int sftp_sync(struct tp_file *f, struct err *e)
{
	struct sftp_file *sf = (struct sftp_file *)f;
	struct sftp_transport *st = (struct sftp_transport *)f->t;
	if (libssh2_sftp_fsync(sf->h) == 0)
		return 0;
	if (libssh2_session_last_errno(st->session) == LIBSSH2_ERROR_SFTP_PROTOCOL &&
	    libssh2_sftp_last_error(st->sftp) == LIBSSH2_FX_OP_UNSUPPORTED) {
		log_debug("%s has no fsync@openssh.com: '%s' is not synced", st->where, sf->path);
		return 0;
	}
	return fail(st, "fsync", sf->path, e);
}

static int sftp_close(struct tp_file *f, struct err *e)
{
	struct sftp_file *sf = (struct sftp_file *)f;
	struct sftp_transport *st = (struct sftp_transport *)f->t;
	int rc = 0;
	/* libssh2 frees the handle whatever the answer; on a lost connection the close request
	 * fails at once (or after the timeout). */
	if (libssh2_sftp_close(sf->h) != 0)
		rc = fail(st, "close", sf->path, e);
	free(sf->path);
	free(sf);
	return rc;
}

static int sftp_rename(struct transport *t, const char *from, const char *to, struct err *e)
{
	struct sftp_transport *st = (struct sftp_transport *)t;
	/* SFTP v3 has no flags: OpenSSH renames only when the target does not exist. */
	if (libssh2_sftp_rename_ex(st->sftp, from, (unsigned)strlen(from), to, (unsigned)strlen(to),
				   LIBSSH2_SFTP_RENAME_ATOMIC | LIBSSH2_SFTP_RENAME_NATIVE) == 0)
		return 0;
	struct strbuf both = STRBUF_INIT; /* reads "cannot rename 'A' to 'B' on ..." */
	strbuf_addf(&both, "%s' to '%s", from, to);
	int rc = fail(st, "rename", both.buf, e);
	strbuf_release(&both);
	return rc;
}

static int sftp_remove(struct transport *t, const char *path, struct err *e)
{
	struct sftp_transport *st = (struct sftp_transport *)t;
	if (libssh2_sftp_unlink(st->sftp, path) != 0)
		return fail(st, "remove", path, e);
	return 0;
}

void sftp_transport_close(struct sftp_transport *st)
{
	/* On a lost connection every goodbye would wait for the timeout again: make the socket
	 * fail at once, so that freeing only frees. */
	if (st->base.lost && st->sock >= 0)
		shutdown(st->sock, SHUT_RDWR);
	if (st->sftp)
		libssh2_sftp_shutdown(st->sftp);
	if (st->session) {
		if (!st->base.lost)
			libssh2_session_disconnect(st->session, "ottrecon: done");
		libssh2_session_free(st->session);
	}
	if (st->sock >= 0)
		close(st->sock);
	free(st);
}

static void sftp_free(struct transport *t)
{
	sftp_transport_close((struct sftp_transport *)t);
}

const struct tp_ops sftp_ops = {
	.kind = "sftp",
	.list = sftp_list,
	.stat = sftp_stat,
	.open_read = sftp_open_read,
	.open_write = sftp_open_write,
	.read = sftp_read,
	.write = sftp_write,
	.sync = sftp_sync,
	.set_mtime = NULL,
	.close = sftp_close,
	.rename = sftp_rename,
	.remove = sftp_remove,
	.free = sftp_free,
};
