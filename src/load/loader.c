/* loader.c: one file -> manifest row, stage table (COPY), reject file, merge SQL, all in one
 * transaction; the rules of what a loaded row does live in sql/002_load.sql. */
#include "load/loader.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "core/err.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/strbuf.h"
#include "core/timeutil.h"
#include "db/copy.h"
#include "db/db.h"
#include "layout/csvout.h"
#include "layout/dupkeys.h"
#include "layout/layout.h"
#include "layout/reader.h"
#include "layout/value.h"

enum target { T_ACTIVATIONS, T_SUBSCRIBERS, T_ADDONS, T_CHURN, T_NONE };

/* What a file of layout l holds: a layout that extends another (a country's Siebel export with
 * rename: entries, SPEC §3) holds what its root layout holds, and is recorded under that name. */
static enum target target_of(const struct layout *l)
{
	if (strcmp(l->base, "docomo_activations") == 0)
		return T_ACTIVATIONS;
	if (strcmp(l->base, "bss_subscribers") == 0)
		return T_SUBSCRIBERS;
	if (strcmp(l->base, "bss_addons") == 0)
		return T_ADDONS;
	if (strcmp(l->base, "bss_churn") == 0)
		return T_CHURN;
	return T_NONE;
}

bool load_layout_supported(const struct layout *l)
{
	return target_of(l) != T_NONE;
}

/* countryCode -> country_code: stage columns are the layout's fields in snake case. */
static void add_snake(struct strbuf *sb, const char *name)
{
	for (const char *p = name; *p; p++) {
		if (isupper((unsigned char)*p)) {
			if (p != name)
				strbuf_addc(sb, '_');
			strbuf_addc(sb, (char)tolower((unsigned char)*p));
		} else {
			strbuf_addc(sb, *p);
		}
	}
}

/* Appends a quoted identifier (layout field names are checked by the layout loader, and quoted
 * here all the same). */
static void add_ident(PGconn *conn, struct strbuf *sb, const char *name)
{
	struct strbuf snake = STRBUF_INIT;
	add_snake(&snake, name);
	char *q = PQescapeIdentifier(conn, snake.buf, snake.len);
	strbuf_adds(sb, q ? q : "\"?\"");
	PQfreemem(q);
	strbuf_release(&snake);
}

/* Prepares the COPY of the file's rows: activation rows go straight into partner_table (partner_row,
 * or the file's own partition of it: file_id, line, fields, flags); the other layouts into `create temp table stage_<layout> (line
 * bigint, <fields> text) on commit drop`, which the merge functions of sql/002_load.sql read. */
static int prepare_copy(PGconn *conn, const struct layout *l, const char *partner_table,
			struct strbuf *copy_sql, struct err *e)
{
	struct strbuf cols = STRBUF_INIT;
	for (size_t f = 0; f < l->n_fields; f++) {
		strbuf_adds(&cols, ", ");
		add_ident(conn, &cols, l->fields[f].name);
	}
	int rc = 0;
	if (target_of(l) == T_ACTIVATIONS) {
		strbuf_addf(copy_sql, "copy %s (file_id, line%s, flags) from stdin"
				      " with (format binary)", partner_table, cols.buf);
	} else {
		struct strbuf sql = STRBUF_INIT;
		strbuf_addf(&sql, "create temp table stage_%s (line bigint", l->base);
		for (size_t f = 0; f < l->n_fields; f++) {
			strbuf_adds(&sql, ", ");
			add_ident(conn, &sql, l->fields[f].name);
			strbuf_adds(&sql, " text");
		}
		strbuf_adds(&sql, ") on commit drop");
		rc = db_exec(conn, "cannot create the stage table", sql.buf, 0, NULL, NULL, e);
		strbuf_release(&sql);
		strbuf_addf(copy_sql, "copy stage_%s (line%s) from stdin", l->base, cols.buf);
	}
	strbuf_release(&cols);
	return rc;
}

/* Field indexes of the partner dates, to flag rows whose dates are out of order. */
struct partner_dates {
	int created, active, pending, unsubscribed;
};

/* 1 when a row's dates are out of order (SPEC §3.1): active before created, pending or
 * unsubscribed before active, unsubscribed before created. t/have: the row's parsed timestamps
 * by field index. */
static int dates_out_of_order(const struct partner_dates *pd, const int64_t *t, const bool *have)
{
	int c = pd->created, a = pd->active, p = pd->pending, u = pd->unsubscribed;
#define BEFORE(x, y) ((x) >= 0 && (y) >= 0 && have[x] && have[y] && t[x] < t[y])
	return BEFORE(a, c) || BEFORE(p, a) || BEFORE(u, a) || BEFORE(u, c);
#undef BEFORE
}

/* Rows of countries (or, for partner rows, telco codes) that are not configured: loaded, counted
 * while reading, and warned about once per file (SPEC §3.1, §8). */
