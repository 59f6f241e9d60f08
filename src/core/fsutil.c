/* fsutil.c: directories, atomic file writes (temp + fsync + rename + dir fsync), SHA-256. */
#include "core/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"
#include "core/strbuf.h"

long fs_count_files(const char *dir, const char *sub)
{
	struct strbuf path = STRBUF_INIT;
	strbuf_addf(&path, "%s/%s", dir, sub);
	DIR *d = opendir(path.buf);
	long n = 0;
	if (d) {
		struct dirent *de;
		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] != '.' && (de->d_type == DT_REG || de->d_type == DT_UNKNOWN))
				n++;
		closedir(d);
	}
	strbuf_release(&path);
	return n;
}

const char *fs_basename(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

int fs_mkdirs(const char *path, mode_t mode, struct err *e)
{
	char *p = xstrdup(path);
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, mode) != 0 && errno != EEXIST) {
			int rc = err_set(e, EXIT_IOERR, "cannot create directory '%s': %s", p,
					 strerror(errno));
			free(p);
			return rc;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	return 0;
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

int fs_fsync_dir(const char *dir, struct err *e)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return err_set(e, EXIT_IOERR, "cannot open directory '%s': %s", dir, strerror(errno));
	int rc = 0;
	if (fsync(fd) != 0 && errno != EINVAL)
		rc = err_set(e, EXIT_IOERR, "cannot fsync directory '%s': %s", dir, strerror(errno));
	close(fd);
	return rc;
}

int atomic_open(struct atomic_file *af, const char *path, mode_t mode, struct err *e)
{
	memset(af, 0, sizeof(*af));
	char *dir = dir_of(path);
	struct strbuf tmp = STRBUF_INIT;
	strbuf_addf(&tmp, "%s/.%s.tmp.%ld", dir, fs_basename(path), (long)getpid());
	free(dir);

	int fd = open(tmp.buf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		int rc = err_set(e, EXIT_IOERR, "cannot create '%s': %s", tmp.buf, strerror(errno));
		strbuf_release(&tmp);
		return rc;
	}
	fchmod(fd, mode); /* the umask must not widen or narrow what was asked for */
	af->fp = fdopen(fd, "w");
	if (!af->fp) {
		close(fd);
		unlink(tmp.buf);
		strbuf_release(&tmp);
		return err_set(e, EXIT_IOERR, "cannot open '%s': %s", path, strerror(errno));
	}
	af->tmp_path = strbuf_detach(&tmp);
	af->final_path = xstrdup(path);
	return 0;
}

int atomic_commit(struct atomic_file *af, struct err *e)
{
	int rc = 0;
	if (fflush(af->fp) != 0 || ferror(af->fp) || fsync(fileno(af->fp)) != 0)
		rc = err_set(e, EXIT_IOERR, "cannot write '%s': %s", af->final_path, strerror(errno));
	if (fclose(af->fp) != 0 && rc == 0)
		rc = err_set(e, EXIT_IOERR, "cannot write '%s': %s", af->final_path, strerror(errno));
	af->fp = NULL;
	if (rc == 0 && rename(af->tmp_path, af->final_path) != 0)
		rc = err_set(e, EXIT_IOERR, "cannot rename '%s' to '%s': %s", af->tmp_path,
			     af->final_path, strerror(errno));
	if (rc != 0) {
		unlink(af->tmp_path);
	} else {
		char *dir = dir_of(af->final_path);
		rc = fs_fsync_dir(dir, e);
		free(dir);
	}
	free(af->tmp_path);
	free(af->final_path);
	af->tmp_path = af->final_path = NULL;
	return rc;
}

void atomic_abort(struct atomic_file *af)
{
	if (af->fp)
		fclose(af->fp);
	if (af->tmp_path)
		unlink(af->tmp_path);
	free(af->tmp_path);
	free(af->final_path);
	memset(af, 0, sizeof(*af));
}

int fs_sha256_file(const char *path, char *hex, struct err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, EXIT_NOINPUT, "cannot open '%s': %s", path, strerror(errno));
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		close(fd);
		return err_set(e, EXIT_SOFTWARE, "cannot initialise SHA-256");
	}
	enum { BUFSZ = 1 << 20 };
	unsigned char *buf = xmalloc(BUFSZ);
	int rc = 0;
	for (;;) {
		ssize_t n = read(fd, buf, BUFSZ);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = err_set(e, EXIT_IOERR, "cannot read '%s': %s", path, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		EVP_DigestUpdate(ctx, buf, (size_t)n);
	}
	if (rc == 0) {
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned int mdlen = 0;
		EVP_DigestFinal_ex(ctx, md, &mdlen);
		for (unsigned int i = 0; i < mdlen; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
	}
	free(buf);
	EVP_MD_CTX_free(ctx);
	close(fd);
	return rc;
}

void fs_free_name(const char *path, struct strbuf *out)
{
	strbuf_reset(out);
	strbuf_adds(out, path);
	for (int i = 1; access(out->buf, F_OK) == 0; i++) {
		strbuf_reset(out);
		strbuf_addf(out, "%s.%d", path, i);
	}
}

int fs_keep_earlier(const char *path, const char *same_as, struct err *e)
{
	if (access(path, F_OK) != 0)
		return 0;
	char old_hex[65], new_hex[65];
	struct err ignored = { 0 }; /* (a file that cannot be hashed is kept, not compared) */
	if (same_as && fs_sha256_file(path, old_hex, &ignored) == 0 &&
	    fs_sha256_file(same_as, new_hex, &ignored) == 0 && strcmp(old_hex, new_hex) == 0)
		return 0;
	struct strbuf to = STRBUF_INIT;
	int rc = 0;
	fs_free_name(path, &to); /* (path exists: path.N) */
	if (rename(path, to.buf) != 0) {
		rc = err_set(e, EXIT_IOERR, "cannot keep '%s' as '%s': %s", path, to.buf,
			     strerror(errno));
	} else {
		char *dir = dir_of(path);
		rc = fs_fsync_dir(dir, e);
		free(dir);
		if (!rc)
			log_info("kept %s of an earlier attempt as %s", fs_basename(path),
				 fs_basename(to.buf));
	}
	strbuf_release(&to);
	return rc;
}
