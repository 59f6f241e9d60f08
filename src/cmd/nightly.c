/* nightly.c: `ottrecon nightly [--as-of D]`: the whole job, step by step, once per database. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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

static const char usage[] =
	"usage: ottrecon nightly [--as-of YYYY-MM-DD]\n"
	"\n"
	"The nightly job: pull (every partner with an sftp block), ingest, reconcile, eligibility,\n"
	"churn, push, and the KPI report of the month (and of the previous month on the first\n"
	"day of a month). Each step runs as its own `ottrecon COMMAND` process with the same\n"
	"configuration and log format; its outcome, duration and counts are logged and recorded\n"
	"(ops.run, ops.step; see `ottrecon status`). A step that fails stops the steps that need\n"
	"it, not the others: an SFTP outage still reconciles what is loaded. Only one nightly runs\n"
	"per database (an advisory lock): a second one exits 75 at once.\n"
	"\n"
	"  --as-of D      the business date (default: today, UTC)\n"
	"\n"
	"exit: the most serious exit of its steps (SPEC §1): 0 all done, 65 a file refused,\n"
	"69 SFTP or database unreachable, 75 another nightly is running, 78 configuration error or\n"
	"schema not migrated, 70 a step crashed\n";

enum outcome { STEP_OK, STEP_FAILED, STEP_SKIPPED };
static const char *const outcome_name[] = { "OK", "FAILED", "SKIPPED" };

struct step_result {
	char name[48];
	enum outcome outcome;
	int exit_code;
	double seconds;
	char detail[256];
};

struct nightly {
	PGconn *conn;
	const struct config *cfg;
	const struct global_opts *g;
	const char *as_of;
	char self[PATH_MAX];
	char run_id[32];
	struct step_result steps[16];
	size_t n_steps;
	int worst;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs `ottrecon [global options] ARGS...` and returns its exit code (70 when it died). */
static int run_child(struct nightly *n, const char *const *args)
{
	const char *argv[32];
	size_t k = 0;
	/* Not n->self: an `ottrecon-nightly` hard link or copy is its own /proc/self/exe, and that
	 * name would dispatch every step to nightly again (argv[0] picks the command). */
	argv[k++] = "ottrecon";
	argv[k++] = "--config";
	argv[k++] = n->cfg->path;
	argv[k++] = "--log-format";
	argv[k++] = n->g->log_format == LOG_JSON ? "json" : "text";
	for (int v = n->g->verbosity; v > 0 && k < 12; v--)
		argv[k++] = "-v";
	for (int v = n->g->verbosity; v < 0 && k < 12; v++)
		argv[k++] = "-q";
	for (size_t i = 0; args[i] && k < 31; i++)
		argv[k++] = args[i];
	argv[k] = NULL;

	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		log_error("cannot start step %s: %s", args[0], strerror(errno));
		return EXIT_SOFTWARE;
	}
	if (pid == 0) {
		/* With JSON logs, stdout would mix tables into the JSON lines a log shipper reads (cron
		 * sends both to one file): a step's results are in its log lines anyway. */
		if (n->g->log_format == LOG_JSON) {
			int null = open("/dev/null", O_WRONLY);
			if (null >= 0) {
				dup2(null, STDOUT_FILENO);
				close(null);
			}
		}
		execv(n->self, (char *const *)argv);
		fprintf(stderr, "ottrecon nightly: cannot run %s: %s\n", n->self, strerror(errno));
		_exit(EXIT_SOFTWARE);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			log_error("cannot wait for step %s: %s", args[0], strerror(errno));
			return EXIT_SOFTWARE;
		}
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	log_error("step %s died of signal %d", args[0], WTERMSIG(status));
	return EXIT_SOFTWARE;
}

