/* feed.c: eligibility and deactivations files: decide, record (sql/004_feed.sql), then write. */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "core/err.h"
#include "core/fault.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/paths.h"
#include "core/strbuf.h"
#include "db/db.h"
#include "feed/feed.h"
#include "layout/layout.h"
#include "recon/recon.h"
#include "report/csvquery.h"
#include "transport/xfer.h"

/* Where each field of a partner layout comes from. The writer is driven by the layout file: its
 * fields, in its order, under its names (a `rename:` entry renames the column in the header);
 * a field the database has no value for is a configuration error. */
struct column {
	const char *field;
	const char *expr;
};

static const struct column eligibility_columns[] = {
	{ "countryCode", "r.country_code" },
	{ "telcoCode", "r.telco_code" },
	{ "alias", "r.alias" },
	{ "msisdn", "nullif(r.msisdn, '')" },
	{ "productName", "r.product_name" },
	{ "eligibilityType", "r.eligibility_type" },
	{ "action", "r.action" },
	{ "effectiveDate", "to_char(f.as_of, 'YYYY-MM-DD')" },
};
static const char eligibility_from[] =
	" from feed.eligibility_row r join feed.file f using (file_id)"
	" where r.file_id = $1::bigint and r.action is not null"
	" order by r.alias collate \"C\", r.product_name collate \"C\","
	" r.eligibility_type collate \"C\", r.action desc, r.msisdn collate \"C\","
	" r.telco_code collate \"C\"";

static const struct column deactivation_columns[] = {
	{ "countryCode", "q.country_code" },
	{ "telcoCode", "q.telco_code" },
	{ "subscriptionCode", "q.subscription_code" },
	{ "alias", "q.alias" },
	{ "msisdn", "q.msisdn" },
	{ "productName", "q.product_name" },
	{ "reason", "q.reason" },
	{ "requestDate", "to_char(q.request_date, 'YYYY-MM-DD')" },
};
static const char deactivation_from[] =
	" from feed.deactivation_request q where q.file_id = $1::bigint"
	" order by q.subscription_code collate \"C\"";

struct kind_info {
	const char *kind;   /* feed.file.kind */
	const char *layout; /* schemas/<layout>.yaml */
	const char *prefix; /* file names: <prefix>_<CC>_<YYYYMMDD>[_<seq>].csv */
	const struct column *columns;
	size_t n_columns;
	const char *from;
};

static const struct kind_info kinds[] = {
	[FEED_ELIGIBILITY] = { "eligibility", "docomo_eligibility", "eligibility",
			       eligibility_columns,
			       sizeof(eligibility_columns) / sizeof(eligibility_columns[0]),
			       eligibility_from },
	[FEED_DEACTIVATIONS] = { "deactivations", "docomo_deactivations", "deactivations",
				 deactivation_columns,
				 sizeof(deactivation_columns) / sizeof(deactivation_columns[0]),
				 deactivation_from },
};

static const struct kind_info *kind_by_name(const char *kind)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i].kind, kind) == 0)
			return &kinds[i];
	return NULL;
}

/* The query and header of a kind's files, from its layout. */
struct render_plan {
	char *sql;
	const char **header;
	size_t ncol;
};

static void render_plan_free(struct render_plan *rp)
{
	free(rp->sql);
	free(rp->header);
	memset(rp, 0, sizeof(*rp));
}

static int render_plan_make(const struct kind_info *k, const struct layout *l,
			    struct render_plan *rp, struct err *e)
{
	memset(rp, 0, sizeof(*rp));
	if (l->delimiter != ',' || l->quote != '"' || !l->header)
		return err_set(e, EXIT_CONFIG, "%s: partner files are written with a header, ',' and"
			       " '\"' (RFC 4180); this layout asks for something else", l->path);
	struct strbuf sql = STRBUF_INIT;
	rp->header = xcalloc(l->n_fields + 1, sizeof(*rp->header));
	strbuf_adds(&sql, "select ");
	for (size_t i = 0; i < l->n_fields; i++) {
		const char *name = l->fields[i].name;
		const struct column *c = NULL;
		for (size_t j = 0; j < k->n_columns && !c; j++)
			if (strcmp(k->columns[j].field, name) == 0)
				c = &k->columns[j];
		if (!c) {
			strbuf_release(&sql);
			render_plan_free(rp);
			return err_set(e, EXIT_CONFIG, "%s: field '%s' has no value in a %s file",
				       l->path, name, k->kind);
		}
		rp->header[i] = name;
		for (size_t r = 0; r < l->n_rename; r++)
			if (strcmp(l->rename_to[r], name) == 0)
				rp->header[i] = l->rename_from[r];
		strbuf_addf(&sql, "%s%s", i ? ", " : "", c->expr);
	}
	strbuf_adds(&sql, k->from);
	rp->sql = strbuf_detach(&sql);
	rp->ncol = l->n_fields;
	return 0;
}

