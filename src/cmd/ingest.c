/* ingest.c: `ottrecon ingest [--as-of D]`: load everything waiting in spool/inbox (partner files
 * matching a partner's pattern) and spool/bss (BSS exports, layout from the name prefix), oldest
 * first, moving loaded files to spool/archive and refused ones to spool/reject (SPEC §4, §8). */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "config/config.h"
#include "core/err.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/paths.h"
#include "core/strbuf.h"
#include "core/timeutil.h"
#include "db/db.h"
#include "layout/layout.h"
#include "load/loader.h"

static const char usage[] =
	"usage: ottrecon ingest [--as-of YYYY-MM-DD]\n"
	"\n"
	"Loads every file waiting in SPOOL/inbox (activation files matching a partner's pattern,\n"
	"loaded in that partner's activations_mode) and SPOOL/bss (bss_subscribers*, bss_addons*,\n"
	"bss_churn*), in the order of the YYYYMMDD in their names, then by name. Loaded files move\n"
	"to SPOOL/archive, refused ones to SPOOL/reject (with their .rejects.csv). Nothing is\n"
	"deleted.\n"
	"\n"
	"  --as-of D   the date recorded for files without a YYYYMMDD in their names (default today)\n"
	"\n"
	"exit: 0 all loaded, 65 a file was refused (the others still load), 69 database unreachable,\n"
	"75 another ingest is running, 78 configuration error\n";

static const char *const bss_layouts[] = { "bss_subscribers", "bss_addons", "bss_churn" };
#define DEFAULT_PATTERN "activations_*.csv" /* SPEC §2: sftp.pattern when absent */

struct waiting {
	char *path;
	const char *name;      /* within path */
	const char *layout;
	int64_t date;          /* YYYYMMDD of the name, else the default as-of */
	const struct partner_config *partner; /* activations: the partner whose pattern matched */
};

static int cmp_waiting(const void *a, const void *b)
{
	const struct waiting *x = a, *y = b;
	if (x->date != y->date)
		return x->date < y->date ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* The partner (of cfg, or NULL for the default pattern without partners) whose pattern name
 * matches; returns 0 when one does. Pull fetches for every partner with an sftp block into the
 * one inbox, so a file of any of them is an activations file (SPEC §8). */
static int match_partner(const struct config *cfg, const char *name,
			 const struct partner_config **out)
{
	*out = NULL;
	for (size_t i = 0; i < cfg->n_partners; i++) {
		const struct partner_config *p = &cfg->partners[i];
		const char *pattern = p->sftp.pattern ? p->sftp.pattern : DEFAULT_PATTERN;
		if (fnmatch(pattern, name, 0) == 0) {
			*out = p;
			return 0;
		}
	}
	return cfg->n_partners == 0 && fnmatch(DEFAULT_PATTERN, name, 0) == 0 ? 0 : -1;
}

/* Adds the regular files of dir that fit: activations files of a partner (inbox) or BSS exports
 * by their name prefix (bss). */
static int scan_dir(const char *dir, const struct config *cfg, bool inbox, int64_t default_date,
		    struct waiting **list, size_t *n, size_t *cap, struct err *e)
{
	DIR *d = opendir(dir);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		return err_set(e, EXIT_IOERR, "cannot read directory '%s': %s", dir, strerror(errno));
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		const char *name = de->d_name;
		if (name[0] == '.')
			continue; /* ., .., and temporary files of writers */
		size_t len = strlen(name);
		if (len >= 5 && strcmp(name + len - 5, ".part") == 0) {
			/* pull's download in progress (SPEC §7), even when the pattern matches it
			 * ("activations_*", "*"): loading it would load half a file. The same for
			 * a BSS export still being copied under the usual .part name. */
			log_debug("ignoring %s/%s: a download in progress", dir, name);
			continue;
		}
		const char *layout = NULL;
		const struct partner_config *partner = NULL;
		if (inbox) {
			if (match_partner(cfg, name, &partner) == 0)
				layout = "docomo_activations";
		} else {
			/* SPEC §8: the layout is the name's prefix, whatever follows it
			 * (bss_subscribers.csv, bss_addons-XX-20261203.csv, bss_churn_XX_...). */
			for (size_t i = 0; i < sizeof(bss_layouts) / sizeof(bss_layouts[0]); i++)
				if (strncmp(name, bss_layouts[i], strlen(bss_layouts[i])) == 0)
					layout = bss_layouts[i];
		}
		struct strbuf path = STRBUF_INIT;
		strbuf_addf(&path, "%s/%s", dir, name);
		struct stat st;
		if (stat(path.buf, &st) != 0 || !S_ISREG(st.st_mode)) {
			strbuf_release(&path);
			continue;
		}
		if (!layout) {
			log_debug("ignoring %s: not a file ingest knows", path.buf);
			strbuf_release(&path);
			continue;
		}
		if (*n == *cap) {
			*cap = *cap ? 2 * *cap : 16;
			*list = xrealloc(*list, *cap * sizeof(**list));
		}
		struct waiting *w = &(*list)[(*n)++];
		w->path = strbuf_detach(&path);
		w->name = fs_basename(w->path);
		w->layout = layout;
		w->partner = partner;
		if (time_date_from_name(w->name, &w->date) != 0)
			w->date = default_date;
	}
	closedir(d);
	return 0;
}

