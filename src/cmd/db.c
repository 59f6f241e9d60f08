/* cmd/db.c: `ottrecon db migrate` applies the sql/ migrations; `ottrecon db status` lists them. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "config/config.h"
#include "core/err.h"
#include "core/log.h"
#include "core/paths.h"
#include "db/db.h"
#include "db/migrate.h"

static const char db_usage[] =
	"usage: ottrecon db migrate|status [--config FILE] [--log-format text|json] [-v|-q]\n";

static const char db_help[] =
	"\n"
	"  migrate   apply every pending migration of sql/, in version order, each in its own\n"
	"            transaction (under an advisory lock, so two migrators cannot race)\n"
	"  status    list the migrations: applied (with when), pending, or changed (applied, but\n"
	"            the file differs from what was applied), then the counts\n"
	"\n"
	"The database is the configuration's database.conninfo; the migrations are read from\n"
	"<datadir>/sql ($OTTRECON_DATADIR overrides the data directory).\n";

static int db_migrate(PGconn *conn, const char *sql_dir)
{
	struct err e = { 0 };
	int applied = 0;
	int rc = migrate_apply(conn, sql_dir, &applied, &e);
	if (rc) {
		log_err(&e);
		if (applied)
			log_info("%d migration%s applied before the failure", applied,
				 applied == 1 ? " was" : "s were");
		return rc;
	}
	if (applied == 0)
		log_info("nothing to apply: the database schema is up to date");
	else
		log_info("applied %d migration%s: the database schema is up to date", applied,
			 applied == 1 ? "" : "s");
	return EXIT_OK;
}

static int db_status(PGconn *conn, const char *sql_dir)
{
	struct err e = { 0 };
	struct migration *m = NULL;
	size_t n = 0, applied = 0, pending = 0;
	int rc = migrate_list(sql_dir, &m, &n, &e);
	if (!rc)
		rc = migrate_read_state(conn, m, n, &e);
	if (rc) {
		migrate_free(m, n); /* migrate_list leaves m NULL when it fails */
		log_err(&e);
		return rc;
	}
	for (size_t i = 0; i < n; i++) {
		if (!m[i].applied) {
			pending++;
			printf("pending  %s\n", m[i].name);
			continue;
		}
		applied++;
		printf("%s  %s  %s\n", m[i].changed ? "changed" : "applied", m[i].name, m[i].applied_at);
		if (m[i].changed)
			log_warn("migration %s has changed since it was applied on %s (its SHA-256 differs)",
				 m[i].name, m[i].applied_at);
	}
	printf("%zu applied, %zu pending\n", applied, pending);
	migrate_free(m, n);
	return EXIT_OK;
}

int cmd_db(int argc, char **argv, struct global_opts *g)
{
	static const struct option opts[] = {
		GLOBAL_LONG_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	int opt;
	opterr = 0; /* our messages, not getopt's */
	while ((opt = getopt_long(argc, argv, ":" GLOBAL_SHORT_OPTIONS, opts, NULL)) != -1) {
		int r = global_option(g, opt, optarg);
		if (r < 0)
			return EXIT_USAGE;
		if (r > 0)
			continue;
		switch (opt) {
		case 'h':
		case OPT_HELP:
			fputs(db_usage, stdout);
			fputs(db_help, stdout);
			return cmd_finish_stdout(EXIT_OK);
		case OPT_VERSION:
			return cmd_print_version();
		case ':':
			return cmd_usage_error(g, db_usage, "option '%s' needs a value", argv[optind - 1]);
		default:
			if (optopt)
				return cmd_usage_error(g, db_usage, "unknown option '-%c'", optopt);
			return cmd_usage_error(g, db_usage, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cmd_usage_error(g, db_usage, "missing subcommand: migrate or status");
	const char *sub = argv[optind];
	bool migrate = strcmp(sub, "migrate") == 0;
	if (!migrate && strcmp(sub, "status") != 0)
		return cmd_usage_error(g, db_usage, "unknown subcommand '%s' (migrate or status)", sub);
	if (optind + 1 < argc)
		return cmd_usage_error(g, db_usage, "unexpected argument '%s'", argv[optind + 1]);

	struct config *cfg = NULL;
	int rc = cmd_load_config(g, true, &cfg);
	if (rc)
		return rc;

	struct err e = { 0 };
	PGconn *conn = NULL;
	rc = db_connect(cfg->conninfo, &conn, &e);
	if (rc)
		log_err(&e);
	else if (migrate)
		rc = db_migrate(conn, paths_sql_dir());
	else
		rc = db_status(conn, paths_sql_dir());
	db_close(conn);
	config_free(cfg);
	return cmd_finish_stdout(rc);
}