enum { MAX_FOREIGN = 16 };
struct foreign {
	const struct config *cfg;
	int f_country, f_telco;   /* field indexes; f_telco -1 for BSS layouts */
	size_t n;
	char country[MAX_FOREIGN][8];
	char telco[MAX_FOREIGN][72];
	long rows[MAX_FOREIGN];
	long other;               /* rows of pairs beyond MAX_FOREIGN */
};

/* Counts n rows of country cc and telco code tc (NULL for BSS rows) if they are not configured. */
static void count_foreign_n(struct foreign *fo, const char *cc, const char *tc, long n)
{
	tc = tc ? tc : "";
	const struct country_config *c = config_country(fo->cfg, cc);
	if (c && (fo->f_telco < 0 || strcmp(c->telco_code, tc) == 0))
		return;
	for (size_t i = 0; i < fo->n; i++)
		if (strcmp(fo->country[i], cc) == 0 && strcmp(fo->telco[i], tc) == 0) {
			fo->rows[i] += n;
			return;
		}
	if (fo->n == MAX_FOREIGN) {
		fo->other += n;
		return;
	}
	snprintf(fo->country[fo->n], sizeof(fo->country[0]), "%s", cc);
	snprintf(fo->telco[fo->n], sizeof(fo->telco[0]), "%s", tc);
	fo->rows[fo->n++] = n;
}

static void count_foreign(struct foreign *fo, const char *const *v)
{
	count_foreign_n(fo, v[fo->f_country], fo->f_telco >= 0 ? v[fo->f_telco] : NULL, 1);
}

static void warn_foreign(const struct foreign *fo, const char *name)
{
	for (size_t i = 0; i < fo->n; i++) {
		const struct country_config *c = config_country(fo->cfg, fo->country[i]);
		if (!c)
			log_warn("%s: %ld rows of country %s, which is not configured: loaded, left out"
				 " of reconciliation and reports", name, fo->rows[i], fo->country[i]);
		else
			log_warn("%s: %ld rows of country %s with telcoCode %s (configured: %s): loaded,"
				 " left out of reconciliation and reports", name, fo->rows[i],
				 fo->country[i], fo->telco[i], c->telco_code);
	}
	if (fo->other)
		log_warn("%s: %ld more rows of other countries or telco codes not configured", name,
			 fo->other);
}

enum { MAX_PARTNER_FIELDS = 64 };

/* Activations files of at least this size get a partition of their own (sql/001_init.sql): 64 MiB,
 * about 450,000 rows; the environment variable OTTRECON_LOAD_PARTITION_BYTES overrides it (tests). */
static unsigned long long own_partition_min_bytes(void)
{
	const char *v = getenv("OTTRECON_LOAD_PARTITION_BYTES");
	char *end;
	if (v && *v) {
		errno = 0;
		unsigned long long n = strtoull(v, &end, 10);
		if (errno == 0 && *end == '\0')
			return n;
	}
	return 64ULL << 20;
}

/* Scope-bound release of the per-file duplicate filter (every return of load_file frees it). */
static void keyfilter_cleanup(struct keyfilter **f)
{
	keyfilter_free(*f);
}

static void strbuf_cleanup(struct strbuf *sb)
{
	strbuf_release(sb);
}

struct load_ctx {
	const char *name;         /* file name for messages */
	const char *file_id;      /* for activation rows, COPYed into partner_row; else NULL */
	long long file_id_num;
	const struct layout *layout;
	int64_t ts[MAX_PARTNER_FIELDS]; /* a row's timestamps by field index (activations) */
	bool have[MAX_PARTNER_FIELDS];
	struct partner_dates pd;
	int f_code;               /* subscriptionCode's (service_id's for subscribers) field index */
	struct keyfilter *kf;     /* codes (service ids) seen, to find those that may repeat */
	struct strbuf *candidates; /* codes (service ids) that may repeat, each followed by a NUL */
	long n_candidates;
	struct foreign foreign;
	long out_of_order;        /* rows flagged DATES_OUT_OF_ORDER (duplicates included) */
	long future;              /* rows flagged FUTURE_DATE (duplicates included) */
	int64_t future_after_us;  /* a timestamp after this (now + 1 day) is in the future */
	const char *reject_path;
	struct copy_stream copy;
	struct atomic_file rejects;
	bool rejects_open;
	struct err *e;
};

/* A partner row, in binary COPY into ottrecon.partner_row: file_id, line, the layout's fields
 * (datetime as timestamptz, the rest text), flags. */
