/* pull.c: `ottrecon pull [--partner P] [--dry-run] [--accept-new-hostkey]`: fetch the partner's new
 * files from its SFTP remote_inbox into spool/inbox, resumably and never twice (SPEC §1, §7). */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "config/config.h"
#include "core/err.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/strbuf.h"
#include "core/timeutil.h"
#include "db/db.h"
#include "transport/xfer.h"

static const char usage[] =
	"usage: ottrecon pull [--partner P] [--dry-run] [--accept-new-hostkey]\n"
	"\n"
	"Fetches the files of the partner's SFTP remote_inbox that match its pattern into\n"
	"SPOOL/inbox, skipping names already loaded (the manifest) or already in SPOOL/inbox or\n"
	"SPOOL/archive, and files refused by ingest that are unchanged on the server (a copy with\n"
	"their size and mtime in SPOOL/reject). Each file is downloaded to NAME.part and renamed\n"
	"when complete; an interrupted download resumes; a file that changes while it is read, or\n"
	"that was modified less than min_age_s seconds ago (default 0), is left for the next run.\n"
	"Then after_pull (keep, delete, move:DIR) is applied on the server.\n"
	"\n"
	"  --partner P           the partner (default: the only one with an sftp block)\n"
	"  --dry-run             print what would be fetched (\"fetch NAME BYTES\"); change nothing\n"
	"  --accept-new-hostkey  add the key of a host not yet in known_hosts (never a changed key)\n"
	"\n"
	"exit: 0 done, 69 SFTP server unreachable or refused (host key, authentication, a file),\n"
	"74 local I/O error, 75 another pull is running, 78 configuration error\n";

/* A file fetched in this run, so that a retry after a lost connection neither counts it again
 * nor forgets its after_pull. */
struct fetched {
	char *name;
	bool after_done;
};

struct pull {
	const struct sftp_config *c;
	bool dry_run;
	struct transport *local;
	char *inbox, *archive, *reject;
	PGconn *db;              /* NULL: no manifest check (database unreachable) */
	struct fetched *done;
	size_t n_done;
	long present, changed, refused, failed; /* counted again in each attempt */
	long unchanged_refused;
	long fetched, would;
	unsigned long long bytes;
	bool connected;          /* at least one attempt reached the server */
	int worst;               /* of per-file errors, already logged */
};

static bool in_manifest(struct pull *s, const char *name)
{
	if (!s->db)
		return false;
	const char *params[] = { name };
	PGresult *res = NULL;
	struct err e = { 0 };
	if (db_exec(s->db, "cannot check the load manifest",
		    "select 1 from ottrecon.load_file where name = $1 and outcome = 'LOADED' limit 1",
		    1, params, &res, &e) != 0) {
		log_warn("%s; from now on only spool/inbox and spool/archive are checked", e.msg);
		db_close(s->db);
		s->db = NULL;
		return false;
	}
	bool has = PQntuples(res) > 0;
	PQclear(res);
	return has;
}

/* Where a file of this name already is, or NULL. */
static const char *already_have(struct pull *s, const char *name)
{
	const char *dirs[] = { s->inbox, s->archive };
	const char *label[] = { "spool/inbox", "spool/archive" };
	for (int i = 0; i < 2; i++) {
		char *p = xfer_join(dirs[i], name);
		bool there = access(p, F_OK) == 0;
		free(p);
		if (there)
			return label[i];
	}
	return in_manifest(s, name) ? "the load manifest" : NULL;
}

/* True when this very version of the remote file was fetched before and refused by ingest: a
 * copy in spool/reject (NAME, or NAME.1, NAME.2, ... when refused more than once) with its size
 * and mtime (pull stamps a download with the remote mtime; the moves keep it). Fetching it again
 * would only refuse it again every night; a corrected file (another size or mtime) is fetched. */
static bool refused_unchanged(const struct pull *s, const struct tp_entry *en)
{
	struct strbuf p = STRBUF_INIT;
	bool same = false;
	for (int i = 0; !same; i++) {
		strbuf_reset(&p);
		strbuf_addf(&p, "%s/%s", s->reject, en->name);
		if (i > 0)
			strbuf_addf(&p, ".%d", i);
		struct stat st;
		if (lstat(p.buf, &st) != 0)
			break;
		same = S_ISREG(st.st_mode) && (uint64_t)st.st_size == en->st.size &&
		       st.st_mtim.tv_sec == en->st.mtime;
	}
	strbuf_release(&p);
	return same;
}

/* Where to resume: the .part's size when it holds a prefix of this very version of the remote
 * file (we stamp it with the remote mtime, whole seconds, after every chunk), else 0. */