struct feed {
	PGconn *conn;
	const struct config *cfg;
	const struct feed_opts *o;
	FILE *out;
	char *outbox;
	char *sent;
	int worst;
	int refused; /* countries refused so far */
};

static bool is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int mark_written(struct feed *f, const char *file_id, const char *sha, struct err *e)
{
	const char *params[] = { file_id, sha };
	return db_exec(f->conn, "cannot record a partner file as written",
		       "update feed.file set written_at = now(), sha256 = $2"
		       " where file_id = $1::bigint", 2, params, NULL, e);
}

/* Writes one recorded file into the outbox, then its .ctl, then marks it written. A file that
 * is already in sent/ was written and pushed by a run that stopped before marking it. */
static int render(struct feed *f, const char *file_id, const char *kind, const char *name,
		  long long row_count, struct err *e)
{
	const struct kind_info *k = kind_by_name(kind);
	if (!k)
		return err_set(e, EXIT_SOFTWARE, "feed.file %s has an unknown kind '%s'", file_id,
			       kind);
	char sha[65];
	char *sent = xfer_join(f->sent, name);
	int rc = 0;
	if (is_file(sent)) {
		/* Pushed already (a run wrote it, then stopped before marking it; the push went on).
		 * Its .ctl may not have been written (the run stopped between the two files): write it
		 * now from the pushed data file, for the next push. */
		struct strbuf ctl_sent = STRBUF_INIT, ctl_out = STRBUF_INIT;
		strbuf_addf(&ctl_sent, "%s.ctl", sent);
		char *out = xfer_join(f->outbox, name);
		strbuf_addf(&ctl_out, "%s.ctl", out);
		free(out);
		rc = fs_sha256_file(sent, sha, e);
		if (!rc && !is_file(ctl_sent.buf) && !is_file(ctl_out.buf)) {
			struct atomic_file af;
			rc = atomic_open(&af, ctl_out.buf, 0640, e);
			if (!rc) {
				fprintf(af.fp, "rows=%lld sha256=%s\n", row_count, sha);
				rc = atomic_commit(&af, e);
			}
			if (!rc)
				log_warn("file=%s was pushed without its .ctl: wrote %s for the next push",
					 name, ctl_out.buf);
		}
		if (!rc)
			rc = mark_written(f, file_id, sha, e);
		if (!rc)
			log_info("file=%s is in %s already (pushed): recorded as written", name,
				 f->sent);
		strbuf_release(&ctl_sent);
		strbuf_release(&ctl_out);
		free(sent);
		return rc;
	}
	free(sent);

	struct layout *l = NULL;
	struct render_plan rp = { 0 };
	char *path = xfer_join(f->outbox, name);
	struct strbuf ctl = STRBUF_INIT;
	long long rows = 0;
	rc = layout_load(paths_schemas_dir(), k->layout, &l, e);
	if (!rc)
		rc = render_plan_make(k, l, &rp, e);
	if (!rc) {
		const char *params[] = { file_id };
		rc = csvq_write(f->conn, "cannot read a partner file's rows", rp.sql, 1, params, path,
				rp.header, rp.ncol, &rows, e);
	}
	if (!rc && rows != row_count)
		rc = err_set(e, EXIT_SOFTWARE, "%s: wrote %lld rows, but %lld were recorded", path,
			     rows, row_count);
	if (!rc) {
		fault_point("feed-data-written");
		rc = fs_sha256_file(path, sha, e);
	}
	if (!rc) {
		struct atomic_file af;
		strbuf_addf(&ctl, "%s.ctl", path);
		rc = atomic_open(&af, ctl.buf, 0640, e);
		if (!rc) {
			fprintf(af.fp, "rows=%lld sha256=%s\n", rows, sha);
			rc = atomic_commit(&af, e);
		}
	}
	if (!rc) {
		fault_point("feed-ctl-written");
		rc = mark_written(f, file_id, sha, e);
	}
	if (!rc) {
		log_info("wrote file=%s rows=%lld sha256=%s", path, rows, sha);
		fprintf(f->out, "%s rows=%lld\n", path, rows);
	}
	strbuf_release(&ctl);
	free(path);
	render_plan_free(&rp);
	layout_free(l);
	return rc;
}

