/* status.c: `ottrecon status`: recent files, last runs, files waiting and refused, open
 * discrepancies, and how old the newest partner file is. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "config/config.h"
#include "core/err.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/strbuf.h"
#include "db/db.h"

static const char usage[] =
	"usage: ottrecon status\n"
	"\n"
	"Shows the files waiting in the spool (inbox, bss, outbox), the last 10 files loaded or\n"
	"refused (with their rows read, loaded and rejected), the last nightly run and its steps,\n"
	"the last 5 reconcile runs, the files refused in the last 7 days, the open discrepancies\n"
	"(NEW and OPEN in the latest run of each country) by category, and the age of the newest\n"
	"partner file loaded, with a warning when it is more than a day old: a silent partner is\n"
	"an incident.\n"
	"\n"
	"exit: 0 shown, 64 usage, 69 database unreachable, 78 configuration error or schema not\n"
	"migrated\n";

/* Prints a query's rows as a table: a header line, then one line per row (columns padded). */
static int print_query(PGconn *conn, const char *title, const char *sql, int nparams,
		       const char *const *params, const int *widths, const char *none,
		       struct err *e)
{
	PGresult *res = NULL;
	int rc = db_exec(conn, title, sql, nparams, params, &res, e);
	if (rc)
		return rc;
	printf("\n%s\n", title);
	if (PQntuples(res) == 0) {
		printf("  %s\n", none);
		PQclear(res);
		return 0;
	}
	int nf = PQnfields(res);
	printf(" ");
	for (int c = 0; c < nf; c++)
		printf(" %-*s", widths[c], PQfname(res, c));
	printf("\n");
	for (int r = 0; r < PQntuples(res); r++) {
		printf(" ");
		for (int c = 0; c < nf; c++)
			printf(" %-*s", widths[c], PQgetisnull(res, r, c) ? "-" : PQgetvalue(res, r, c));
		printf("\n");
	}
	PQclear(res);
	return 0;
}