/* One query's first value as text ("" when none), for the counts of a step. */
static void query_text(struct nightly *n, const char *sql, int nparams, const char *const *params,
		       char *out, size_t outlen)
{
	struct err e = { 0 };
	PGresult *res = NULL;
	out[0] = '\0';
	if (db_exec(n->conn, "cannot read a step's counts", sql, nparams, params, &res, &e) != 0) {
		log_warn("%s", e.msg);
		return;
	}
	if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
		snprintf(out, outlen, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
}

static void record_step(struct nightly *n, const struct step_result *s)
{
	char exit_s[16], secs[32];
	snprintf(exit_s, sizeof(exit_s), "%d", s->exit_code);
	snprintf(secs, sizeof(secs), "%.3f", s->seconds);
	const char *params[] = { n->run_id, s->name, secs, outcome_name[s->outcome],
				 s->outcome == STEP_SKIPPED ? NULL : exit_s, s->detail };
	struct err e = { 0 };
	if (db_exec(n->conn, "cannot record a nightly step",
		    "insert into ops.step (run_id, step, started_at, finished_at, outcome, exit_code,"
		    " detail) values ($1::bigint, $2, now() - ($3 || ' seconds')::interval, now(), $4,"
		    " $5::int, $6) on conflict (run_id, step) do update set outcome = excluded.outcome,"
		    " exit_code = excluded.exit_code, detail = excluded.detail,"
		    " started_at = excluded.started_at, finished_at = excluded.finished_at",
		    6, params, NULL, &e) != 0)
		log_warn("%s", e.msg);
	if (s->outcome == STEP_SKIPPED)
		log_warn("step=%s outcome=SKIPPED %s", s->name, s->detail);
	else if (s->outcome == STEP_FAILED)
		log_error("step=%s outcome=FAILED exit=%d duration_s=%.1f %s", s->name, s->exit_code,
			  s->seconds, s->detail);
	else
		log_info("step=%s outcome=OK exit=0 duration_s=%.1f %s", s->name, s->seconds,
			 s->detail);
}

static struct step_result *step_add(struct nightly *n, const char *name)
{
	struct step_result *s = &n->steps[n->n_steps < 15 ? n->n_steps++ : 15];
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	return s;
}

static void skip(struct nightly *n, const char *name, const char *why)
{
	struct step_result *s = step_add(n, name);
	s->outcome = STEP_SKIPPED;
	snprintf(s->detail, sizeof(s->detail), "%s", why);
	record_step(n, s);
}

/* Runs one step; counts(n, s, started_epoch) fills s->detail afterwards. */
typedef void counts_fn(struct nightly *n, struct step_result *s, const char *since, long before);

static int step(struct nightly *n, const char *name, const char *const *args, counts_fn *counts,
		long before)
{
	char since[64];
	query_text(n, "select now()::text", 0, NULL, since, sizeof(since));
	log_info("step=%s starting", name);
	double t0 = now_s();
	int rc = run_child(n, args);
	struct step_result *s = step_add(n, name);
	s->seconds = now_s() - t0;
	s->exit_code = rc;
	/* reconcile --fail-on is not used here: 1 would be a real failure too */
	s->outcome = rc == 0 ? STEP_OK : STEP_FAILED;
	if (counts)
		counts(n, s, since, before);
	record_step(n, s);
	n->worst = exit_worst(n->worst, rc);
	return rc;
}

static void counts_pull(struct nightly *n, struct step_result *s, const char *since, long before)
{
	(void)since;
	long after = fs_count_files(n->cfg->spool, "inbox");
	snprintf(s->detail, sizeof(s->detail), "fetched=%ld waiting=%ld",
		 after > before ? after - before : 0, after);
}

static void counts_push(struct nightly *n, struct step_result *s, const char *since, long before)
{
	(void)since;
	long after = fs_count_files(n->cfg->spool, "sent");
	snprintf(s->detail, sizeof(s->detail), "sent=%ld left=%ld", after > before ? after - before : 0,
		 fs_count_files(n->cfg->spool, "outbox"));
}

static void counts_ingest(struct nightly *n, struct step_result *s, const char *since, long before)
{
	(void)before;
	const char *params[] = { since };
	query_text(n, "select format('files=%s loaded=%s refused=%s rows_loaded=%s rows_rejected=%s',"
		   " count(*), count(*) filter (where outcome = 'LOADED'),"
		   " count(*) filter (where outcome = 'REFUSED'), coalesce(sum(rows_loaded), 0),"
		   " coalesce(sum(rows_rejected), 0)) from ottrecon.load_file"
		   " where started_at >= $1::timestamptz", 1, params, s->detail, sizeof(s->detail));
}

static void counts_reconcile(struct nightly *n, struct step_result *s, const char *since,
			     long before)
{
	(void)since, (void)before;
	const char *params[] = { n->as_of };
	query_text(n, "select format('countries=%s new=%s open=%s resolved=%s', count(*),"
		   " coalesce(sum(n_new), 0), coalesce(sum(n_open), 0), coalesce(sum(n_resolved), 0))"
		   " from recon.run where as_of = $1::date", 1, params, s->detail, sizeof(s->detail));
}

static void counts_feed(struct nightly *n, struct step_result *s, const char *since, long before,
			const char *kind)
{
	(void)before;
	const char *params[] = { kind, since };
	query_text(n, "select format('files=%s rows=%s', count(*), coalesce(sum(row_count), 0))"
		   " from feed.file where kind = $1 and recorded_at >= $2::timestamptz", 2, params,
		   s->detail, sizeof(s->detail));
}

static void counts_eligibility(struct nightly *n, struct step_result *s, const char *since,
			       long before)
{
	counts_feed(n, s, since, before, "eligibility");
}

static void counts_churn(struct nightly *n, struct step_result *s, const char *since, long before)
{
	counts_feed(n, s, since, before, "deactivations");
}

/* A failure of ingest that leaves the database unusable for the later steps (65 = some files
 * refused, the others loaded: the later steps still run). */
static bool ingest_blocks(int rc)
{
	return rc != 0 && rc != EXIT_DATA;
}

static void run_steps(struct nightly *n)
{
	const struct config *cfg = n->cfg;
	const char *as_of = n->as_of;
	bool pull_unreachable = false;

	bool any_sftp = false;
	for (size_t i = 0; i < cfg->n_partners; i++) {
		if (!cfg->partners[i].has_sftp)
			continue;
		any_sftp = true;
		char name[48];
		snprintf(name, sizeof(name), "pull:%s", cfg->partners[i].name);
		const char *args[] = { "pull", "--partner", cfg->partners[i].name, NULL };
		int rc = step(n, name, args, counts_pull, fs_count_files(cfg->spool, "inbox"));
		if (rc == EXIT_UNAVAILABLE)
			pull_unreachable = true;
	}
	if (!any_sftp)
		skip(n, "pull", "no partner has an sftp block");

	const char *ingest_args[] = { "ingest", "--as-of", as_of, NULL };
	int ingest_rc = step(n, "ingest", ingest_args, counts_ingest, 0);
	const char *blocked = ingest_blocks(ingest_rc) ? "ingest failed" : NULL;

	const char *recon_args[] = { "reconcile", "--as-of", as_of, NULL };
	/* A date run again after its files were pushed: nothing to write, not an error. */
	const char *elig_args[] = { "eligibility", "--as-of", as_of, "--skip-pushed", NULL };
	const char *churn_args[] = { "churn", "--as-of", as_of, "--skip-pushed", NULL };
	if (blocked) {
		skip(n, "reconcile", blocked);
		skip(n, "eligibility", blocked);
		skip(n, "churn", blocked);
	} else {
		step(n, "reconcile", recon_args, counts_reconcile, 0);
		step(n, "eligibility", elig_args, counts_eligibility, 0);
		step(n, "churn", churn_args, counts_churn, 0);
	}

	/* Push what the outbox holds (also files of earlier runs), unless the partner's server
	 * was just found unreachable: that would only wait through the retries again. */
	for (size_t i = 0; i < cfg->n_partners; i++) {
		if (!cfg->partners[i].has_sftp)
			continue;
		char name[48];
		snprintf(name, sizeof(name), "push:%s", cfg->partners[i].name);
		if (pull_unreachable) {
			skip(n, name, "the partner's SFTP server was unreachable at pull");
			continue;
		}
		const char *args[] = { "push", "--partner", cfg->partners[i].name, NULL };
		step(n, name, args, counts_push, fs_count_files(cfg->spool, "sent"));
	}
	if (!any_sftp)
		skip(n, "push", "no partner has an sftp block");

	/* KPIs: month to date every day; on the 1st also the month just ended. */
	char month[8], prev[8];
	snprintf(month, sizeof(month), "%.7s", as_of);
	int64_t days;
	time_parse_date(as_of, &days);
	char prev_day[16];
	time_format_date(days - 1, prev_day, sizeof(prev_day));
	snprintf(prev, sizeof(prev), "%.7s", prev_day);
	const char *kpi_args[] = { "kpi", "--month", month, NULL };
	const char *kpi_prev_args[] = { "kpi", "--month", prev, NULL };
	if (blocked) {
		skip(n, "kpi", blocked);
	} else {
		if (strcmp(as_of + 8, "01") == 0)
			step(n, "kpi:previous-month", kpi_prev_args, NULL, 0);
		step(n, "kpi", kpi_args, NULL, 0);
	}
}

static void print_summary(const struct nightly *n)
{
	printf("%-22s %-8s %4s %9s  %s\n", "step", "outcome", "exit", "seconds", "counts");
	for (size_t i = 0; i < n->n_steps; i++) {
		const struct step_result *s = &n->steps[i];
		char exit_s[16] = "-";
		if (s->outcome != STEP_SKIPPED)
			snprintf(exit_s, sizeof(exit_s), "%d", s->exit_code);
		printf("%-22s %-8s %4s %9.1f  %s\n", s->name, outcome_name[s->outcome], exit_s,
		       s->seconds, s->detail);
	}
	printf("nightly as of %s: exit %d\n", n->as_of, n->worst);
}

int cmd_nightly(int argc, char **argv, struct global_opts *g)
{
	static const struct option opts[] = {
		GLOBAL_LONG_OPTIONS,
		{ "as-of", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
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
	if ((rc = cmd_make_spool(cfg)) != 0) {
		config_free(cfg);
		return rc;
	}
	char as_of[16];
	time_format_date(days, as_of, sizeof(as_of));
	struct nightly n = { .cfg = cfg, .g = g, .as_of = as_of };
	struct err e = { 0 };
	ssize_t len = readlink("/proc/self/exe", n.self, sizeof(n.self) - 1);
	if (len <= 0) {
		rc = err_set(&e, EXIT_SOFTWARE, "cannot find my own executable: %s", strerror(errno));
	} else {
		n.self[len] = '\0';
		rc = db_connect(cfg->conninfo, &n.conn, &e);
	}
	if (!rc)
		rc = migrate_check_current(n.conn, paths_sql_dir(), &e);
	PGresult *res = NULL;
	if (!rc)
		rc = db_exec(n.conn, "cannot take the nightly lock",
			     "select pg_try_advisory_lock(hashtextextended('ottrecon.nightly', 0))", 0,
			     NULL, &res, &e);
	if (!rc && strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		PQclear(res);
		res = NULL;
		const char *who = NULL;
		if (db_exec(n.conn, "", "select format('pid %s since %s', a.pid,"
			    " date_trunc('second', a.backend_start)) from pg_locks l"
			    " join pg_stat_activity a using (pid) where l.locktype = 'advisory'"
			    " and l.objid = (hashtextextended('ottrecon.nightly', 0) & 4294967295)::oid"
			    " and l.granted limit 1", 0, NULL, &res, &e) == 0 && PQntuples(res) == 1)
			who = PQgetvalue(res, 0, 0);
		err_clear(&e);
		rc = err_set(&e, EXIT_TEMPFAIL, "another nightly is running on this database%s%s%s",
			     who ? " (its connection: " : "", who ? who : "", who ? ")" : "");
	}
	PQclear(res);
	res = NULL;
	if (!rc) {
		char host[256] = "", pid[32];
		gethostname(host, sizeof(host) - 1);
		snprintf(pid, sizeof(pid), "%ld", (long)getpid());
		const char *params[] = { as_of, host, pid };
		rc = db_exec(n.conn, "cannot record the nightly run",
			     "insert into ops.run (command, as_of, host, pid) values ('nightly',"
			     " $1::date, $2, $3::int) returning run_id::text", 3, params, &res, &e);
		if (!rc)
			snprintf(n.run_id, sizeof(n.run_id), "%s", PQgetvalue(res, 0, 0));
		PQclear(res);
	}
	if (rc) {
		log_err(&e);
		db_close(n.conn);
		config_free(cfg);
		return rc;
	}

	log_info("starting run=%s as_of=%s", n.run_id, as_of);
	run_steps(&n);
	char worst[16];
	snprintf(worst, sizeof(worst), "%d", n.worst);
	const char *params[] = { n.run_id, worst };
	if (db_exec(n.conn, "cannot record the end of the nightly run",
		    "update ops.run set finished_at = now(), exit_code = $2::int"
		    " where run_id = $1::bigint", 2, params, NULL, &e) != 0) {
		log_err(&e);
		n.worst = exit_worst(n.worst, e.code);
	}
	if (n.worst == 0)
		log_info("done run=%s as_of=%s exit=0", n.run_id, as_of);
	else
		log_error("done run=%s as_of=%s exit=%d (the most serious exit of its steps)",
			  n.run_id, as_of, n.worst);
	if (g->log_format != LOG_JSON) /* JSON: every line of output is a JSON object */
		print_summary(&n);
	db_close(n.conn);
	config_free(cfg);
	return cmd_finish_stdout(n.worst);
}
