/* cmd.h: the commands (one cmd_<name>() per file in src/cmd/) and what they share. */
#ifndef OTTRECON_CMD_H
#define OTTRECON_CMD_H

#include <getopt.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/log.h"

struct config;

/* Options given before the command (and accepted after it too). */
struct global_opts {
	const char *config_arg;     /* --config FILE, or NULL */
	enum log_format log_format; /* --log-format text|json */
	int verbosity;              /* -v +1, -q -1 */
	const char *command;        /* the command's name ("validate") */
};

/* getopt_long entries for the global options; a command's option table starts with these. */
enum { OPT_CONFIG = 1000, OPT_LOG_FORMAT, OPT_HELP, OPT_VERSION };
#define GLOBAL_LONG_OPTIONS \
	{ "config", required_argument, NULL, OPT_CONFIG }, \
	{ "log-format", required_argument, NULL, OPT_LOG_FORMAT }, \
	{ "verbose", no_argument, NULL, 'v' }, \
	{ "quiet", no_argument, NULL, 'q' }, \
	{ "help", no_argument, NULL, 'h' }, \
	{ "version", no_argument, NULL, OPT_VERSION }
#define GLOBAL_SHORT_OPTIONS "vqh"

/* Handles a global option met by a command's getopt loop: returns 1 when handled, 0 when opt is
 * not a global option, or -1 (usage error already printed) for a bad value. */
int global_option(struct global_opts *g, int opt, const char *arg);

/* Prints "ottrecon VERSION" to stdout (--version, on every command too): returns 0, or
 * EXIT_IOERR when stdout could not be written. */
int cmd_print_version(void);

/*
 * The head of a command's option loop: getopt_long with shortopts (GLOBAL_SHORT_OPTIONS and the
 * command's own), the global options handled, --help printing usage and --version the version.
 * Returns the command's next option, -1 after the last, or CMD_OPT_EXIT when the command must
 * return *exit_code now (an unknown option, a missing value or a bad global option: 64, the
 * usage error printed; --help and --version: 0).
 *
 *     while ((opt = cmd_next_option(argc, argv, GLOBAL_SHORT_OPTIONS, opts, g, usage, &rc)) != -1) {
 *             if (opt == CMD_OPT_EXIT)
 *                     return rc;
 *             switch (opt) { ... }
 *     }
 */
enum { CMD_OPT_EXIT = -2 };
int cmd_next_option(int argc, char **argv, const char *shortopts, const struct option *opts,
		    struct global_opts *g, const char *usage, int *exit_code);

/*
 * Loads the configuration the global options name (SPEC §1). required=false lets a command run
 * on built-in defaults when no file was named and the default path does not exist (validate).
 * Errors are logged; returns 0 or EXIT_CONFIG.
 */
int cmd_load_config(const struct global_opts *g, bool required, struct config **out);

/* Makes the spool's directories (SPEC §2: inbox/ archive/ reject/ outbox/ sent/ bss/ reports/)
 * for a command that works in it. Errors are logged; returns 0 or EXIT_IOERR. */
int cmd_make_spool(const struct config *cfg);

/* cmd_load_config(g, true, out), then --country CC (when *country is not NULL) must be a
 * configured country, matched whatever its case; *country then points to the configured
 * spelling (in *out). A usage error otherwise (printed, EXIT_USAGE, *out NULL). */
int cmd_load_config_country(const struct global_opts *g, const char *usage, const char **country,
			    struct config **out);

/* --as-of D: D (YYYY-MM-DD) as days since 1970-01-01 into *days; a bad date is a usage error
 * (printed: returns EXIT_USAGE), else 0. */
int cmd_parse_as_of(const struct global_opts *g, const char *usage, const char *arg,
		    int64_t *days);

/* Connects to the configured database and checks that every migration is applied: 0, 69
 * (unreachable) or 78 (not migrated, naming `ottrecon db migrate`), with e set. */
struct err;
int cmd_connect(const struct config *cfg, PGconn **conn, struct err *e);

/* Prints "ottrecon <cmd>: <msg>" and the usage hint, returns EXIT_USAGE. */
int cmd_usage_error(const struct global_opts *g, const char *usage, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Flushes and closes stdout, checking for write errors (git's run_builtin): returns code, or
 * EXIT_IOERR when stdout could not be written. */
int cmd_finish_stdout(int code);

/* pull and push: their shared options, then run(cfg, partner, dry_run, sftp options). */
struct partner_config;
struct tp_sftp_opts;
typedef int (*xfer_cmd_run_fn)(const struct config *cfg, const struct partner_config *p,
			       bool dry_run, const struct tp_sftp_opts *so);
int cmd_xfer_main(int argc, char **argv, struct global_opts *g, const char *usage,
		  xfer_cmd_run_fn run);

/* eligibility and churn: their shared options, then feed_run() (kind: enum feed_kind). */
int cmd_feed_main(int argc, char **argv, struct global_opts *g, const char *usage, int kind);

int cmd_validate(int argc, char **argv, struct global_opts *g);
int cmd_db(int argc, char **argv, struct global_opts *g);
int cmd_load(int argc, char **argv, struct global_opts *g);
int cmd_ingest(int argc, char **argv, struct global_opts *g);
int cmd_pull(int argc, char **argv, struct global_opts *g);
int cmd_push(int argc, char **argv, struct global_opts *g);
int cmd_reconcile(int argc, char **argv, struct global_opts *g);
int cmd_eligibility(int argc, char **argv, struct global_opts *g);
int cmd_churn(int argc, char **argv, struct global_opts *g);
int cmd_kpi(int argc, char **argv, struct global_opts *g);
int cmd_nightly(int argc, char **argv, struct global_opts *g);
int cmd_status(int argc, char **argv, struct global_opts *g);

#endif
