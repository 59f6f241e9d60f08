/* push.c: `ottrecon push [--partner P] [--dry-run] [--accept-new-hostkey]`: upload spool/outbox to
 * the partner's SFTP remote_outbox under temporary names, then move each file to spool/sent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "config/config.h"
#include "core/err.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/strbuf.h"
#include "transport/xfer.h"

static const char usage[] =
	"usage: ottrecon push [--partner P] [--dry-run] [--accept-new-hostkey]\n"
	"\n"
	"Uploads every file of SPOOL/outbox (data files before their .ctl files) to the partner's\n"
	"SFTP remote_outbox as .NAME.part, renames it to NAME when complete, and moves the local\n"
	"file to SPOOL/sent. A file the server already has with the same size is not sent again;\n"
	"one it has with another size is left alone (exit 65). A .ctl file waits for its data file.\n"
	"\n"
	"  --partner P           the partner (default: the only one with an sftp block)\n"
	"  --dry-run             print what would be sent (\"send NAME BYTES\"); change nothing\n"
	"  --accept-new-hostkey  add the key of a host not yet in known_hosts (never a changed key)\n"
	"\n"
	"exit: 0 done, 65 a name already on the server with other content, 69 SFTP server\n"
	"unreachable or refused, 74 local I/O error, 75 another push is running, 78 configuration error\n";

struct push {
	const struct sftp_config *c;
	bool dry_run;
	struct transport *local;
	char *outbox, *sent;
	char **names;       /* the outbox's files, in push order */
	bool *ok;           /* sent, already on the server, or (dry run) would be sent */
	size_t n;
	long sent_n, already, failed, would;
	unsigned long long bytes;
	bool connected;     /* at least one attempt reached the server */
	int worst;          /* of per-file errors, already logged */
};

/* The outbox's regular files, in push order; names starting with '.' are temporary files of
 * writers and are left alone. */
static int collect(struct push *s, struct err *e)
{
	struct tp_list l;
	int rc = s->local->ops->list(s->local, s->outbox, &l, e);
	if (rc == EXIT_NOINPUT) {
		err_clear(e);
		return 0;
	}
	if (rc)
		return rc;
	s->names = xcalloc(l.n + 1, sizeof(*s->names));
	for (size_t i = 0; i < l.n; i++) {
		const struct tp_entry *en = &l.v[i];
		const char *why = tp_name_problem(en->name, en->len);
		if (en->name[0] == '.' || !en->st.is_reg)
			continue;
		if (why) {
			char shown[256];
			tp_name_printable(en->name, en->len, shown, sizeof(shown));
			log_warn("not sending '%s/%s': %s", s->outbox, shown, why);
			continue;
		}
		s->names[s->n++] = xstrdup(en->name);
	}
	tp_list_free(&l);
	qsort(s->names, s->n, sizeof(*s->names), tp_push_order_cmp);
	s->ok = xcalloc(s->n + 1, sizeof(*s->ok));
	return 0;
}

/* Moves outbox/name to sent/name (name.1, name.2, ... when taken). */
static int move_to_sent(struct push *s, const char *name, struct err *e)
{
	int rc = fs_mkdirs(s->sent, 0750, e);
	char *from = xfer_join(s->outbox, name);
	struct strbuf to = STRBUF_INIT;
	for (int i = 0; rc == 0; i++) {
		strbuf_reset(&to);
		char *base = xfer_join(s->sent, name);
		strbuf_adds(&to, base);
		free(base);
		if (i)
			strbuf_addf(&to, ".%d", i);
		rc = s->local->ops->rename(s->local, from, to.buf, e);
		if (rc != EXIT_DATA) /* EXIT_DATA: that name is taken in sent/ */
			break;
		err_clear(e);
		rc = 0;
	}
	if (rc == 0)
		log_info("moved %s to %s", from, to.buf);
	free(from);
	strbuf_release(&to);
	return rc;
}

