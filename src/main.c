/* main.c: the command table: name -> cmd_*(), global options, and argv[0] dispatch. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buildconf.h"
#include "cmd/cmd.h"
#include "config/config.h"
#include "core/err.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/paths.h"
#include "core/strbuf.h"
#include "core/timeutil.h"
#include "db/db.h"
#include "db/migrate.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv, struct global_opts *g);
	const char *summary;
};

static const struct command commands[] = {
	{ "churn", cmd_churn, "churn [--as-of D] [--country CC] [--force]: write the early-churn file" },
	{ "db", cmd_db, "db migrate | db status: apply / show sql/ migrations" },
	{ "eligibility", cmd_eligibility, "eligibility [--as-of D] [--country CC] [--full|--delta]: write the eligibility file" },
	{ "ingest", cmd_ingest, "ingest [--as-of D]: load everything waiting in spool/inbox and spool/bss" },
	{ "kpi", cmd_kpi, "kpi --month YYYY-MM [--country CC]: write the monthly KPI report" },
	{ "load", cmd_load, "load --layout NAME [--as-of D] [--force] FILE...: load files" },
	{ "nightly", cmd_nightly, "nightly [--as-of D]: pull, ingest, reconcile, eligibility, churn, push, reports" },
	{ "pull", cmd_pull, "pull [--partner P] [--dry-run]: fetch new partner files into spool/inbox" },
	{ "push", cmd_push, "push [--partner P] [--dry-run]: upload spool/outbox to the partner" },
	{ "reconcile", cmd_reconcile, "reconcile [--as-of D] [--country CC] [--fail-on new|any]: reconcile and report" },
	{ "status", cmd_status, "status: recent files and runs, files waiting and refused, open discrepancies" },
	{ "validate", cmd_validate, "validate --layout NAME FILE...: check files; no database needed" },
};

static const char main_usage[] =
	"usage: ottrecon [--config FILE] [--log-format text|json] [-v|-q] COMMAND [ARGS]\n"
	"       ottrecon --version | --help\n";

static void print_help(FILE *out)
{
	fputs(main_usage, out);
	fputs("\ncommands:\n", out);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-11s %s\n", commands[i].name, commands[i].summary);
	fputs("\nconfiguration: --config FILE, else $OTTRECON_CONFIG, else /etc/ottrecon/ottrecon.yaml\n"
	      "`ottrecon COMMAND --help` shows a command's options; see README.md.\n", out);
}

int global_option(struct global_opts *g, int opt, const char *arg)
{
	switch (opt) {
	case OPT_CONFIG:
		g->config_arg = arg;
		return 1;
	case OPT_LOG_FORMAT:
		if (strcmp(arg, "text") == 0)
			g->log_format = LOG_TEXT;
		else if (strcmp(arg, "json") == 0)
			g->log_format = LOG_JSON;
		else {
			fprintf(stderr, "ottrecon: --log-format must be text or json, not '%s'\n", arg);
			return -1;
		}
		log_init(g->log_format, g->verbosity, g->command);
		return 1;
	case 'v':
		g->verbosity++;
		log_init(g->log_format, g->verbosity, g->command);
		return 1;
	case 'q':
		g->verbosity--;
		log_init(g->log_format, g->verbosity, g->command);
		return 1;
	default:
		return 0;
	}
}

/* The one usage error message: one JSON line with --log-format json (SPEC §1), else the message
 * and the usage text (usage NULL: before the command is known, the command list). */
static int usage_error(const struct global_opts *g, const char *usage, const char *fmt,
		       va_list ap)
{
	char msg[1024];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	const char *cmd = usage && g->command ? g->command : "";
	if (g->log_format == LOG_JSON) {
		log_error("%s (see `ottrecon%s%s --help`)", msg, *cmd ? " " : "", cmd);
		return EXIT_USAGE;
	}
	fprintf(stderr, "ottrecon%s%s: %s\n", *cmd ? " " : "", cmd, msg);
	if (!usage) {
		print_help(stderr);
		return EXIT_USAGE;
	}
	fprintf(stderr, "%s(see `ottrecon %s --help`)\n", usage, cmd);
	return EXIT_USAGE;
}

int cmd_usage_error(const struct global_opts *g, const char *usage, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = usage_error(g, usage, fmt, ap);
	va_end(ap);
	return rc;
}

int cmd_load_config(const struct global_opts *g, bool required, struct config **out)
{
	bool explicit_path;
	const char *path = config_path(g->config_arg, &explicit_path);
	struct err e = { 0 };

	*out = NULL;
	if (!required && !explicit_path && access(path, F_OK) != 0) {
		log_debug("no configuration file at %s: using built-in defaults", path);
		*out = config_defaults();
		return 0;
	}
	if (config_load(path, out, &e) != 0) {
		log_err(&e);
		return e.code ? e.code : EXIT_CONFIG;
	}
	struct stat st;
	if (config_has_secret(*out) && stat(path, &st) == 0 && (st.st_mode & S_IROTH))
		log_warn("%s holds a database password and is readable by others (mode %04o):"
			 " chmod o-r it, or keep the password in ~/.pgpass", path,
			 (unsigned)(st.st_mode & 07777));
	return 0;
}

int cmd_make_spool(const struct config *cfg)
{
	static const char *const subdirs[] = { "inbox", "archive", "reject", "outbox", "sent",
					       "bss", "reports" };
	struct strbuf dir = STRBUF_INIT;
	struct err e = { 0 };
	int rc = 0;
	for (size_t i = 0; !rc && i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
		strbuf_reset(&dir);
		strbuf_addf(&dir, "%s/%s", cfg->spool, subdirs[i]);
		rc = fs_mkdirs(dir.buf, 0750, &e);
	}
	strbuf_release(&dir);
	if (rc)
		log_err(&e);
	return rc;
}