/* Sets out to the first of name, name.1, name.2, ... such that neither DIR/that nor
 * DIR/that.rejects.csv exists: a refused file and its rejects never replace earlier ones. */
static void free_name(const char *dir, const char *name, struct strbuf *out)
{
	struct strbuf p = STRBUF_INIT;
	strbuf_reset(out);
	strbuf_adds(out, name);
	for (int i = 1;; i++) {
		strbuf_reset(&p);
		strbuf_addf(&p, "%s/%s", dir, out->buf);
		if (access(p.buf, F_OK) != 0) {
			strbuf_adds(&p, ".rejects.csv");
			if (access(p.buf, F_OK) != 0)
				break;
		}
		strbuf_reset(out);
		strbuf_addf(out, "%s.%d", name, i);
	}
	strbuf_release(&p);
}

/* Moves path into dir as name (NULL: its own name); a name already there gets ".1", ".2", ... */
static int move_into(const char *path, const char *dir, const char *name, struct err *e)
{
	int rc = fs_mkdirs(dir, 0750, e);
	if (rc)
		return rc;
	if (!name)
		name = fs_basename(path);
	struct strbuf dest = STRBUF_INIT, to = STRBUF_INIT;
	strbuf_addf(&dest, "%s/%s", dir, name);
	fs_free_name(dest.buf, &to);
	strbuf_release(&dest);
	if (rename(path, to.buf) != 0)
		rc = err_set(e, EXIT_IOERR, "cannot move '%s' to '%s': %s", path, to.buf,
			     strerror(errno));
	else
		rc = fs_fsync_dir(dir, e);
	if (rc == 0)
		log_info("moved %s to %s", path, to.buf);
	strbuf_release(&to);
	return rc;
}

