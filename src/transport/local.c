/* local.c: the local-disk driver of the transport interface (POSIX files; writes start their
 * write-back early so that the final fsync is short; renames never replace a file). */
#define _GNU_SOURCE /* sync_file_range, renameat2 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "core/fsutil.h"
#include "core/strbuf.h"
#include "transport/transport.h"

/* Ask the kernel to start writing back every this many bytes written. */
enum { WRITEBACK_EVERY = 32 << 20 };

struct local_file {
	struct tp_file base;
	int fd;
	char *path;
	bool writing;
	uint64_t pos, flushed;  /* write position, start of what is not yet handed to write-back */
};

static void to_stat(const struct stat *s, struct tp_stat *st)
{
	st->size = (uint64_t)s->st_size;
	st->mtime = (int64_t)s->st_mtim.tv_sec;
	st->is_reg = S_ISREG(s->st_mode);
	st->is_dir = S_ISDIR(s->st_mode);
}

static int local_list(struct transport *t, const char *dir, struct tp_list *out, struct err *e)
{
	(void)t;
	memset(out, 0, sizeof(*out));
	DIR *d = opendir(dir);
	if (!d)
		return err_set(e, errno == ENOENT ? EXIT_NOINPUT : EXIT_IOERR,
			       "cannot read directory '%s': %s", dir, strerror(errno));
	size_t cap = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		struct stat s;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    fstatat(dirfd(d), de->d_name, &s, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (out->n == cap) {
			cap = cap ? 2 * cap : 64;
			out->v = xrealloc(out->v, cap * sizeof(*out->v));
		}
		struct tp_entry *en = &out->v[out->n++];
		en->name = xstrdup(de->d_name);
		en->len = strlen(en->name);
		to_stat(&s, &en->st);
	}
	closedir(d);
	return 0;
}

static int local_stat(struct transport *t, const char *path, struct tp_stat *st, bool *found,
		      struct err *e)
{
	(void)t;
	struct stat s;
	*found = false;
	if (lstat(path, &s) != 0) {
		if (errno == ENOENT)
			return 0;
		return err_set(e, EXIT_IOERR, "cannot stat '%s': %s", path, strerror(errno));
	}
	to_stat(&s, st);
	*found = true;
	return 0;
}

static struct tp_file *new_file(struct transport *t, int fd, const char *path, bool writing,
				uint64_t pos)
{
	struct local_file *lf = xcalloc(1, sizeof(*lf));
	lf->base.t = t;
	lf->fd = fd;
	lf->path = xstrdup(path);
	lf->writing = writing;
	lf->pos = lf->flushed = pos;
	return &lf->base;
}

static int local_open_read(struct transport *t, const char *path, uint64_t offset,
			   struct tp_file **f, struct err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, EXIT_NOINPUT, "cannot open '%s': %s", path, strerror(errno));
	if (offset && lseek(fd, (off_t)offset, SEEK_SET) < 0) {
		int rc = err_set(e, EXIT_IOERR, "cannot seek in '%s': %s", path, strerror(errno));
		close(fd);
		return rc;
	}
	*f = new_file(t, fd, path, false, offset);
	return 0;
}

static int local_open_write(struct transport *t, const char *path, uint64_t offset, mode_t mode,
			    struct tp_file **f, struct err *e)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, mode);
	if (fd < 0)
		return err_set(e, EXIT_IOERR, "cannot create '%s': %s", path, strerror(errno));
	if (ftruncate(fd, (off_t)offset) != 0 || lseek(fd, (off_t)offset, SEEK_SET) < 0) {
		int rc = err_set(e, EXIT_IOERR, "cannot prepare '%s': %s", path, strerror(errno));
		close(fd);
		return rc;
	}
	*f = new_file(t, fd, path, true, offset);
	return 0;
}

static int local_read(struct tp_file *f, void *buf, size_t cap, size_t *got, struct err *e)
{
	struct local_file *lf = (struct local_file *)f;
	ssize_t n;
	do
		n = read(lf->fd, buf, cap);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		*got = 0;
		return err_set(e, EXIT_IOERR, "cannot read '%s': %s", lf->path, strerror(errno));
	}
	*got = (size_t)n;
	return 0;
}