static uint64_t resume_offset(const char *part, const struct tp_entry *en)
{
	struct stat st;
	if (lstat(part, &st) != 0)
		return 0;
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size <= en->st.size &&
	    st.st_mtim.tv_sec == en->st.mtime && st.st_mtim.tv_nsec == 0)
		return (uint64_t)st.st_size;
	log_info("restarting file=%s: its .part is not a prefix of the file on the server",
		 en->name);
	return 0;
}

/* after_pull on the server, once the local file is complete and durable. */
static int after_pull(struct pull *s, struct transport *remote, struct fetched *f,
		      struct err *e)
{
	int rc = 0;
	if (s->c->after_pull != AFTER_PULL_KEEP) {
		char *path = xfer_join(s->c->remote_inbox, f->name);
		if (s->c->after_pull == AFTER_PULL_DELETE) {
			rc = remote->ops->remove(remote, path, e);
			if (rc == 0)
				log_info("deleted remote file=%s (after_pull: delete)", f->name);
		} else {
			char *to = xfer_join(s->c->after_pull_dir, f->name);
			rc = remote->ops->rename(remote, path, to, e);
			if (rc == 0)
				log_info("moved remote file=%s to %s (after_pull)", f->name, to);
			free(to);
		}
		free(path);
	}
	if (rc && remote->lost)
		return rc; /* the next attempt applies it */
	if (rc) {
		log_err(e);
		err_clear(e);
		s->worst = exit_worst(s->worst, rc);
	}
	f->after_done = true;
	return 0;
}

static int fetch(struct pull *s, struct transport *remote, const struct tp_entry *en,
		 struct err *e)
{
	char *rpath = xfer_join(s->c->remote_inbox, en->name);
	char *final = xfer_join(s->inbox, en->name);
	struct strbuf part = STRBUF_INIT;
	strbuf_addf(&part, "%s.part", final);
	uint64_t offset = resume_offset(part.buf, en), total = 0;
	int rc = 0;
	if (s->dry_run) {
		printf("fetch %s %llu\n", en->name, (unsigned long long)en->st.size);
		log_info("would fetch file=%s bytes=%llu%s", en->name,
			 (unsigned long long)en->st.size, offset ? " (resuming a .part)" : "");
		s->would++;
		goto out;
	}
	if (offset)
		log_info("resuming file=%s from byte %llu of %llu", en->name,
			 (unsigned long long)offset, (unsigned long long)en->st.size);
	struct tp_copy_opts o = { .offset = offset, .expect = en->st.size,
				  .mark_mtime = en->st.mtime, .mode = 0640, .label = en->name };
	rc = tp_copy(remote, rpath, s->local, part.buf, &o, &total, e);
	struct tp_stat now = { 0 };
	bool found = false;
	if (rc == 0 || !remote->lost) {
		/* Also after a failed read: a file removed under us is not an error. */
		struct err se = { 0 };
		int src = remote->ops->stat(remote, rpath, &now, &found, &se);
		if (rc == 0 && src != 0) {
			rc = src;
			*e = se;
		} else if (rc != 0 && src == 0 && !found) {
			err_clear(e);
			rc = 0;
		}
	}
	if (rc) {
		rc = xfer_file_failed(remote, rc, &s->failed, &s->worst, e);
		goto out;
	}
	if (!found || now.size != en->st.size || now.mtime != en->st.mtime ||
	    total != en->st.size) {
		char was[40], is[40];
		time_format_iso8601(en->st.mtime * 1000000, was, sizeof(was));
		time_format_iso8601(now.mtime * 1000000, is, sizeof(is));
		if (!found)
			log_warn("file=%s disappeared from the server while it was fetched: not kept",
				 en->name);
		else
			log_warn("file=%s changed while it was fetched (listed: %llu bytes, modified "
				 "%s; now: %llu bytes, modified %s; read %llu bytes): left for the next "
				 "run", en->name, (unsigned long long)en->st.size, was,
				 (unsigned long long)now.size, is, (unsigned long long)total);
		struct err ignored = { 0 };
		s->local->ops->remove(s->local, part.buf, &ignored);
		s->changed++;
		goto out;
	}
	rc = s->local->ops->rename(s->local, part.buf, final, e);
	if (rc) {
		rc = xfer_file_failed(remote, rc, &s->failed, &s->worst, e);
		goto out;
	}
	log_info("fetched file=%s bytes=%llu%s", en->name, (unsigned long long)total,
		 offset ? " (resumed)" : "");
	s->fetched++;
	s->bytes += total - offset;
	s->done = xrealloc(s->done, (s->n_done + 1) * sizeof(*s->done));
	s->done[s->n_done] = (struct fetched){ .name = xstrdup(en->name) };
	rc = after_pull(s, remote, &s->done[s->n_done++], e);
out:
	free(rpath);
	free(final);
	strbuf_release(&part);
	return rc;
}

