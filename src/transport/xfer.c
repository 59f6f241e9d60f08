/* xfer.c: partner choice, spool lock, and the connect-work-retry loop shared by pull and push. */
#include "transport/xfer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "config/config.h"
#include "core/err.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/strbuf.h"

int xfer_partner(const struct config *cfg, const char *name, const struct partner_config **out,
		 struct err *e)
{
	*out = NULL;
	if (name) {
		const struct partner_config *p = config_partner(cfg, name);
		if (!p)
			return err_set(e, EXIT_USAGE, "no partner '%s' in %s", name,
				       cfg->path ? cfg->path : "the configuration");
		if (!p->has_sftp)
			return err_set(e, EXIT_CONFIG, "%s: partners.%s has no sftp block",
				       cfg->path ? cfg->path : "configuration", name);
		*out = p;
		return 0;
	}
	for (size_t i = 0; i < cfg->n_partners; i++) {
		if (!cfg->partners[i].has_sftp)
			continue;
		if (*out) {
			*out = NULL;
			return err_set(e, EXIT_USAGE, "several partners have an sftp block: name one "
				       "with --partner");
		}
		*out = &cfg->partners[i];
	}
	if (!*out)
		return err_set(e, EXIT_CONFIG, "%s: no partner has an sftp block (partners.NAME.sftp)",
			       cfg->path ? cfg->path : "configuration");
	return 0;
}

int xfer_lock(const char *spool, const char *what, int *fd, struct err *e)
{
	*fd = -1;
	int rc = fs_mkdirs(spool, 0750, e);
	if (rc)
		return rc;
	struct strbuf path = STRBUF_INIT;
	strbuf_addf(&path, "%s/.%s.lock", spool, what);
	int lfd = open(path.buf, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (lfd < 0) {
		rc = err_set(e, EXIT_IOERR, "cannot open lock '%s': %s", path.buf, strerror(errno));
	} else if (flock(lfd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EWOULDBLOCK)
			rc = err_set(e, EXIT_TEMPFAIL, "another %s is running on spool %s (lock %s)",
				     what, spool, path.buf);
		else
			rc = err_set(e, EXIT_IOERR, "cannot lock '%s': %s", path.buf,
				     strerror(errno));
		close(lfd);
	} else {
		*fd = lfd;
	}
	strbuf_release(&path);
	return rc;
}

char *xfer_join(const char *dir, const char *name)
{
	struct strbuf sb = STRBUF_INIT;
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	strbuf_add(&sb, dir, n);
	if (n && dir[n - 1] != '/')
		strbuf_addc(&sb, '/');
	strbuf_adds(&sb, name);
	return strbuf_detach(&sb);
}

int xfer_file_failed(const struct transport *remote, int rc, long *failed, int *worst,
		     struct err *e)
{
	if (remote->lost)
		return rc;
	log_err(e);
	err_clear(e);
	(*failed)++;
	*worst = exit_worst(*worst, rc);
	return 0;
}

int xfer_run(const struct sftp_config *c, const struct tp_sftp_opts *o, xfer_work_fn *work,
	     void *arg)
{
	int rc = 0;
	for (long attempt = 0;; attempt++) {
		struct err e = { 0 };
		struct transport *remote = NULL;
		bool retryable = false;
		rc = tp_sftp_connect(c, o, &remote, &retryable, &e);
		if (rc == 0) {
			rc = work(remote, arg, &e);
			retryable = rc == EXIT_UNAVAILABLE && remote->lost;
			tp_free(remote);
		}
		if (rc == 0)
			return 0;
		if (!retryable || attempt >= c->retries) {
			log_err(&e);
			if (retryable && c->retries > 0)
				log_error("giving up after %ld attempts", attempt + 1);
			return rc;
		}
		long ms = tp_backoff_ms((int)attempt + 1, 1000, 60000);
		log_warn("%s (attempt %ld of %ld; trying again in %.0f s)", e.msg, attempt + 1,
			 c->retries + 1, (double)ms / 1000);
		tp_sleep_ms(ms);
	}
}
