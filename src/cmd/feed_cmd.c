/* feed_cmd.c: what `eligibility` and `churn` share: options, connection, feed_run(). */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "config/config.h"
#include "core/err.h"
#include "core/timeutil.h"
#include "db/db.h"
#include "feed/feed.h"

int cmd_feed_main(int argc, char **argv, struct global_opts *g, const char *usage, int kind)
{
	static const struct option opts[] = {
		GLOBAL_LONG_OPTIONS,
		{ "as-of", required_argument, NULL, 'a' },
		{ "country", required_argument, NULL, 'c' },
		{ "full", no_argument, NULL, 'F' },
		{ "delta", no_argument, NULL, 'D' },
		{ "force", no_argument, NULL, 'f' },
		{ "skip-pushed", no_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	struct feed_opts o = { .kind = (enum feed_kind)kind, .mode = FEED_MODE_AUTO };
	int64_t days = time_today_utc();
	int opt, opt_exit;

	while ((opt = cmd_next_option(argc, argv, GLOBAL_SHORT_OPTIONS, opts, g, usage,
				      &opt_exit)) != -1) {
		if (opt == CMD_OPT_EXIT)
			return opt_exit;
		switch (opt) {
		case 'a':
			if (cmd_parse_as_of(g, usage, optarg, &days) != 0)
				return EXIT_USAGE;
			break;
		case 'c':
			o.country = optarg;
			break;
		case 'F':
		case 'D':
			if (o.kind != FEED_ELIGIBILITY)
				return cmd_usage_error(g, usage, "unknown option '%s'",
						       opt == 'F' ? "--full" : "--delta");
			if (o.mode != FEED_MODE_AUTO)
				return cmd_usage_error(g, usage, "--full and --delta exclude each other");
			o.mode = opt == 'F' ? FEED_MODE_FULL : FEED_MODE_DELTA;
			break;
		case 'f':
			o.force = true;
			break;
		case 'S':
			o.skip_pushed = true;
			break;
		default:
			return cmd_usage_error(g, usage, "unknown option");
		}
	}
	if (optind < argc)
		return cmd_usage_error(g, usage, "unexpected argument '%s'", argv[optind]);

	struct config *cfg = NULL;
	int rc = cmd_load_config_country(g, usage, &o.country, &cfg);
	if (rc)
		return rc;
	if ((rc = cmd_make_spool(cfg)) != 0) {
		config_free(cfg);
		return rc;
	}
	char as_of[16];
	time_format_date(days, as_of, sizeof(as_of));
	o.as_of = as_of;

	struct err e = { 0 };
	PGconn *conn = NULL;
	int worst = 0;
	rc = cmd_connect(cfg, &conn, &e);
	if (!rc)
		rc = feed_run(conn, cfg, &o, stdout, &worst, &e);
	if (rc)
		log_err(&e);
	db_close(conn);
	config_free(cfg);
	return cmd_finish_stdout(exit_worst(rc, worst));
}