/* One remote entry: filter, check, skip or fetch. Returns non-zero only to stop the attempt. */
static int consider(struct pull *s, struct transport *remote, const struct tp_entry *en,
		    struct err *e)
{
	if (fnmatch(s->c->pattern, en->name, 0) != 0)
		return 0;
	const char *why = tp_name_problem(en->name, en->len);
	if (why) {
		char shown[256];
		tp_name_printable(en->name, en->len, shown, sizeof(shown));
		log_warn("skipping remote file '%s': %s", shown, why);
		s->refused++;
		return 0;
	}
	if (!en->st.is_reg) {
		log_debug("skipping %s: not a regular file", en->name);
		return 0;
	}
	for (size_t i = 0; i < s->n_done; i++)
		if (strcmp(s->done[i].name, en->name) == 0)
			return s->done[i].after_done ? 0 : after_pull(s, remote, &s->done[i], e);
	const char *where = already_have(s, en->name);
	if (where) {
		log_debug("skipping file=%s: already in %s", en->name, where);
		s->present++;
		return 0;
	}
	if (refused_unchanged(s, en)) {
		log_warn("file=%s was refused (see spool/reject) and is unchanged on the server: not"
			 " fetched again; the partner must send it corrected", en->name);
		s->unchanged_refused++;
		return 0;
	}
	/* min_age_s: a file still being written in place (by a partner that does not upload under
	 * a temporary name) is left until it has not changed for that long. */
	long long age = (long long)time(NULL) - (long long)en->st.mtime;
	if (s->c->min_age_s > 0 && age < s->c->min_age_s) {
		log_info("file=%s was modified %lld s ago (min_age_s %ld): left for the next run",
			 en->name, age, s->c->min_age_s);
		s->changed++;
		return 0;
	}
	return fetch(s, remote, en, e);
}

static int pull_work(struct transport *remote, void *arg, struct err *e)
{
	struct pull *s = arg;
	s->connected = true;
	s->present = s->changed = s->refused = s->failed = s->would = 0;
	s->unchanged_refused = 0;
	struct tp_list l;
	int rc = remote->ops->list(remote, s->c->remote_inbox, &l, e);
	if (rc)
		return rc;
	tp_list_sort(&l);
	for (size_t i = 0; i < l.n && rc == 0; i++)
		rc = consider(s, remote, &l.v[i], e);
	tp_list_free(&l);
	return rc ? rc : s->worst;
}

static int run(const struct config *cfg, const struct partner_config *p, bool dry_run,
	       const struct tp_sftp_opts *so)
{
	struct pull s = { .c = &p->sftp, .dry_run = dry_run };
	s.inbox = xfer_join(cfg->spool, "inbox");
	s.archive = xfer_join(cfg->spool, "archive");
	s.reject = xfer_join(cfg->spool, "reject");
	struct err e = { 0 };
	int lock = -1;
	int rc = dry_run ? 0 : xfer_lock(cfg->spool, "pull", &lock, &e);
	if (rc == 0 && !dry_run)
		rc = fs_mkdirs(s.inbox, 0750, &e);
	if (rc) {
		log_err(&e);
		goto out;
	}
	if (db_connect(cfg->conninfo, &s.db, &e) != 0) {
		for (char *c = e.msg; *c; c++)
			if (*c == '\n' || *c == '\t')
				*c = ' '; /* libpq's messages span lines */
		log_warn("%s; checking only spool/inbox and spool/archive for files already fetched",
			 e.msg);
		err_clear(&e);
		s.db = NULL;
	}
	s.local = tp_local_new();
	log_info("pulling from %s@%s:%ld:%s (pattern %s)%s", s.c->user, s.c->host, s.c->port,
		 s.c->remote_inbox, s.c->pattern, dry_run ? " (dry run)" : "");
	rc = xfer_run(s.c, so, pull_work, &s);
	if (!s.connected)
		goto out;
	if (dry_run)
		log_info("dry run: %ld file(s) would be fetched, %ld already fetched, %ld name(s) "
			 "refused, %ld refused by ingest and unchanged", s.would, s.present, s.refused,
			 s.unchanged_refused);
	else
		log_info("%ld file(s) fetched (%llu bytes), %ld already fetched, %ld left for the "
			 "next run, %ld name(s) refused, %ld failed, %ld refused by ingest and unchanged",
			 s.fetched, s.bytes, s.present, s.changed, s.refused, s.failed,
			 s.unchanged_refused);
out:
	for (size_t i = 0; i < s.n_done; i++)
		free(s.done[i].name);
	free(s.done);
	tp_free(s.local);
	db_close(s.db);
	if (lock >= 0)
		close(lock);
	free(s.inbox);
	free(s.archive);
	free(s.reject);
	return rc;
}

int cmd_pull(int argc, char **argv, struct global_opts *g)
{
	return cmd_xfer_main(argc, argv, g, usage, run);
}