static void copy_partner_row(struct load_ctx *c, const struct reader_row *row)
{
	const struct layout *l = c->layout;
	const char *code = row->values[c->f_code];
	uint64_t code_key = code ? keyfilter_prepare(c->kf, code, row->lens[c->f_code]) : 0;
	copy_bin_row(&c->copy, (int)row->n_values + 3);
	copy_bin_int8(&c->copy, c->file_id_num);
	copy_bin_int8(&c->copy, row->line);
	for (size_t i = 0; i < row->n_values; i++) {
		const char *v = row->values[i];
		size_t len = row->lens[i];
		c->have[i] = false;
		if (!v)
			copy_bin_null(&c->copy);
		else if (l->fields[i].type == FT_DATETIME &&
			 time_parse_iso8601(v, len, &c->ts[i]) == NULL) {
			c->have[i] = true;
			copy_bin_timestamptz(&c->copy, c->ts[i]);
		} else
			copy_bin_text(&c->copy, v, len);
	}
	if (code && keyfilter_add_prepared(c->kf, code_key)) {
		strbuf_add(c->candidates, code, row->lens[c->f_code] + 1);
		c->n_candidates++;
	}
	/* A date after tomorrow (UTC) cannot be true: the partner's clock is off (issue 8). */
	bool future = false;
	for (size_t i = 0; i < row->n_values && !future; i++)
		future = c->have[i] && c->ts[i] > c->future_after_us;
	const char *flags[2];
	int nflags = 0;
	if (dates_out_of_order(&c->pd, c->ts, c->have)) {
		flags[nflags++] = "DATES_OUT_OF_ORDER";
		c->out_of_order++;
	}
	if (future) {
		flags[nflags++] = "FUTURE_DATE";
		c->future++;
	}
	copy_bin_text_array(&c->copy, flags, nflags);
}

static int on_row(void *vctx, const struct reader_row *row)
{
	struct load_ctx *c = vctx;
	count_foreign(&c->foreign, row->values);
	if (c->file_id) {
		copy_partner_row(c, row);
	} else {
		const char *id = c->kf ? row->values[c->f_code] : NULL; /* (required: never NULL) */
		if (id && keyfilter_add(c->kf, id, row->lens[c->f_code])) {
			strbuf_add(c->candidates, id, row->lens[c->f_code] + 1);
			c->n_candidates++;
		}
		copy_field_long(&c->copy, row->line);
		for (size_t i = 0; i < row->n_values; i++)
			copy_field_len(&c->copy, row->values[i], row->lens[i]);
	}
	return copy_end_row(&c->copy, c->e);
}

static int open_rejects(struct load_ctx *c)
{
	if (c->rejects_open)
		return 0;
	int rc = atomic_open(&c->rejects, c->reject_path, 0640, c->e);
	if (rc)
		return rc;
	c->rejects_open = true;
	if (fputs("line,column,reason,raw\n", c->rejects.fp) == EOF)
		return err_set(c->e, EXIT_IOERR, "cannot write '%s'", c->reject_path);
	return 0;
}

/* Before the rejects file replaces one of an earlier attempt with other rows (a file refused,
 * then sent again corrected under its name): that one is kept, as NAME.rejects.csv.1, ... */
static int keep_earlier_rejects(struct load_ctx *c, struct err *e)
{
	if (fflush(c->rejects.fp) != 0)
		return err_set(e, EXIT_IOERR, "cannot write '%s': %s", c->reject_path,
			       strerror(errno));
	return fs_keep_earlier(c->reject_path, c->rejects.tmp_path, e);
}

static int write_reject(struct load_ctx *c, long line, const char *column, const char *reason,
			const char *raw, size_t raw_len)
{
	int rc = open_rejects(c);
	if (rc)
		return rc;
	if (csv_write_reject(c->rejects.fp, NULL, line, column, reason, raw, raw_len) != 0)
		return err_set(c->e, EXIT_IOERR, "cannot write '%s': %s", c->reject_path,
			       strerror(errno));
	return 0;
}

static int on_reject(void *vctx, const struct reader_reject *rej)
{
	struct load_ctx *c = vctx;
	return write_reject(c, rej->line, rej->column, rej->reason, rej->raw, rej->raw_len);
}

static int on_duplicate(void *vctx, long line, const char *raw, size_t raw_len)
{
	return write_reject(vctx, line, "subscriptionCode", "duplicate subscriptionCode", raw,
			    raw_len);
}

/* Records a refused file in the manifest, in a transaction of its own. */
static void record_refusal(PGconn *conn, const char *name, const char *path, long long size,
			   const char *sha, const char *layout, const char *as_of,
			   const struct load_result *res, const char *reason)
{
	char rd[24], ld[24], rj[24], du[24], sz[24];
	snprintf(sz, sizeof(sz), "%lld", size);
	snprintf(rd, sizeof(rd), "%ld", res->read);
	snprintf(ld, sizeof(ld), "%ld", res->loaded);
	snprintf(rj, sizeof(rj), "%ld", res->rejected);
	snprintf(du, sizeof(du), "%ld", res->duplicates);
	const char *p[] = { name, path, sz, sha, layout, as_of, rd, ld, rj, du, reason };
	struct err e2 = { 0 };
	if (db_exec(conn, "cannot record the refused file",
		    "insert into ottrecon.load_file (name, path, size_bytes, sha256, layout, as_of,"
		    " rows_read, rows_loaded, rows_rejected, rows_duplicate, outcome, reason,"
		    " finished_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'REFUSED', $11,"
		    " now())", 11, p, NULL, &e2) != 0)
		log_err(&e2);
}

