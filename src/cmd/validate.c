/* validate.c: `ottrecon validate --layout NAME FILE...`: parse and check files, no database.
 * Rejected rows go to stdout as CSV (file,line,column,reason,raw), one count line per file to
 * stderr; exit 0 when every file would load, 65 when one would be refused, 66 when one cannot be
 * opened (SPEC §1, §8). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "config/config.h"
#include "core/err.h"
#include "core/log.h"
#include "core/paths.h"
#include "core/strbuf.h"
#include "layout/csvout.h"
#include "layout/dupkeys.h"
#include "layout/layout.h"
#include "layout/reader.h"

static const char usage[] =
	"usage: ottrecon validate --layout NAME [--max-reject-ratio R] FILE...\n"
	"\n"
	"Parses and checks files against a layout of schemas/ (docomo_activations, bss_subscribers,\n"
	"bss_addons, bss_churn, docomo_eligibility, docomo_deactivations). Writes the rejected rows\n"
	"to stdout as CSV (file,line,column,reason,raw) and one line per file to stderr:\n"
	"FILE: read=N loaded=N rejected=N. Needs no database; writes and moves nothing else.\n"
	"\n"
	"  --layout NAME            the file layout\n"
	"  --max-reject-ratio R     refuse a file whose rejected rows exceed R of rows read\n"
	"                           (default: recon.max_reject_ratio of the config, else 0.01)\n"
	"\n"
	"exit: 0 every file would load, 65 a file would be refused, 66 a file cannot be opened\n";

struct validate_ctx {
	const char *file; /* as given on the command line */
	int write_error;
	/* repeated primary keys (SPEC §3.1): found in memory, reported after the first pass */
	const struct layout *l;
	struct dupkeys *dk;
	struct strbuf key;
	int f_active, f_pending, f_unsubscribed;
	char reason[128];
	const char *column;
};

/* Status rank of an activation row judged on all its dates (SPEC §3.1); 0 for other layouts. */
static int row_rank(const struct validate_ctx *c, const char *const *v)
{
	if (c->f_unsubscribed >= 0 && v[c->f_unsubscribed])
		return 3;
	if (c->f_pending >= 0 && v[c->f_pending])
		return 2;
	if (c->f_active >= 0 && v[c->f_active])
		return 1;
	return 0;
}

static int on_row(void *vctx, const struct reader_row *row)
{
	struct validate_ctx *c = vctx;
	if (!c->dk)
		return 0;
	strbuf_reset(&c->key);
	for (size_t k = 0; k < c->l->n_primary_key; k++) {
		const char *v = row->values[c->l->primary_key[k]];
		strbuf_adds(&c->key, v ? v : "");
		strbuf_addc(&c->key, '\x1f');
	}
	dupkeys_add(c->dk, c->key.buf, c->key.len, row->line, row_rank(c, row->values));
	return 0;
}

static int on_duplicate(void *vctx, long line, const char *raw, size_t raw_len)
{
	struct validate_ctx *c = vctx;
	if (csv_write_reject(stdout, c->file, line, c->column, c->reason, raw, raw_len) != 0)
		return EXIT_IOERR;
	return 0;
}

static int on_reject(void *vctx, const struct reader_reject *rej)
{
	struct validate_ctx *ctx = vctx;
	if (csv_write_reject(stdout, ctx->file, rej->line, rej->column, rej->reason, rej->raw,
			     rej->raw_len) != 0) {
		ctx->write_error = 1;
		return EXIT_IOERR;
	}
	return 0;
}