static const struct tp_entry *remote_find(const struct tp_list *l, const char *name)
{
	struct tp_entry key = { .name = (char *)name };
	for (size_t lo = 0, hi = l->n; lo < hi;) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(key.name, l->v[mid].name);
		if (c == 0)
			return &l->v[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* True when name is a .ctl whose data file is in this outbox and not sent (yet). */
static bool data_file_pending(const struct push *s, const char *name)
{
	if (!tp_is_ctl(name))
		return false;
	size_t len = strlen(name) - 4;
	for (size_t i = 0; i < s->n; i++)
		if (strlen(s->names[i]) == len && strncmp(s->names[i], name, len) == 0)
			return !s->ok[i];
	return false;
}

static int send_one(struct push *s, struct transport *remote, const struct tp_list *there,
		    size_t i, struct err *e)
{
	const char *name = s->names[i];
	char *path = xfer_join(s->outbox, name);
	char *final = xfer_join(s->c->remote_outbox, name);
	struct strbuf tmp = STRBUF_INIT;
	char *dotted = NULL;
	struct tp_stat st;
	bool found = false;
	int rc = s->local->ops->stat(s->local, path, &st, &found, e);
	if (rc || !found) {
		if (!found && rc == 0)
			log_info("file=%s is gone from %s", name, s->outbox);
		goto out;
	}
	const struct tp_entry *r = remote_find(there, name);
	if (r && r->st.size == st.size) {
		log_info("already sent file=%s bytes=%llu (the server has it with the same size)",
			 name, (unsigned long long)st.size);
		s->already++;
		s->ok[i] = true;
		if (!s->dry_run && (rc = move_to_sent(s, name, e)) != 0)
			rc = xfer_file_failed(remote, rc, &s->failed, &s->worst, e);
		goto out;
	}
	if (r) {
		log_error("not sending file=%s bytes=%llu: %s already has a file of that name with "
			  "%llu bytes; it is left alone", name, (unsigned long long)st.size,
			  s->c->remote_outbox, (unsigned long long)r->st.size);
		s->failed++;
		s->worst = exit_worst(s->worst, EXIT_DATA);
		goto out;
	}
	if (s->dry_run) {
		printf("send %s %llu\n", name, (unsigned long long)st.size);
		log_info("would send file=%s bytes=%llu", name, (unsigned long long)st.size);
		s->would++;
		s->ok[i] = true;
		goto out;
	}
	strbuf_addf(&tmp, ".%s.part", name);
	dotted = xfer_join(s->c->remote_outbox, tmp.buf);
	struct tp_copy_opts o = { .expect = st.size, .mark_mtime = -1, .mode = 0640,
				  .label = name };
	uint64_t total = 0;
	struct tp_stat rst = { 0 };
	bool rfound = false;
	rc = tp_copy(s->local, path, remote, dotted, &o, &total, e);
	if (rc == 0 && total != st.size)
		rc = err_set(e, EXIT_IOERR, "file=%s changed while it was sent (%llu bytes, then %llu)",
			     name, (unsigned long long)st.size, (unsigned long long)total);
	if (rc == 0)
		rc = remote->ops->stat(remote, dotted, &rst, &rfound, e);
	if (rc == 0 && (!rfound || rst.size != total))
		rc = err_set(e, EXIT_UNAVAILABLE, "'%s' on the server has %llu bytes, not %llu",
			     dotted, (unsigned long long)rst.size, (unsigned long long)total);
	if (rc == 0)
		rc = remote->ops->rename(remote, dotted, final, e);
	if (rc) {
		if (!remote->lost) {
			struct err ignored = { 0 };
			remote->ops->remove(remote, dotted, &ignored);
		}
		rc = xfer_file_failed(remote, rc, &s->failed, &s->worst, e);
		goto out;
	}
	log_info("sent file=%s bytes=%llu to %s", name, (unsigned long long)total, final);
	s->sent_n++;
	s->bytes += total;
	s->ok[i] = true;
	if ((rc = move_to_sent(s, name, e)) != 0)
		rc = xfer_file_failed(remote, rc, &s->failed, &s->worst, e);
out:
	free(path);
	free(final);
	free(dotted);
	strbuf_release(&tmp);
	return rc;
}

static int push_work(struct transport *remote, void *arg, struct err *e)
{
	struct push *s = arg;
	s->connected = true;
	s->failed = s->would = 0;
	s->worst = 0;
	struct tp_list there;
	int rc = remote->ops->list(remote, s->c->remote_outbox, &there, e);
	if (rc)
		return rc;
	tp_list_sort(&there);
	for (size_t i = 0; i < s->n && rc == 0; i++) {
		if (s->ok[i])
			continue;
		if (data_file_pending(s, s->names[i])) {
			log_warn("not sending file=%s: its data file was not sent", s->names[i]);
			s->failed++;
			continue;
		}
		rc = send_one(s, remote, &there, i, e);
	}
	tp_list_free(&there);
	return rc ? rc : s->worst;
}

static int run(const struct config *cfg, const struct partner_config *p, bool dry_run,
	       const struct tp_sftp_opts *so)
{
	struct push s = { .c = &p->sftp, .dry_run = dry_run };
	s.outbox = xfer_join(cfg->spool, "outbox");
	s.sent = xfer_join(cfg->spool, "sent");
	s.local = tp_local_new();
	struct err e = { 0 };
	int lock = -1;
	int rc = dry_run ? 0 : xfer_lock(cfg->spool, "push", &lock, &e);
	if (rc == 0)
		rc = collect(&s, &e);
	if (rc) {
		log_err(&e);
		goto out;
	}
	if (s.n == 0) {
		log_info("nothing to push: %s is empty", s.outbox);
		goto out;
	}
	log_info("pushing %zu file(s) to %s@%s:%ld:%s%s", s.n, s.c->user, s.c->host, s.c->port,
		 s.c->remote_outbox, dry_run ? " (dry run)" : "");
	rc = xfer_run(s.c, so, push_work, &s);
	if (!s.connected)
		goto out;
	if (dry_run)
		log_info("dry run: %ld file(s) would be sent, %ld already on the server", s.would,
			 s.already);
	else
		log_info("%ld file(s) sent (%llu bytes), %ld already on the server, %ld not sent",
			 s.sent_n, s.bytes, s.already, s.failed);
out:
	for (size_t i = 0; i < s.n; i++)
		free(s.names[i]);
	free(s.names);
	free(s.ok);
	tp_free(s.local);
	if (lock >= 0)
		close(lock);
	free(s.outbox);
	free(s.sent);
	return rc;
}

int cmd_push(int argc, char **argv, struct global_opts *g)
{
	return cmd_xfer_main(argc, argv, g, usage, run);
}