/* COPYs the codes (service ids) that may repeat into a temporary table for
 * ottrecon.dedupe_activations (ottrecon.merge_bss_snapshot). */
static int stage_candidates(PGconn *conn, const struct strbuf *candidates, struct err *e)
{
	int rc = db_exec(conn, "cannot stage the candidate codes",
			 "create temp table dup_candidates (code text) on commit drop", 0, NULL, NULL,
			 e);
	struct copy_stream cs;
	if (rc == 0)
		rc = copy_begin(&cs, conn, "copy dup_candidates (code) from stdin", e);
	if (rc)
		return rc;
	for (size_t off = 0; rc == 0 && off < candidates->len;) {
		const char *code = candidates->buf + off;
		size_t len = strlen(code);
		copy_field_len(&cs, code, len);
		rc = copy_end_row(&cs, e);
		off += len + 1;
	}
	if (rc) {
		copy_abort(&cs, "staging the candidate codes failed");
		return rc;
	}
	return copy_finish(&cs, e);
}

/* Duplicates were counted while reading and removed since: count what was loaded again (rare). */
static int recount_after_dedupe(PGconn *conn, struct load_ctx *c, const char *file_id,
				const char *part, struct err *e)
{
	const char *params[] = { file_id, part };
	PGresult *res = NULL;
	int rc = db_exec(conn, "cannot count the loaded rows",
			 "select country_code, telco_code, count(*),"
			 " count(*) filter (where 'DATES_OUT_OF_ORDER' = any (flags)),"
			 " count(*) filter (where 'FUTURE_DATE' = any (flags))"
			 " from ottrecon.partner_row where part = $2 and file_id = $1 group by 1, 2", 2,
			 params, &res, e);
	if (rc)
		return rc;
	struct foreign *fo = &c->foreign;
	fo->n = 0;
	fo->other = 0;
	c->out_of_order = c->future = 0;
	for (int i = 0; i < PQntuples(res); i++) {
		count_foreign_n(fo, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
				atol(PQgetvalue(res, i, 2)));
		c->out_of_order += atol(PQgetvalue(res, i, 3));
		c->future += atol(PQgetvalue(res, i, 4));
	}
	PQclear(res);
	return 0;
}

/* Runs the merge function of the file's layout; checks that every staged row arrived. */
static int merge(PGconn *conn, const struct partner_config *p, enum target t, const char *file_id,
		 const char *part, const char *layout, const char *as_of, const char *name, long loaded,
		 long out_of_order, long future, struct err *e)
{
	PGresult *res = NULL;
	int rc;
	long long into = 0;

	if (t == T_ACTIVATIONS) {
		const char *mode = p && p->activations_mode == MODE_SNAPSHOT ? "SNAPSHOT" : "DELTA";
		const char *params[] = { file_id, part, mode };
		rc = db_exec(conn, "cannot merge the activations",
			     "select superseded, went_backwards, removed"
			     " from ottrecon.merge_activations($1, $2, $3)", 3, params, &res, e);
		if (rc)
			return rc;
		long long updated = atoll(PQgetvalue(res, 0, 0));
		long long back = atoll(PQgetvalue(res, 0, 1));
		long long removed = atoll(PQgetvalue(res, 0, 2));
		into = loaded;
		log_info("%s: %lld subscriptions new, %lld updated (%s mode)", name, into - updated,
			 updated, mode);
		if (removed)
			log_info("%s: %lld subscriptions absent from this snapshot left the current state",
				 name, removed);
		if (back)
			log_warn("%s: %lld subscriptions went back in status (e.g. UNSUBSCRIBED, then"
				 " ACTIVE again): applied and flagged STATUS_BACKWARDS", name, back);
		if (out_of_order)
			log_warn("%s: %ld rows have dates out of order (active before created, or"
				 " unsubscribed before active): loaded and flagged DATES_OUT_OF_ORDER",
				 name, out_of_order);
		if (future)
			log_warn("%s: %ld rows have dates after tomorrow (UTC): loaded and flagged"
				 " FUTURE_DATE; is the partner's clock wrong?", name, future);
	} else if (t == T_CHURN) {
		const char *params[] = { file_id };
		rc = db_exec(conn, "cannot merge the churn events",
			     "select added from ottrecon.merge_churn($1)", 1, params, &res, e);
		if (rc)
			return rc;
		long long added = atoll(PQgetvalue(res, 0, 0));
		log_info("%s: %lld churn events new, %lld already known", name, added,
			 (long long)loaded - added);
		into = loaded;
	} else {
		const char *params[] = { file_id, layout, as_of };
		rc = db_exec(conn, "cannot replace the snapshot",
			     "select country_code, rows_loaded, replaced"
			     " from ottrecon.merge_bss_snapshot($1, $2, $3)", 3, params, &res, e);
		if (rc)
			return rc;
		for (int i = 0; i < PQntuples(res); i++) {
			into += atoll(PQgetvalue(res, i, 1));
			log_info("%s: %s snapshot of %s as of %s: %s rows%s", name, layout,
				 PQgetvalue(res, i, 0), as_of, PQgetvalue(res, i, 1),
				 strcmp(PQgetvalue(res, i, 2), "t") == 0 ? " (replaces the earlier load)" : "");
		}
	}
	PQclear(res);
	if (into != loaded)
		return err_set(e, EXIT_SOFTWARE, "%s: %ld rows read as valid but %lld merged", name,
			       loaded, into);
	return 0;
}