static int show(PGconn *conn, const struct config *cfg, struct err *e)
{
	printf("spool %s: inbox %ld, bss %ld, outbox %ld waiting; reject %ld\n", cfg->spool,
	       fs_count_files(cfg->spool, "inbox"), fs_count_files(cfg->spool, "bss"),
	       fs_count_files(cfg->spool, "outbox"), fs_count_files(cfg->spool, "reject"));

	static const int w_files[] = { 36, 20, 10, 8, 9, 9, 9, 20 };
	int rc = print_query(conn, "recent files (the last 10 loaded or refused):",
			     "select name, layout, coalesce(as_of::text, '') as as_of, outcome,"
			     " rows_read::text as read, rows_loaded::text as loaded,"
			     " rows_rejected::text as rejected,"
			     " to_char(coalesce(finished_at, started_at) at time zone 'UTC',"
			     " 'YYYY-MM-DD HH24:MI:SS\"Z\"') as at"
			     " from ottrecon.load_file order by file_id desc limit 10",
			     0, NULL, w_files, "none", e);
	if (rc)
		return rc;

	PGresult *res = NULL;
	rc = db_exec(conn, "cannot read the last nightly run",
		     "select run_id::text, as_of::text,"
		     " to_char(started_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS\"Z\"'),"
		     " coalesce(to_char(finished_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS\"Z\"'),"
		     " 'not finished'), coalesce(exit_code::text, '-')"
		     " from ops.run order by run_id desc limit 1", 0, NULL, &res, e);
	if (rc)
		return rc;
	if (PQntuples(res) == 0) {
		printf("\nlast nightly: never run\n");
	} else {
		printf("\nlast nightly: run %s as of %s, started %s, finished %s, exit %s\n",
		       PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2),
		       PQgetvalue(res, 0, 3), PQgetvalue(res, 0, 4));
		const char *params[] = { PQgetvalue(res, 0, 0) };
		static const int w[] = { 20, 8, 4, 8, 40 };
		rc = print_query(conn, "its steps:",
				 "select step, outcome, coalesce(exit_code::text, '-') as exit,"
				 " round(extract(epoch from finished_at - started_at), 1)::text as seconds,"
				 " coalesce(detail, '') as counts from ops.step where run_id = $1::bigint"
				 " order by started_at, step", 1, params, w, "(no steps recorded)", e);
	}
	PQclear(res);
	if (rc)
		return rc;

	static const int w_runs[] = { 7, 10, 6, 6, 8, 14, 20 };
	rc = print_query(conn, "recent reconcile runs (the last 5):",
			 "select country_code as country, as_of::text as as_of, n_new::text as new,"
			 " n_open::text as open, n_resolved::text as resolved,"
			 " amount_at_risk::numeric(14,2)::text as amount_at_risk,"
			 " coalesce(to_char(finished_at at time zone 'UTC',"
			 " 'YYYY-MM-DD HH24:MI:SS\"Z\"'), 'not finished') as finished"
			 " from recon.run order by coalesce(finished_at, started_at) desc, run_id desc"
			 " limit 5", 0, NULL, w_runs, "none", e);
	if (rc)
		return rc;

	static const int w_ref[] = { 36, 18, 20, 40 };
	rc = print_query(conn, "files refused in the last 7 days:",
			 "select name, layout, to_char(started_at at time zone 'UTC',"
			 " 'YYYY-MM-DD HH24:MI:SS\"Z\"') as at, coalesce(reason, '') as reason"
			 " from ottrecon.load_file where outcome = 'REFUSED'"
			 " and started_at > now() - interval '7 days' order by started_at desc limit 20",
			 0, NULL, w_ref, "none", e);
	if (rc)
		return rc;

	static const int w_disc[] = { 7, 10, 32, 6, 6, 14 };
	rc = print_query(conn, "open discrepancies (latest run of each country):",
			 "with latest as (select distinct on (country_code) run_id, country_code, as_of"
			 " from recon.run order by country_code, as_of desc)"
			 " select l.country_code as country, l.as_of::text as as_of, i.category,"
			 " count(*) filter (where i.state = 'NEW')::text as new,"
			 " count(*) filter (where i.state = 'OPEN')::text as open,"
			 " sum(i.amount_at_risk)::numeric(14,2)::text as amount_at_risk"
			 " from latest l join recon.item i using (run_id) where i.state <> 'RESOLVED'"
			 " group by l.country_code, l.as_of, i.category"
			 " order by l.country_code collate \"C\", i.category collate \"C\"",
			 0, NULL, w_disc, "none", e);
	if (rc)
		return rc;

	rc = db_exec(conn, "cannot read the newest partner file",
		     "select name, to_char(finished_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS\"Z\"'),"
		     " round(extract(epoch from now() - finished_at) / 3600, 1)::text,"
		     " now() - finished_at > interval '1 day'"
		     " from ottrecon.load_file where layout = 'docomo_activations'"
		     " and outcome = 'LOADED' order by finished_at desc limit 1", 0, NULL, &res, e);
	if (rc)
		return rc;
	if (PQntuples(res) == 0) {
		printf("\nnewest partner file: none loaded yet\n");
		log_warn("no partner file was ever loaded");
	} else {
		printf("\nnewest partner file: %s, loaded %s (%s hours ago)\n", PQgetvalue(res, 0, 0),
		       PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2));
		if (strcmp(PQgetvalue(res, 0, 3), "t") == 0) {
			printf("WARNING: the newest partner file is more than a day old\n");
			log_warn("the newest partner file (%s) was loaded %s hours ago: is the partner"
				 " sending files?", PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 2));
		}
	}
	PQclear(res);
	return 0;
}

int cmd_status(int argc, char **argv, struct global_opts *g)
{
	static const struct option opts[] = {
		GLOBAL_LONG_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	int opt, opt_exit;
	while ((opt = cmd_next_option(argc, argv, GLOBAL_SHORT_OPTIONS, opts, g, usage,
				      &opt_exit)) != -1) {
		if (opt == CMD_OPT_EXIT)
			return opt_exit;
		return cmd_usage_error(g, usage, "unknown option");
	}
	if (optind < argc)
		return cmd_usage_error(g, usage, "unexpected argument '%s'", argv[optind]);

	struct config *cfg = NULL;
	int rc = cmd_load_config(g, true, &cfg);
	if (rc)
		return rc;
	struct err e = { 0 };
	PGconn *conn = NULL;
	rc = cmd_connect(cfg, &conn, &e);
	if (!rc)
		rc = show(conn, cfg, &e);
	if (rc)
		log_err(&e);
	db_close(conn);
	config_free(cfg);
	return cmd_finish_stdout(rc);
}