static int ingest_all(PGconn *conn, const struct config *cfg, int64_t default_date)
{
	struct strbuf inbox = STRBUF_INIT, bss = STRBUF_INIT, archive = STRBUF_INIT,
		      reject = STRBUF_INIT;
	strbuf_addf(&inbox, "%s/inbox", cfg->spool);
	strbuf_addf(&bss, "%s/bss", cfg->spool);
	strbuf_addf(&archive, "%s/archive", cfg->spool);
	strbuf_addf(&reject, "%s/reject", cfg->spool);

	struct waiting *list = NULL;
	size_t n = 0, cap = 0;
	struct err e = { 0 };
	int rc = scan_dir(inbox.buf, cfg, true, default_date, &list, &n, &cap, &e);
	if (rc == 0)
		rc = scan_dir(bss.buf, cfg, false, default_date, &list, &n, &cap, &e);
	if (rc)
		log_err(&e);
	if (n)
		qsort(list, n, sizeof(*list), cmp_waiting);
	if (rc == 0 && n == 0)
		log_info("nothing waiting in %s or %s", inbox.buf, bss.buf);

	long loaded = 0, already = 0, refused = 0;
	struct strbuf stem = STRBUF_INIT; /* the name a refused file and its rejects take */
	for (size_t i = 0; i < n && rc != EXIT_UNAVAILABLE && rc != EXIT_SOFTWARE; i++) {
		struct waiting *w = &list[i];
		struct layout *l = NULL;
		err_clear(&e);
		free_name(reject.buf, w->name, &stem);
		int frc = layout_load(paths_schemas_dir(), w->layout, &l, &e);
		struct load_result res = { 0 };
		if (frc == 0) {
			struct load_opts o = { .have_as_of = true, .as_of = w->date,
					       .reject_dir = reject.buf, .reject_name = stem.buf,
					       .partner = w->partner };
			frc = load_file(conn, cfg, l, w->path, &o, &res, &e);
			layout_free(l);
		}
		if (frc == 0) {
			if (res.outcome == LOAD_ALREADY)
				already++;
			else {
				loaded++;
				log_info("loaded file=%s layout=%s file_id=%lld read=%ld loaded=%ld"
					 " rejected=%ld duplicates=%ld", w->name, w->layout, res.file_id,
					 res.read, res.loaded, res.rejected, res.duplicates);
			}
			err_clear(&e);
			if (move_into(w->path, archive.buf, NULL, &e) != 0) {
				log_err(&e);
				frc = EXIT_IOERR;
			}
		} else {
			log_err(&e);
			if (res.outcome == LOAD_REFUSED) {
				refused++;
				err_clear(&e);
				if (move_into(w->path, reject.buf, stem.buf, &e) != 0)
					log_err(&e);
			}
		}
		rc = exit_worst(rc, frc);
	}
	if (n)
		log_info("%zu file(s): %ld loaded, %ld already loaded, %ld refused", n, loaded,
			 already, refused);
	for (size_t i = 0; i < n; i++)
		free(list[i].path);
	free(list);
	strbuf_release(&inbox);
	strbuf_release(&bss);
	strbuf_release(&stem);
	strbuf_release(&archive);
	strbuf_release(&reject);
	return rc;
}

int cmd_ingest(int argc, char **argv, struct global_opts *g)
{
	static const struct option opts[] = {
		GLOBAL_LONG_OPTIONS,
		{ "as-of", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	int64_t as_of = time_today_utc();
	int opt, opt_exit;
	while ((opt = cmd_next_option(argc, argv, GLOBAL_SHORT_OPTIONS, opts, g, usage,
				      &opt_exit)) != -1) {
		if (opt == CMD_OPT_EXIT)
			return opt_exit;
		switch (opt) {
		case 'a':
			if (cmd_parse_as_of(g, usage, optarg, &as_of) != 0)
				return EXIT_USAGE;
			break;
		default:
			return cmd_usage_error(g, usage, "unknown option");
		}
	}
	if (optind < argc)
		return cmd_usage_error(g, usage, "unexpected argument '%s'", argv[optind]);

	struct config *cfg = NULL;
	int rc = cmd_load_config(g, true, &cfg);
	if (rc)
		return rc;
	if ((rc = cmd_make_spool(cfg)) != 0) {
		config_free(cfg);
		return rc;
	}
	struct err e = { 0 };
	PGconn *conn = NULL;
	rc = cmd_connect(cfg, &conn, &e);
	PGresult *res = NULL;
	if (rc == 0)
		rc = db_exec(conn, "cannot take the ingest lock",
			     "select pg_try_advisory_lock(hashtextextended('ottrecon.ingest', 7))", 0,
			     NULL, &res, &e);
	if (rc == 0 && strcmp(PQgetvalue(res, 0, 0), "t") != 0)
		rc = err_set(&e, EXIT_TEMPFAIL, "another ingest is running on this database");
	PQclear(res);
	if (rc)
		log_err(&e);
	else
		rc = ingest_all(conn, cfg, as_of);
	db_close(conn);
	config_free(cfg);
	return cmd_finish_stdout(rc);
}