/* Writes every recorded file that is not written yet, oldest first. */
static int render_pending(struct feed *f, struct err *e)
{
	PGresult *res = NULL;
	int rc = db_exec(f->conn, "cannot list the partner files to write",
			 "select file_id::text, kind, name, row_count::text from feed.file"
			 " where written_at is null order by file_id", 0, NULL, &res, e);
	for (int i = 0; !rc && i < PQntuples(res); i++)
		rc = render(f, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2),
			    strtoll(PQgetvalue(res, i, 3), NULL, 10), e);
	PQclear(res);
	return rc;
}

/* A country whose file cannot be made: logged, the run goes on, the exit says 65. */
static void refuse(struct feed *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void refuse(struct feed *f, const char *fmt, ...)
{
	struct err e = { 0 };
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e.msg, sizeof(e.msg), fmt, ap);
	va_end(ap);
	e.code = EXIT_DATA;
	log_err(&e);
	f->worst = exit_worst(f->worst, EXIT_DATA);
	f->refused++;
}

/* Decides the name and sequence of the country's file for the as-of date, taking back a file of
 * that date not pushed yet. *go = false when the country is refused (already logged). */
static int plan_country(struct feed *f, const char *cc, struct strbuf *name, int *seq, bool *go,
			struct err *e)
{
	const struct kind_info *k = &kinds[f->o->kind];
	const char *params[] = { k->kind, cc };
	PGresult *res = NULL;
	*go = false;
	*seq = 1;
	int rc = db_exec(f->conn, "cannot read the partner files written",
			 "select file_id::text, as_of::text, seq, name from feed.file"
			 " where kind = $1 and country_code = $2 order by as_of desc, seq desc limit 1",
			 2, params, &res, e);
	if (rc)
		return rc;
	char ymd[9];
	snprintf(ymd, sizeof(ymd), "%.4s%.2s%.2s", f->o->as_of, f->o->as_of + 5, f->o->as_of + 8);
	if (PQntuples(res) == 1) {
		const char *last_id = PQgetvalue(res, 0, 0), *last_as_of = PQgetvalue(res, 0, 1);
		const char *last_name = PQgetvalue(res, 0, 3);
		int last_seq = atoi(PQgetvalue(res, 0, 2));
		int cmp = strcmp(last_as_of, f->o->as_of);
		char *sent = xfer_join(f->sent, last_name);
		bool pushed = is_file(sent);
		free(sent);
		if (cmp > 0) {
			refuse(f, "%s %s: not written: %s was written for a later date (%s); a %s file"
			       " compares with the last one, so dates only move forward", cc,
			       f->o->as_of, last_name, last_as_of, k->kind);
		} else if (cmp == 0 && pushed && f->o->skip_pushed && !f->o->force) {
			log_info("%s %s: %s was pushed already: nothing to write", cc, f->o->as_of,
				 last_name);
		} else if (cmp == 0 && pushed && !f->o->force) {
			refuse(f, "%s %s: not written: %s was pushed already (it is in %s); use --force"
			       " to write a new version %s_%s_%s_%d.csv", cc, f->o->as_of, last_name,
			       f->sent, k->prefix, cc, ymd, last_seq + 1);
		} else if (cmp == 0 && pushed) {
			*seq = last_seq + 1;
			*go = true;
		} else if (cmp == 0) { /* not pushed: take it back and write it again */
			const char *p[] = { last_id };
			rc = db_exec(f->conn, "cannot take back a partner file",
				     "select feed.revert_file($1::bigint)", 1, p, NULL, e);
			if (!rc)
				log_info("replacing file=%s (not pushed yet)", last_name);
			*seq = last_seq;
			*go = true;
		} else {
			*go = true;
		}
	} else {
		*go = true;
	}
	PQclear(res);
	strbuf_reset(name);
	strbuf_addf(name, "%s_%s_%s", k->prefix, cc, ymd);
	if (*seq > 1)
		strbuf_addf(name, "_%d", *seq);
	strbuf_adds(name, ".csv");
	return rc;
}

