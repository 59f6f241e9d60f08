/* xfer_cmd.c: the command line pull and push share ([--partner P] [--dry-run]
 * [--accept-new-hostkey]), and running one of them against the partner it names. */
#include <stdio.h>

#include "cmd/cmd.h"
#include "config/config.h"
#include "core/err.h"
#include "core/log.h"
#include "transport/xfer.h"

int cmd_xfer_main(int argc, char **argv, struct global_opts *g, const char *usage,
		  xfer_cmd_run_fn run)
{
	enum { OPT_PARTNER = 2000, OPT_DRY_RUN, OPT_ACCEPT };
	static const struct option opts[] = {
		GLOBAL_LONG_OPTIONS,
		{ "partner", required_argument, NULL, OPT_PARTNER },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "accept-new-hostkey", no_argument, NULL, OPT_ACCEPT },
		{ NULL, 0, NULL, 0 },
	};
	const char *partner = NULL;
	bool dry_run = false;
	struct tp_sftp_opts so = { 0 };
	int opt, opt_exit;
	while ((opt = cmd_next_option(argc, argv, GLOBAL_SHORT_OPTIONS, opts, g, usage,
				      &opt_exit)) != -1) {
		if (opt == CMD_OPT_EXIT)
			return opt_exit;
		switch (opt) {
		case OPT_PARTNER:
			partner = optarg;
			break;
		case OPT_DRY_RUN:
			dry_run = true;
			break;
		case OPT_ACCEPT:
			so.accept_new_hostkey = true;
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
	const struct partner_config *p = NULL;
	struct err e = { 0 };
	if ((rc = xfer_partner(cfg, partner, &p, &e)) != 0)
		log_err(&e);
	else if (dry_run || (rc = cmd_make_spool(cfg)) == 0)
		rc = run(cfg, p, dry_run, &so);
	config_free(cfg);
	return cmd_finish_stdout(rc);
}