/* The manifest check, under the load lock: 1 when the same content was loaded (nothing to do), 0
 * to go on, or an error code (EXIT_DATA: same name, other content). snapshot_as_of (BSS
 * subscribers and add-ons): the same content is the same file only for the same date; the same
 * export on another date is that date's snapshot (a base that went back to an earlier state must
 * not leave a snapshot in between as the latest).
 *
 * Loads take turns (one transaction-scoped advisory lock for all of them): two loads of the same
 * content must not both load it, two partner files must not both mark their rows of one code
 * current, two snapshots of one country and date must not both replace it. A waiting load says so. */
static int check_manifest(PGconn *conn, const char *name, const char *sha, const char *layout,
			  const char *snapshot_as_of, bool force, char *reason, size_t reason_len,
			  struct err *e)
{
	const char *lp[] = { sha, name };
	PGresult *res = NULL;
	int rc = db_exec(conn, "cannot take the load lock",
			 "select pg_try_advisory_xact_lock(hashtextextended('ottrecon.load', 7))", 0,
			 NULL, &res, e);
	if (rc)
		return rc;
	bool got = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (!got) {
		log_info("%s: another load is running on this database; waiting for it", name);
		rc = db_exec(conn, "cannot take the load lock",
			     "select pg_advisory_xact_lock(hashtextextended('ottrecon.load', 7))", 0,
			     NULL, NULL, e);
		if (rc)
			return rc;
	}
	res = NULL;
	rc = db_exec(conn, "cannot read the manifest",
		     "select file_id, name, sha256, layout, to_char(finished_at at time zone 'UTC',"
		     " 'YYYY-MM-DD HH24:MI:SS'), coalesce(as_of::text, '') from ottrecon.load_file"
		     " where outcome = 'LOADED' and (sha256 = $1 or name = $2) order by file_id",
		     2, lp, &res, e);
	if (rc)
		return rc;
	int found = 0;
	int same_content = -1; /* a row with this content, loaded as the snapshot of another date */
	for (int i = 0; i < PQntuples(res) && !found; i++) {
		if (strcmp(PQgetvalue(res, i, 2), sha) != 0 || strcmp(PQgetvalue(res, i, 3), layout) != 0)
			continue;
		if (snapshot_as_of && strcmp(PQgetvalue(res, i, 5), snapshot_as_of) != 0) {
			same_content = i;
			continue;
		}
		log_info("%s: already loaded (file_id %s, as '%s' at %s UTC): nothing to do", name,
			 PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 4));
		found = 1;
	}
	if (!found && same_content >= 0)
		log_info("%s: same content as file_id %s ('%s', the snapshot of %s): loaded as the"
			 " snapshot of %s", name, PQgetvalue(res, same_content, 0),
			 PQgetvalue(res, same_content, 1), PQgetvalue(res, same_content, 5),
			 snapshot_as_of);
	for (int i = 0; i < PQntuples(res) && !found && !force; i++) {
		if (strcmp(PQgetvalue(res, i, 1), name) == 0 && strcmp(PQgetvalue(res, i, 2), sha) != 0) {
			snprintf(reason, reason_len,
				 "another file named '%s' with other content was loaded (file_id %s, "
				 "sha256 %.12s...)", name, PQgetvalue(res, i, 0), PQgetvalue(res, i, 2));
			err_set(e, EXIT_DATA, "%s: refused: %s", name, reason);
			err_hint(e, "load it anyway with --force, if it replaces or adds to the earlier one");
			found = -1;
		}
	}
	PQclear(res);
	return found < 0 ? EXIT_DATA : found;
}

static void free_charp(char **p)
{
	free(*p);
}

/* A copy of s for the manifest when s is not valid UTF-8 (the database would refuse it): every
 * byte outside ASCII becomes '?'. The caller frees it. */