int cmd_load_config_country(const struct global_opts *g, const char *usage, const char **country,
			    struct config **out)
{
	int rc = cmd_load_config(g, true, out);
	if (rc || !*country)
		return rc;
	const struct country_config *c = config_country(*out, *country);
	if (c) {
		*country = c->code; /* matched whatever its case: the rows carry this spelling */
		return 0;
	}
	config_free(*out);
	*out = NULL;
	return cmd_usage_error(g, usage, "country '%s' is not configured", *country);
}

int cmd_next_option(int argc, char **argv, const char *shortopts, const struct option *opts,
		    struct global_opts *g, const char *usage, int *exit_code)
{
	/* A leading ':' tells a missing value from an unknown option; getopt prints nothing, so
	 * that the usage error below is the one message (a JSON line with --log-format json). */
	char colon_opts[128];
	snprintf(colon_opts, sizeof(colon_opts), ":%s", shortopts);
	opterr = 0;
	for (;;) {
		int opt = getopt_long(argc, argv, colon_opts, opts, NULL);
		if (opt == -1)
			return -1;
		if (opt == ':' || opt == '?') {
			const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
			if (opt == ':')
				*exit_code = cmd_usage_error(g, usage, "option '%s' needs a value", arg);
			else if (strncmp(arg, "--", 2) != 0 && optopt > 0 && optopt < 128)
				*exit_code = cmd_usage_error(g, usage, "unknown option '-%c'", optopt);
			else
				*exit_code = cmd_usage_error(g, usage, "unknown option '%s'", arg);
			return CMD_OPT_EXIT;
		}
		int r = global_option(g, opt, optarg);
		if (r > 0)
			continue;
		if (r < 0) {
			*exit_code = EXIT_USAGE;
			return CMD_OPT_EXIT;
		}
		if (opt == 'h') {
			fputs(usage, stdout);
			*exit_code = cmd_finish_stdout(EXIT_OK);
			return CMD_OPT_EXIT;
		}
		if (opt == OPT_VERSION) {
			*exit_code = cmd_print_version();
			return CMD_OPT_EXIT;
		}
		return opt;
	}
}

int cmd_print_version(void)
{
	printf("ottrecon %s\n", OTTRECON_VERSION);
	return cmd_finish_stdout(EXIT_OK);
}

int cmd_parse_as_of(const struct global_opts *g, const char *usage, const char *arg,
		    int64_t *days)
{
	if (time_parse_date(arg, days) != NULL)
		return cmd_usage_error(g, usage, "--as-of must be a date YYYY-MM-DD, not '%s'", arg);
	return 0;
}

int cmd_connect(const struct config *cfg, PGconn **conn, struct err *e)
{
	int rc = db_connect(cfg->conninfo, conn, e);
	if (!rc)
		rc = migrate_check_current(*conn, paths_sql_dir(), e);
	return rc;
}

int cmd_finish_stdout(int code)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		log_error("cannot write to standard output");
		return exit_worst(code, EXIT_IOERR);
	}
	return code;
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static int run_command(const struct command *c, int argc, char **argv, struct global_opts *g)
{
	g->command = c->name;
	log_init(g->log_format, g->verbosity, c->name);
	optind = 0; /* GNU getopt: 0 re-initialises it for the command's own argv */
	return c->fn(argc, argv, g);
}

/* A usage error before the command is known (see usage_error). */
static int top_usage_error(const struct global_opts *g, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int top_usage_error(const struct global_opts *g, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = usage_error(g, NULL, fmt, ap);
	va_end(ap);
	return rc;
}

int main(int argc, char **argv)
{
	struct global_opts g = { .log_format = LOG_TEXT, .verbosity = 0, .command = "ottrecon" };
	log_init(LOG_TEXT, 0, "ottrecon");

	/* ottrecon-<command>: a link to this binary dispatching on argv[0]. */
	const char *base = fs_basename(argv[0]);
	if (strncmp(base, "ottrecon-", 9) == 0) {
		const struct command *c = find_command(base + 9);
		if (!c) {
			fprintf(stderr, "ottrecon: unknown command '%s' (from %s)\n", base + 9, base);
			return EXIT_USAGE;
		}
		return run_command(c, argc, argv, &g);
	}

	static const struct option opts[] = {
		GLOBAL_LONG_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	int opt;
	opterr = 0; /* the messages are ours (one JSON line with --log-format json) */
	/* '+' stops at the first non-option: the command name; ':' tells a missing value. */
	while ((opt = getopt_long(argc, argv, "+:" GLOBAL_SHORT_OPTIONS, opts, NULL)) != -1) {
		int r = global_option(&g, opt, optarg);
		if (r < 0)
			return EXIT_USAGE;
		if (r > 0)
			continue;
		switch (opt) {
		case 'h':
			print_help(stdout);
			return cmd_finish_stdout(EXIT_OK);
		case OPT_VERSION:
			return cmd_print_version();
		case ':':
			return top_usage_error(&g, "option '%s' needs a value", argv[optind - 1]);
		default:
			return top_usage_error(&g, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return top_usage_error(&g, "no command given");
	const struct command *c = find_command(argv[optind]);
	if (!c)
		return top_usage_error(&g, "unknown command '%s'", argv[optind]);
	return run_command(c, argc - optind, argv + optind, &g);
}