static int local_write(struct tp_file *f, const void *buf, size_t n, struct err *e)
{
	struct local_file *lf = (struct local_file *)f;
	const char *p = buf;
	while (n > 0) {
		ssize_t w = write(lf->fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return err_set(e, EXIT_IOERR, "cannot write '%s': %s", lf->path,
				       strerror(errno));
		p += w;
		n -= (size_t)w;
		lf->pos += (uint64_t)w;
	}
	if (lf->pos - lf->flushed >= WRITEBACK_EVERY) {
		/* Start writing back now (asynchronously): the final fsync then has little left. */
		(void)sync_file_range(lf->fd, (off_t)lf->flushed, (off_t)(lf->pos - lf->flushed),
				      SYNC_FILE_RANGE_WRITE);
		lf->flushed = lf->pos;
	}
	return 0;
}

static int local_sync(struct tp_file *f, struct err *e)
{
	struct local_file *lf = (struct local_file *)f;
	if (lf->writing && fsync(lf->fd) != 0)
		return err_set(e, EXIT_IOERR, "cannot fsync '%s': %s", lf->path, strerror(errno));
	return 0;
}

static int local_set_mtime(struct tp_file *f, int64_t mtime, struct err *e)
{
	struct local_file *lf = (struct local_file *)f;
	struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_sec = (time_t)mtime } };
	if (futimens(lf->fd, ts) != 0)
		return err_set(e, EXIT_IOERR, "cannot set the time of '%s': %s", lf->path,
			       strerror(errno));
	return 0;
}

static int local_close(struct tp_file *f, struct err *e)
{
	struct local_file *lf = (struct local_file *)f;
	int rc = 0;
	if (close(lf->fd) != 0 && lf->writing)
		rc = err_set(e, EXIT_IOERR, "cannot write '%s': %s", lf->path, strerror(errno));
	free(lf->path);
	free(lf);
	return rc;
}

/* The directory part of path ("." when none). */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return xstrdup(".");
	return slash == path ? xstrdup("/") : xstrndup(path, (size_t)(slash - path));
}

static int local_rename(struct transport *t, const char *from, const char *to, struct err *e)
{
	(void)t;
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) != 0) {
		if (errno != EINVAL && errno != ENOSYS)
			return err_set(e, errno == EEXIST ? EXIT_DATA : EXIT_IOERR,
				       "cannot rename '%s' to '%s': %s", from, to, strerror(errno));
		/* A file system without RENAME_NOREPLACE: link + unlink never replaces either. */
		if (link(from, to) != 0 || unlink(from) != 0)
			return err_set(e, errno == EEXIST ? EXIT_DATA : EXIT_IOERR,
				       "cannot rename '%s' to '%s': %s", from, to, strerror(errno));
	}
	char *d1 = dir_of(from), *d2 = dir_of(to);
	int rc = fs_fsync_dir(d2, e);
	if (rc == 0 && strcmp(d1, d2) != 0)
		rc = fs_fsync_dir(d1, e);
	free(d1);
	free(d2);
	return rc;
}

static int local_remove(struct transport *t, const char *path, struct err *e)
{
	(void)t;
	if (unlink(path) != 0 && errno != ENOENT)
		return err_set(e, EXIT_IOERR, "cannot remove '%s': %s", path, strerror(errno));
	char *d = dir_of(path);
	int rc = fs_fsync_dir(d, e);
	free(d);
	return rc;
}

static void local_free(struct transport *t)
{
	free(t);
}

static const struct tp_ops local_ops = {
	.kind = "local",
	.list = local_list,
	.stat = local_stat,
	.open_read = local_open_read,
	.open_write = local_open_write,
	.read = local_read,
	.write = local_write,
	.sync = local_sync,
	.set_mtime = local_set_mtime,
	.close = local_close,
	.rename = local_rename,
	.remove = local_remove,
	.free = local_free,
};

struct transport *tp_local_new(void)
{
	struct transport *t = xcalloc(1, sizeof(*t));
	t->ops = &local_ops;
	return t;
}