/* Validates one file; returns its exit code (0, 65, 66, or 74 when stdout fails). */
static int validate_file(const struct layout *l, const char *file, double max_ratio)
{
	struct validate_ctx ctx = { .file = file, .l = l };
	struct reader_callbacks cb = { .row = on_row, .reject = on_reject };
	struct reader_stats st;
	struct err e = { 0 };

	int fd = open(file, O_RDONLY | O_CLOEXEC);
	struct stat fst;
	if (fd >= 0 && fstat(fd, &fst) == 0 && S_ISDIR(fst.st_mode)) {
		/* open() takes a directory, and reading it would fail (EISDIR) with exit 74 */
		close(fd);
		fd = -1;
		errno = EISDIR;
	}
	if (fd < 0) {
		log_error("cannot open '%s': %s", file, strerror(errno));
		/* SPEC §1: one count line per file, this one too (nothing read) */
		fprintf(stderr, "%s: read=0 loaded=0 rejected=0\n", file);
		return EXIT_NOINPUT;
	}
	if (l->n_primary_key > 0) {
		ctx.dk = dupkeys_new();
		ctx.f_active = layout_field_index(l, "dateActive");
		ctx.f_pending = layout_field_index(l, "datePendingUnsubscription");
		ctx.f_unsubscribed = layout_field_index(l, "dateUnsubscribed");
		ctx.column = l->fields[l->primary_key[0]].name;
		snprintf(ctx.reason, sizeof(ctx.reason), "duplicate %s", ctx.column);
	}
	int rc = reader_read_fd(l, fd, file, &cb, &ctx, &st, &e);
	close(fd);
	long duplicates = 0;
	if (rc == 0 && ctx.dk) {
		size_t n;
		const long *lines = dupkeys_losers(ctx.dk, &n);
		if (n > 0)
			rc = reader_rescan(l, file, file, lines, n, on_duplicate, &ctx, &e);
		duplicates = (long)n;
		st.rejected += duplicates;
		st.loaded -= duplicates;
	}
	dupkeys_free(ctx.dk);
	strbuf_release(&ctx.key);

	/* The count line is plain text whatever --log-format says (SPEC §8). */
	fprintf(stderr, "%s: read=%ld loaded=%ld rejected=%ld\n", file, st.read, st.loaded,
		st.rejected);
	if (rc != 0) {
		log_err(&e);
		return rc;
	}
	if (reader_over_reject_ratio(st.read, st.rejected, duplicates, max_ratio)) {
		log_error("%s: would be refused: %ld of %ld rows rejected, over max_reject_ratio %g",
			  file, st.rejected - duplicates, st.read, max_ratio);
		return EXIT_DATA;
	}
	return 0;
}

int cmd_validate(int argc, char **argv, struct global_opts *g)
{
	static const struct option opts[] = {
		GLOBAL_LONG_OPTIONS,
		{ "layout", required_argument, NULL, 'l' },
		{ "max-reject-ratio", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	const char *layout_name = NULL;
	const char *ratio_arg = NULL;
	int opt, opt_exit;

	while ((opt = cmd_next_option(argc, argv, GLOBAL_SHORT_OPTIONS "l:", opts, g, usage,
				      &opt_exit)) != -1) {
		if (opt == CMD_OPT_EXIT)
			return opt_exit;
		switch (opt) {
		case 'l':
			layout_name = optarg;
			break;
		case 'r':
			ratio_arg = optarg;
			break;
		default:
			return cmd_usage_error(g, usage, "unknown option");
		}
	}
	if (!layout_name)
		return cmd_usage_error(g, usage, "--layout NAME is required");
	if (optind >= argc)
		return cmd_usage_error(g, usage, "no FILE given");

	struct config *cfg = NULL;
	int rc = cmd_load_config(g, false, &cfg);
	if (rc)
		return rc;
	double max_ratio = cfg->recon.max_reject_ratio;
	config_free(cfg);
	if (ratio_arg) {
		char *end;
		errno = 0;
		max_ratio = strtod(ratio_arg, &end);
		if (errno || end == ratio_arg || *end || max_ratio < 0 || max_ratio > 1)
			return cmd_usage_error(g, usage,
					       "--max-reject-ratio must be a number from 0 to 1, not '%s'",
					       ratio_arg);
	}

	struct layout *l = NULL;
	struct err e = { 0 };
	if ((rc = layout_load(paths_schemas_dir(), layout_name, &l, &e)) != 0) {
		log_err(&e);
		return rc;
	}

	if (fputs("file,line,column,reason,raw\n", stdout) == EOF) {
		layout_free(l);
		return cmd_finish_stdout(EXIT_IOERR);
	}
	int worst = EXIT_OK;
	for (int i = optind; i < argc; i++)
		worst = exit_worst(worst, validate_file(l, argv[i], max_ratio));
	layout_free(l);
	return cmd_finish_stdout(worst);
}