static int record_eligibility(struct feed *f, const char *cc, const char *name, int seq,
			      struct err *e)
{
	const char *p1[] = { cc, f->o->as_of };
	PGresult *res = NULL;
	int rc = db_exec(f->conn, "cannot find the subscriber snapshot",
			 "select recon.latest_snapshot('bss_subscribers', $1, $2::date)::text,"
			 " exists (select 1 from feed.file where kind = 'eligibility'"
			 " and country_code = $1),"
			 " exists (select 1 from feed.eligibility_pair where country_code = $1)",
			 2, p1, &res, e);
	if (rc)
		return rc;
	/* Without a snapshot no subscriber is eligible: the file is written with no rows (SPEC §8:
	 * a file is always written). But once the partner was told of eligible pairs, a missing
	 * snapshot is a loading problem, not everyone leaving: that file is refused. */
	bool no_snapshot = PQgetisnull(res, 0, 0);
	if (no_snapshot && strcmp(PQgetvalue(res, 0, 2), "t") == 0) {
		refuse(f, "%s %s: not written: no bss_subscribers snapshot of %s dated on or before"
		       " %s, and the partner was told of eligible pairs (an eligibility file without"
		       " one would remove every pair); load one first", cc, f->o->as_of, cc,
		       f->o->as_of);
		PQclear(res);
		return 0;
	}
	if (no_snapshot)
		log_warn("%s %s: no bss_subscribers snapshot of %s dated on or before %s: no"
			 " subscriber is eligible", cc, f->o->as_of, cc, f->o->as_of);
	bool full = f->o->mode == FEED_MODE_FULL ||
		    (f->o->mode == FEED_MODE_AUTO && strcmp(PQgetvalue(res, 0, 1), "f") == 0);
	char seqs[16];
	snprintf(seqs, sizeof(seqs), "%d", seq);
	const char *p2[] = { cc, f->o->as_of, full ? "true" : "false", name, seqs,
			     no_snapshot ? NULL : PQgetvalue(res, 0, 0) };
	PGresult *r2 = NULL;
	/* The function in a statement of its own: a later statement sees what it wrote. */
	rc = db_exec(f->conn, "cannot record the eligibility file",
		     "select feed.record_eligibility($1, $2::date, $3::boolean, $4, $5::int,"
		     " $6::bigint)::text", 6, p2, &r2, e);
	if (!rc) {
		const char *p3[] = { PQgetvalue(r2, 0, 0) };
		PGresult *r3 = NULL;
		rc = db_exec(f->conn, "cannot count the eligibility file's rows",
			     "select r.action, count(*)::text from feed.eligibility_row r"
			     " where r.file_id = $1::bigint and r.action is not null"
			     " group by r.action", 1, p3, &r3, e);
		PQclear(r2);
		r2 = r3;
	}
	if (!rc) {
		const char *add = "0", *remove = "0";
		for (int i = 0; i < PQntuples(r2); i++) {
			if (strcmp(PQgetvalue(r2, i, 0), "ADD") == 0)
				add = PQgetvalue(r2, i, 1);
			else
				remove = PQgetvalue(r2, i, 1);
		}
		log_info("recorded file=%s mode=%s add=%s remove=%s", name, full ? "FULL" : "DELTA",
			 add, remove);
	}
	PQclear(r2);
	PQclear(res);
	return rc;
}

static int record_deactivations(struct feed *f, const char *cc, const char *name, int seq,
				struct err *e)
{
	int rc = recon_find(f->conn, f->cfg, cc, f->o->as_of, e);
	if (rc)
		return rc;
	char seqs[16];
	snprintf(seqs, sizeof(seqs), "%d", seq);
	const char *params[] = { cc, f->o->as_of, name, seqs };
	PGresult *res = NULL;
	rc = db_exec(f->conn, "cannot record the deactivations file",
		     "select feed.record_deactivations($1, $2::date, $3, $4::int)::text", 4, params,
		     &res, e);
	if (!rc) {
		const char *p2[] = { PQgetvalue(res, 0, 0) };
		PGresult *r2 = NULL;
		rc = db_exec(f->conn, "cannot count the deactivation requests",
			     "select row_count::text from feed.file where file_id = $1::bigint", 1, p2,
			     &r2, e);
		PQclear(res);
		res = r2;
	}
	if (!rc && PQntuples(res) == 1)
		log_info("recorded file=%s requests=%s", name, PQgetvalue(res, 0, 0));
	PQclear(res);
	return rc;
}

