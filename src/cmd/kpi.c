/* kpi.c: `ottrecon kpi --month YYYY-MM [--country CC]` (SPEC §6: kpi_<YYYYMM>.csv). */
#include <ctype.h>
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
#include "report/csvquery.h"

static const char usage[] =
	"usage: ottrecon kpi --month YYYY-MM [--country CC]\n"
	"\n"
	"Writes SPOOL/reports/kpi_<YYYYMM>.csv: per country, service and family, the month's sales,\n"
	"associations, association rate, subscriptions in their free period, paying and bundled,\n"
	"the postpaid base and penetration, and deactivations by source (SPEC §6), computed from\n"
	"everything loaded so far with every status as of the month's last day. A past month can be\n"
	"recomputed at any time; late files change its figures. The same figures are in the SQL\n"
	"view report.kpi_monthly.\n"
	"\n"
	"  --month M       the month (YYYY-MM)\n"
	"  --country CC    only this configured country\n"
	"\n"
	"exit: 0 written, 64 usage, 69 database unreachable, 78 configuration error or schema not\n"
	"migrated\n";

static const char kpi_sql[] =
	"select month, country, service_type, family, sales::text, associations::text,"
	" association_rate::text, free_period::text, paying::text, bundled::text,"
	" postpaid_base::text, penetration::text, deactivations::text, deactivations_user::text,"
	" deactivations_telco::text, deactivations_partner::text"
	" from report.kpi($1::date) where $2::text is null or country = $2"
	" order by country collate \"C\", service_type collate \"C\", family collate \"C\"";
static const char *const kpi_header[] = {
	"month", "country", "service_type", "family", "sales", "associations", "association_rate",
	"free_period", "paying", "bundled", "postpaid_base", "penetration", "deactivations",
	"deactivations_user", "deactivations_telco", "deactivations_partner",
};

/* "2026-11" -> true, and first_day = "2026-11-01". */
static bool parse_month(const char *s, char first_day[11])
{
	if (strlen(s) != 7 || s[4] != '-')
		return false;
	for (int i = 0; i < 7; i++)
		if (i != 4 && !isdigit((unsigned char)s[i]))
			return false;
	snprintf(first_day, 11, "%.7s-01", s);
	int64_t days;
	return time_parse_date(first_day, &days) == NULL;
}

int cmd_kpi(int argc, char **argv, struct global_opts *g)
{
	static const struct option opts[] = {
		GLOBAL_LONG_OPTIONS,
		{ "month", required_argument, NULL, 'm' },
		{ "country", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const char *country = NULL;
	char first_day[11] = "";
	int opt, opt_exit;

	while ((opt = cmd_next_option(argc, argv, GLOBAL_SHORT_OPTIONS, opts, g, usage,
				      &opt_exit)) != -1) {
		if (opt == CMD_OPT_EXIT)
			return opt_exit;
		switch (opt) {
		case 'm':
			if (!parse_month(optarg, first_day))
				return cmd_usage_error(g, usage, "--month must be YYYY-MM, not '%s'", optarg);
			break;
		case 'c':
			country = optarg;
			break;
		default:
			return cmd_usage_error(g, usage, "unknown option");
		}
	}
	if (optind < argc)
		return cmd_usage_error(g, usage, "unexpected argument '%s'", argv[optind]);
	if (!first_day[0])
		return cmd_usage_error(g, usage, "--month is required");

	struct config *cfg = NULL;
	int rc = cmd_load_config_country(g, usage, &country, &cfg);
	if (rc)
		return rc;
	if ((rc = cmd_make_spool(cfg)) != 0) {
		config_free(cfg);
		return rc;
	}

	struct err e = { 0 };
	PGconn *conn = NULL;
	struct strbuf dir = STRBUF_INIT, path = STRBUF_INIT;
	strbuf_addf(&dir, "%s/reports", cfg->spool);
	strbuf_addf(&path, "%s/kpi_%.4s%.2s.csv", dir.buf, first_day, first_day + 5);
	long long rows = 0;
	rc = cmd_connect(cfg, &conn, &e);
	if (!rc)
		rc = fs_mkdirs(dir.buf, 0750, &e);
	/* The KPIs read the configuration as saved in conf.*: save this one first. */
	if (!rc)
		rc = db_begin(conn, &e);
	if (!rc)
		rc = recon_load_config(conn, cfg, &e);
	if (!rc)
		rc = db_commit(conn, &e);
	if (!rc) {
		const char *params[] = { first_day, country };
		rc = csvq_write(conn, "cannot compute the KPIs", kpi_sql, 2, params, path.buf,
				kpi_header, sizeof(kpi_header) / sizeof(kpi_header[0]), &rows, &e);
	}
	if (!rc) {
		log_info("wrote file=%s rows=%lld month=%.7s", path.buf, rows, first_day);
		printf("%s rows=%lld\n", path.buf, rows);
	} else {
		db_rollback(conn);
		log_err(&e);
	}
	strbuf_release(&dir);
	strbuf_release(&path);
	db_close(conn);
	config_free(cfg);
	return cmd_finish_stdout(rc);
}
