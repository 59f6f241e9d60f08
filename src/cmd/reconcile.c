/* reconcile.c: `ottrecon reconcile [--as-of D] [--country CC] [--fail-on new|any]` (SPEC §5, §6). */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "config/config.h"
#include "core/err.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/strbuf.h"
#include "core/timeutil.h"
#include "db/db.h"
#include "recon/recon.h"
#include "report/recon_report.h"

static const char usage[] =
	"usage: ottrecon reconcile [--as-of YYYY-MM-DD] [--country CC] [--fail-on new|any]\n"
	"\n"
	"Reconciles partner subscriptions against BSS add-ons and subscribers as of the end of a\n"
	"UTC day, per configured country (SPEC §5); running again for the same country and date\n"
	"replaces that run. Writes SPOOL/reports/discrepancies_<CC>_<YYYYMMDD>.csv per country and\n"
	"SPOOL/reports/recon_summary_<YYYYMMDD>.csv, and prints new / open / resolved counts and\n"
	"the amount at risk per country and category.\n"
	"\n"
	"  --as-of D        the date reconciled (default: today, UTC)\n"
	"  --country CC     only this configured country\n"
	"  --fail-on new    exit 1 when a discrepancy is NEW\n"
	"  --fail-on any    exit 1 when a discrepancy is NEW or OPEN\n"
	"\n"
	"exit: 0 done (discrepancies found is still success), 1 --fail-on matched, 64 usage,\n"
	"69 database unreachable, 78 configuration error or schema not migrated\n";

enum fail_on { FAIL_NEVER, FAIL_NEW, FAIL_ANY };

/* Runs every country asked for in one transaction and writes the reports. */
static int run(PGconn *conn, const struct config *cfg, const char *as_of, const char *country,
	       struct err *e)
{
	struct strbuf dir = STRBUF_INIT;
	strbuf_addf(&dir, "%s/reports", cfg->spool);
	int rc = fs_mkdirs(dir.buf, 0750, e);
	/* The reports sort all of a run's discrepancies: in memory rather than on disk. */
	if (!rc)
		rc = db_exec(conn, "cannot set work_mem", "set work_mem = '256MB'", 0, NULL, NULL, e);
	if (!rc)
		rc = db_begin(conn, e);
	/* Two reconciles at once would race on the runs they replace: the second waits. */
	if (!rc)
		rc = db_exec(conn, "cannot take the reconcile lock",
			     "select pg_advisory_xact_lock(hashtextextended('ottrecon.reconcile', 0))",
			     0, NULL, NULL, e);
	if (!rc)
		rc = recon_load_config(conn, cfg, e);
	for (size_t i = 0; !rc && i < cfg->n_countries; i++) {
		const char *cc = cfg->countries[i].code;
		if (country && strcmp(country, cc) != 0)
			continue;
		rc = recon_run_country(conn, cfg, cc, as_of, e);
	}
	if (!rc)
		rc = db_commit(conn, e);
	else
		db_rollback(conn);
	for (size_t i = 0; !rc && i < cfg->n_countries; i++) {
		const char *cc = cfg->countries[i].code;
		if (!country || strcmp(country, cc) == 0)
			rc = report_write_discrepancies(conn, dir.buf, cc, as_of, cfg->mask_pii, e);
	}
	if (!rc)
		rc = report_write_summary(conn, dir.buf, as_of, e);
	if (!rc)
		log_info("reports written dir=%s", dir.buf);
	strbuf_release(&dir);
	return rc;
}

int cmd_reconcile(int argc, char **argv, struct global_opts *g)
{
	static const struct option opts[] = {
		GLOBAL_LONG_OPTIONS,
		{ "as-of", required_argument, NULL, 'a' },
		{ "country", required_argument, NULL, 'c' },
		{ "fail-on", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	const char *country = NULL;
	enum fail_on fail_on = FAIL_NEVER;
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
			country = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "new") == 0)
				fail_on = FAIL_NEW;
			else if (strcmp(optarg, "any") == 0)
				fail_on = FAIL_ANY;
			else
				return cmd_usage_error(g, usage, "--fail-on must be new or any, not '%s'",
						       optarg);
			break;
		default:
			return cmd_usage_error(g, usage, "unknown option");
		}
	}
	if (optind < argc)
		return cmd_usage_error(g, usage, "unexpected argument '%s'", argv[optind]);

	struct config *cfg = NULL;
	int rc = cmd_load_config_country(g, usage, &country, &cfg);
	if (rc)
		return rc;
	if ((rc = cmd_make_spool(cfg)) != 0) {
		config_free(cfg);
		return rc;
	}
	char as_of[16];
	time_format_date(days, as_of, sizeof(as_of));

	struct err e = { 0 };
	PGconn *conn = NULL;
	long long n_new = 0, n_open = 0;
	rc = cmd_connect(cfg, &conn, &e);
	if (!rc)
		rc = run(conn, cfg, as_of, country, &e);
	if (!rc)
		rc = report_print_table(conn, stdout, as_of, country, &n_new, &n_open, &e);
	if (rc)
		log_err(&e);
	else if ((fail_on == FAIL_NEW && n_new > 0) ||
		 (fail_on == FAIL_ANY && n_new + n_open > 0))
		rc = EXIT_DISCREPANCY;
	db_close(conn);
	config_free(cfg);
	return cmd_finish_stdout(rc);
}