/* Every country asked for, in one transaction: a failure records nothing. */
static int record_all(struct feed *f, struct err *e)
{
	struct strbuf name = STRBUF_INIT;
	int rc = db_begin(f->conn, e);
	if (!rc)
		rc = recon_load_config(f->conn, f->cfg, e);
	for (size_t i = 0; !rc && i < f->cfg->n_countries; i++) {
		const char *cc = f->cfg->countries[i].code;
		if (f->o->country && strcmp(f->o->country, cc) != 0)
			continue;
		int seq, refused = f->refused;
		bool go;
		/* A country refused after its unpushed file of the date was taken back keeps that
		 * file: the file stays in the outbox, so its record must stay too. */
		rc = db_exec(f->conn, "cannot start a country's partner file", "savepoint country",
			     0, NULL, NULL, e);
		if (!rc)
			rc = plan_country(f, cc, &name, &seq, &go, e);
		if (rc || !go)
			continue;
		if (f->o->kind == FEED_ELIGIBILITY)
			rc = record_eligibility(f, cc, name.buf, seq, e);
		else
			rc = record_deactivations(f, cc, name.buf, seq, e);
		if (!rc && f->refused != refused)
			rc = db_exec(f->conn, "cannot take back a refused country's partner file",
				     "rollback to savepoint country", 0, NULL, NULL, e);
	}
	if (!rc)
		rc = db_commit(f->conn, e);
	else
		db_rollback(f->conn);
	strbuf_release(&name);
	return rc;
}

/* The outbox is shared with push: hold push's lock while files there are decided and written,
 * so that a file is never replaced while it is being sent (waits for a running push). */
static int lock_outbox(const char *spool, int *fd, struct err *e)
{
	struct strbuf path = STRBUF_INIT;
	strbuf_addf(&path, "%s/.push.lock", spool);
	int rc = 0;
	*fd = open(path.buf, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (*fd < 0) {
		rc = err_set(e, EXIT_IOERR, "cannot open lock '%s': %s", path.buf, strerror(errno));
	} else if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
		log_info("waiting for a push to finish (lock %s)", path.buf);
		if (flock(*fd, LOCK_EX) != 0) {
			rc = err_set(e, EXIT_IOERR, "cannot lock '%s': %s", path.buf,
				     strerror(errno));
			close(*fd);
			*fd = -1;
		}
	}
	strbuf_release(&path);
	return rc;
}

int feed_run(PGconn *conn, const struct config *cfg, const struct feed_opts *o, FILE *out,
	     int *worst, struct err *e)
{
	struct feed f = { .conn = conn, .cfg = cfg, .o = o, .out = out };
	f.outbox = xfer_join(cfg->spool, "outbox");
	f.sent = xfer_join(cfg->spool, "sent");
	int lock = -1;
	int rc = fs_mkdirs(f.outbox, 0750, e);
	if (!rc)
		rc = fs_mkdirs(f.sent, 0750, e);
	if (!rc)
		rc = lock_outbox(cfg->spool, &lock, e);
	/* One writer of partner files per database (two spools on one database would race). */
	bool locked = false;
	if (!rc)
		rc = db_exec(conn, "cannot take the partner files lock",
			     "select pg_advisory_lock(hashtextextended('ottrecon.feed', 0))", 0, NULL,
			     NULL, e);
	locked = rc == 0;
	/* First what an interrupted run recorded and did not write. */
	if (!rc)
		rc = render_pending(&f, e);
	if (!rc)
		rc = record_all(&f, e);
	if (!rc) {
		fault_point("feed-recorded");
		rc = render_pending(&f, e);
	}
	if (locked) {
		struct err ignored = { 0 };
		db_exec(conn, "cannot release the partner files lock",
			"select pg_advisory_unlock(hashtextextended('ottrecon.feed', 0))", 0, NULL,
			NULL, &ignored);
	}
	if (lock >= 0)
		close(lock);
	free(f.outbox);
	free(f.sent);
	*worst = f.worst;
	return rc;
}
