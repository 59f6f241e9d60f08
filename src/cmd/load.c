/* load.c: `ottrecon load --layout NAME [--as-of D] [--force] FILE...`: load files of one layout, in
 * the order given, leaving them where they are (SPEC §1, §4). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "config/config.h"
#include "core/err.h"
#include "core/log.h"
#include "core/paths.h"
#include "core/strbuf.h"
#include "db/db.h"
#include "layout/layout.h"
#include "load/loader.h"

static const char usage[] =
	"usage: ottrecon load --layout NAME [--as-of YYYY-MM-DD] [--force] FILE...\n"
	"\n"
	"Loads files of one layout (docomo_activations, bss_subscribers, bss_addons, bss_churn)\n"
	"into the database, in the order given, and leaves them where they are. Each file loads\n"
	"whole or not at all; rejected rows go to SPOOL/reject/<file>.rejects.csv; a file whose\n"
	"content was loaded before is skipped.\n"
	"\n"
	"  --layout NAME   the file layout\n"
	"  --as-of D       the date recorded for the files (a BSS snapshot's date); default: the\n"
	"                  YYYYMMDD in each file's name\n"
	"  --force         load a file even though another file of the same name was loaded\n"
	"\n"
	"exit: 0 loaded (or already loaded), 65 a file refused, 66 a file cannot be opened,\n"
	"69 database unreachable, 78 configuration error\n";

int cmd_load(int argc, char **argv, struct global_opts *g)
{
	static const struct option opts[] = {
		GLOBAL_LONG_OPTIONS,
		{ "layout", required_argument, NULL, 'l' },
		{ "as-of", required_argument, NULL, 'a' },
		{ "force", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	const char *layout_name = NULL;
	struct load_opts o = { 0 };
	int opt, opt_exit;

	while ((opt = cmd_next_option(argc, argv, GLOBAL_SHORT_OPTIONS "l:", opts, g, usage,
				      &opt_exit)) != -1) {
		if (opt == CMD_OPT_EXIT)
			return opt_exit;
		switch (opt) {
		case 'l':
			layout_name = optarg;
			break;
		case 'a':
			if (cmd_parse_as_of(g, usage, optarg, &o.as_of) != 0)
				return EXIT_USAGE;
			o.have_as_of = true;
			break;
		case 'f':
			o.force = true;
			break;
		default:
			return cmd_usage_error(g, usage, "unknown option");
		}
	}
	if (!layout_name)
		return cmd_usage_error(g, usage, "--layout NAME is required");
	if (optind >= argc)
		return cmd_usage_error(g, usage, "no FILE given");

	struct err e = { 0 };
	struct layout *l = NULL;
	int rc = layout_load(paths_schemas_dir(), layout_name, &l, &e);
	if (rc) {
		log_err(&e);
		return rc;
	}
	if (!load_layout_supported(l)) {
		layout_free(l);
		return cmd_usage_error(g, usage, "layout '%s' is written by ottrecon, not loaded",
				       layout_name);
	}
	struct config *cfg = NULL;
	if ((rc = cmd_load_config(g, true, &cfg)) != 0 || (rc = cmd_make_spool(cfg)) != 0) {
		config_free(cfg);
		layout_free(l);
		return rc;
	}
	struct strbuf reject_dir = STRBUF_INIT;
	strbuf_addf(&reject_dir, "%s/reject", cfg->spool);
	o.reject_dir = reject_dir.buf;

	PGconn *conn = NULL;
	rc = cmd_connect(cfg, &conn, &e);
	if (rc) {
		log_err(&e);
		goto out;
	}

	for (int i = optind; i < argc; i++) {
		struct load_result res;
		err_clear(&e);
		int frc = load_file(conn, cfg, l, argv[i], &o, &res, &e);
		if (frc == 0 && res.outcome == LOAD_LOADED) {
			log_info("loaded file=%s layout=%s file_id=%lld read=%ld loaded=%ld rejected=%ld"
				 " duplicates=%ld%s%s", argv[i], l->name, res.file_id, res.read,
				 res.loaded, res.rejected, res.duplicates,
				 res.reject_path[0] ? " rejects=" : "", res.reject_path);
		} else if (frc != 0) {
			log_err(&e);
			if (res.outcome == LOAD_REFUSED && res.read > 0)
				log_info("refused file=%s read=%ld rejected=%ld%s%s", argv[i], res.read,
					 res.rejected, res.reject_path[0] ? " rejects=" : "",
					 res.reject_path);
		}
		rc = exit_worst(rc, frc);
		if (frc == EXIT_UNAVAILABLE || frc == EXIT_SOFTWARE)
			break; /* the connection is gone or something is wrong: stop here */
	}
out:
	db_close(conn);
	strbuf_release(&reject_dir);
	config_free(cfg);
	layout_free(l);
	return cmd_finish_stdout(rc);
}