static char *ascii_copy(const char *s)
{
	char *c = xstrdup(s);
	for (char *p = c; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	return c;
}

int load_file(PGconn *conn, const struct config *cfg, const struct layout *l, const char *path,
	      const struct load_opts *o, struct load_result *res, struct err *e)
{
	memset(res, 0, sizeof(*res));
	const char *name = fs_basename(path);
	enum target t = target_of(l);
	if (t == T_NONE)
		return err_set(e, EXIT_USAGE, "layout '%s' is written by ottrecon, not loaded",
			       l->name);

	struct stat stt;
	if (stat(path, &stt) != 0)
		return err_set(e, EXIT_NOINPUT, "cannot open '%s': %s", path, strerror(errno));
	if (!S_ISREG(stt.st_mode))
		return err_set(e, EXIT_NOINPUT, "cannot load '%s': not a regular file", path);
	char sha[65];
	int rc = fs_sha256_file(path, sha, e);
	if (rc)
		return rc;
	/* The manifest keeps names as text: a name that is not UTF-8 refuses the file (ingest then
	 * moves it to reject/ and goes on) instead of failing the whole run on it, night after night;
	 * a directory that is not UTF-8 is recorded under an ASCII copy of the path. */
	char *apath __attribute__((cleanup(free_charp))) = NULL;
	if (!utf8_valid(path, strlen(path)))
		apath = ascii_copy(path);
	const char *mpath = apath ? apath : path;
	if (!utf8_valid(name, strlen(name))) {
		res->outcome = LOAD_REFUSED;
		record_refusal(conn, fs_basename(mpath), mpath, (long long)stt.st_size, sha, l->base,
			       NULL, res, "the file name is not valid UTF-8");
		err_set(e, EXIT_DATA, "%s: refused: the file name is not valid UTF-8", name);
		err_hint(e, "rename it (UTF-8, or plain ASCII) and load it again");
		return EXIT_DATA;
	}

	int64_t as_of_days;
	bool have_as_of = o->have_as_of;
	if (have_as_of)
		as_of_days = o->as_of;
	else
		have_as_of = time_date_from_name(name, &as_of_days) == 0;
	char as_of[16] = "";
	if (have_as_of)
		time_format_date(as_of_days, as_of, sizeof(as_of));
	else if (t == T_SUBSCRIBERS || t == T_ADDONS) {
		res->outcome = LOAD_REFUSED;
		record_refusal(conn, name, mpath, (long long)stt.st_size, sha, l->base, NULL, res,
			       "cannot tell the snapshot date: no --as-of and no YYYYMMDD in the file name");
		err_set(e, EXIT_DATA, "%s: refused: cannot tell the snapshot date: no --as-of and no"
			" YYYYMMDD in the file name", name);
		err_hint(e, "name BSS exports like bss_subscribers_XX_20261203.csv, or give --as-of");
		return EXIT_DATA;
	}
	if (have_as_of && !o->have_as_of && as_of_days > time_today_utc() + 1)
		log_warn("%s: the date in its name (%s) is after tomorrow (UTC): is the sender's clock"
			 " wrong?", name, as_of);

	snprintf(res->reject_path, sizeof(res->reject_path), "%s/%s.rejects.csv", o->reject_dir,
		 o->reject_name ? o->reject_name : name);
	if ((rc = fs_mkdirs(o->reject_dir, 0750, e)) != 0)
		return rc;

	char reason[1024] = "";
	if ((rc = db_begin(conn, e)) != 0)
		return rc;
	rc = check_manifest(conn, name, sha, l->base,
			    t == T_SUBSCRIBERS || t == T_ADDONS ? as_of : NULL, o->force, reason,
			    sizeof(reason), e);
	if (rc != 0) {
		db_rollback(conn);
		res->reject_path[0] = '\0';
		if (rc == 1) {
			res->outcome = LOAD_ALREADY;
			return 0;
		}
		if (rc == EXIT_DATA) {
			res->outcome = LOAD_REFUSED;
			record_refusal(conn, name, mpath, (long long)stt.st_size, sha, l->base,
				       have_as_of ? as_of : NULL, res, reason);
		}
		return rc;
	}

	char size[24];
	snprintf(size, sizeof(size), "%lld", (long long)stt.st_size);
	const char *mp[] = { name, mpath, size, sha, l->base, have_as_of ? as_of : NULL,
			     o->force ? "true" : "false" };
	PGresult *r = NULL;
	rc = db_exec(conn, "cannot record the file in the manifest",
		     "insert into ottrecon.load_file (name, path, size_bytes, sha256, layout, as_of,"
		     " outcome, forced) values ($1, $2, $3, $4, $5, $6, 'LOADING', $7) returning file_id",
		     7, mp, &r, e);
	if (rc) {
		db_rollback(conn);
		return rc;
	}
	char file_id[24];
	snprintf(file_id, sizeof(file_id), "%s", PQgetvalue(r, 0, 0));
	res->file_id = atoll(file_id);
	PQclear(r);

	struct load_ctx c = { .name = name, .reject_path = res->reject_path, .e = e };
	struct keyfilter *kf __attribute__((cleanup(keyfilter_cleanup))) = NULL;
	struct strbuf candidates __attribute__((cleanup(strbuf_cleanup))) = STRBUF_INIT;
	c.foreign = (struct foreign){ .cfg = cfg,
				      .f_country = layout_field_index(l, t == T_ACTIVATIONS ?
								       "countryCode" : "country_code"),
				      .f_telco = layout_field_index(l, "telcoCode") };
	c.layout = l;
	c.future_after_us = (time_today_utc() + 2) * INT64_C(86400000000) - 1;
	if (t == T_ACTIVATIONS) {
		c.file_id = file_id;
		c.file_id_num = res->file_id;
		c.f_code = layout_field_index(l, "subscriptionCode");
		/* About 100 bytes a row. A large file gets the largest filter (32 MiB, the fewest
		 * false candidates for the duplicate check), so that a load's memory is the same
		 * whatever the size of a large file; a small delta file gets a small one. */
		bool large = (unsigned long long)stt.st_size >= own_partition_min_bytes();
		kf = keyfilter_new(large ? SIZE_MAX / 64 : (size_t)stt.st_size / 100);
		c.kf = kf;
		c.candidates = &candidates;
		if (l->n_fields > MAX_PARTNER_FIELDS || c.f_code < 0) {
			db_rollback(conn);
			return err_set(e, EXIT_SOFTWARE, "layout '%s' has more than %d fields", l->name,
				       MAX_PARTNER_FIELDS);
		}
		c.pd = (struct partner_dates){ layout_field_index(l, "dateCreated"),
					       layout_field_index(l, "dateActive"),
					       layout_field_index(l, "datePendingUnsubscription"),
					       layout_field_index(l, "dateUnsubscribed") };
	} else if (t == T_SUBSCRIBERS) {
		/* Service ids that may repeat in the snapshot (rare): merge_bss_snapshot marks which
		 * row of a repeated service counts, so that readers of the snapshot need not sort it.
		 * About 80 bytes a row; the same filter sizes as for activations. */
		c.f_code = layout_field_index(l, "service_id");
		bool large = (unsigned long long)stt.st_size >= own_partition_min_bytes();
		kf = keyfilter_new(large ? SIZE_MAX / 64 : (size_t)stt.st_size / 80);
		c.kf = kf;
		c.candidates = &candidates;
		if (c.f_code < 0) {
			db_rollback(conn);
			return err_set(e, EXIT_SOFTWARE, "layout '%s' has no service_id", l->name);
		}
	}
	/* A large activations file's rows get a partition of their own (sql/001_init.sql). */
	char part[24] = "0";
	char partner_table[96] = "ottrecon.partner_row_small";
	if (t == T_ACTIVATIONS && (unsigned long long)stt.st_size >= own_partition_min_bytes()) {
		const char *pp[] = { file_id };
		PGresult *pr = NULL;
		rc = db_exec(conn, "cannot create the file's partition",
			     "select ottrecon.create_file_partition($1)", 1, pp, &pr, e);
		if (rc) {
			db_rollback(conn);
			return rc;
		}
		snprintf(partner_table, sizeof(partner_table), "%s", PQgetvalue(pr, 0, 0));
		snprintf(part, sizeof(part), "%s", file_id);
		PQclear(pr);
	}
	struct strbuf copy_sql = STRBUF_INIT;
	if ((rc = prepare_copy(conn, l, partner_table, &copy_sql, e)) == 0)
		rc = t == T_ACTIVATIONS ? copy_bin_begin(&c.copy, conn, copy_sql.buf, e) :
					  copy_begin(&c.copy, conn, copy_sql.buf, e);
	strbuf_release(&copy_sql);
	if (rc) {
		db_rollback(conn);
		return rc;
	}
	/* Reading and checking the file (this thread) overlaps with sending it and storing it. */
	if ((rc = copy_send_in_background(&c.copy, e)) != 0) {
		copy_abort(&c.copy, "cannot start the sender");
		db_rollback(conn);
		return rc;
	}

	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = err_set(e, EXIT_NOINPUT, "cannot open '%s': %s", path, strerror(errno));
		copy_abort(&c.copy, "file cannot be opened");
		db_rollback(conn);
		return rc;
	}
	struct reader_callbacks cb = { .row = on_row, .reject = on_reject };
	struct reader_stats st;
	rc = reader_read_fd(l, fd, name, &cb, &c, &st, e);
	close(fd);
	res->read = st.read;
	res->loaded = st.loaded;
	res->rejected = st.rejected;
	if (rc == 0)
		rc = copy_finish(&c.copy, e);
	else
		copy_abort(&c.copy, "file refused");

	double ratio = cfg->recon.max_reject_ratio;
	if (rc == 0 && reader_over_reject_ratio(st.read, st.rejected, 0, ratio)) {
		snprintf(reason, sizeof(reason), "%ld of %ld rows rejected, over max_reject_ratio %g",
			 st.rejected, st.read, ratio);
		rc = err_set(e, EXIT_DATA, "%s: refused: %s; nothing loaded", name, reason);
		err_hint(e, "the rejected rows are in %s", res->reject_path);
	}
	if (rc == EXIT_DATA) {
		/* Refused whole: nothing of it stays; the rejects and the manifest say why. */
		db_rollback(conn);
		res->outcome = LOAD_REFUSED;
		res->loaded = 0;
		if (!reason[0])
			snprintf(reason, sizeof(reason), "%s", e->msg);
		struct err e2 = { 0 };
		if (c.rejects_open && (keep_earlier_rejects(&c, &e2) != 0 ||
				       atomic_commit(&c.rejects, &e2) != 0))
			log_err(&e2);
		else if (!c.rejects_open)
			res->reject_path[0] = '\0';
		record_refusal(conn, name, mpath, (long long)stt.st_size, sha, l->base,
			       have_as_of ? as_of : NULL, res, reason);
		return rc;
	}

	/* Duplicates of the primary key in the file (SPEC §3.1): rejected, not counted in the ratio.
	 * Only codes the filter saw twice can repeat; none, and there is nothing to look for. */
	if (rc == 0 && t == T_ACTIVATIONS && c.n_candidates > 0) {
		PGresult *d = NULL;
		const char *params[] = { file_id, part };
		rc = stage_candidates(conn, &candidates, e);
		if (rc == 0)
			rc = db_exec(conn, "cannot find duplicate subscription codes",
				     "select line from ottrecon.dedupe_activations($1, $2)", 2, params, &d,
				     e);
		if (rc == 0 && PQntuples(d) > 0) {
			size_t n = (size_t)PQntuples(d);
			long *lines = xmalloc(n * sizeof(long));
			for (size_t i = 0; i < n; i++)
				lines[i] = atol(PQgetvalue(d, (int)i, 0));
			rc = reader_rescan(l, path, name, lines, n, on_duplicate, &c, e);
			free(lines);
			res->duplicates = (long)n;
			res->rejected += (long)n;
			res->loaded -= (long)n;
			log_warn("%s: %zu rows repeat a subscriptionCode of the same file: the most"
				 " advanced status was kept, the others are in the rejects", name, n);
		}
		PQclear(d);
	}
	if (rc == 0 && res->duplicates > 0)
		rc = recount_after_dedupe(conn, &c, file_id, part, e);
	if (rc == 0 && t == T_SUBSCRIBERS) /* (even none: merge_bss_snapshot reads the table) */
		rc = stage_candidates(conn, &candidates, e);
	if (rc == 0)
		warn_foreign(&c.foreign, name);
	if (rc == 0)
		rc = merge(conn, o->partner ? o->partner : config_activations_partner(cfg), t,
			   file_id, part, l->base, as_of, name, res->loaded, c.out_of_order,
			   c.future, e);
	if (rc == 0) {
		char rd[24], ld[24], rj[24], du[24];
		snprintf(rd, sizeof(rd), "%ld", res->read);
		snprintf(ld, sizeof(ld), "%ld", res->loaded);
		snprintf(rj, sizeof(rj), "%ld", res->rejected);
		snprintf(du, sizeof(du), "%ld", res->duplicates);
		const char *up[] = { file_id, rd, ld, rj, du };
		rc = db_exec(conn, "cannot update the manifest",
			     "update ottrecon.load_file set outcome = 'LOADED', rows_read = $2,"
			     " rows_loaded = $3, rows_rejected = $4, rows_duplicate = $5,"
			     " finished_at = now() where file_id = $1", 5, up, NULL, e);
	}
	/* The reject file is complete before the load commits: a loaded file always has its rejects. */
	if (rc == 0 && c.rejects_open) {
		rc = keep_earlier_rejects(&c, e);
		if (rc == 0)
			rc = atomic_commit(&c.rejects, e);
		c.rejects_open = false;
	} else if (rc == 0) {
		/* one of an earlier, refused attempt (it explains the file in reject/): kept */
		rc = fs_keep_earlier(res->reject_path, NULL, e);
		res->reject_path[0] = '\0';
	}
	if (rc == 0)
		rc = db_commit(conn, e);
	if (rc != 0) {
		if (c.rejects_open)
			atomic_abort(&c.rejects);
		db_rollback(conn);
		return rc;
	}
	res->outcome = LOAD_LOADED;
	return 0;
}
