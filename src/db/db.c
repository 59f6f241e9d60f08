/* db.c: the PostgreSQL connection (libpq): connect with safe defaults, run statements, map errors. */
#include "db/db.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"

/* Length of s without its trailing whitespace (libpq messages end with "\n"). */
static size_t trimmed_len(const char *s)
{
	size_t n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	return n;
}

/* Server notices (NOTICE, WARNING...) go through our log instead of libpq's raw stderr printer. */
static void notice_receiver(void *arg, const PGresult *res)
{
	(void)arg;
	const char *sev = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
	const char *msg = PQresultErrorMessage(res);
	int n = (int)trimmed_len(msg);
	if (sev && strcmp(sev, "WARNING") == 0)
		log_warn("server: %.*s", n, msg);
	else
		log_debug("server: %.*s", n, msg);
}

/* A conninfo that libpq would read as key=value pairs or a URI (not a bare database name) must
 * parse. libpq's parse message may quote a fragment of it (a password in a URI), so it is not shown. */
static int check_conninfo(const char *conninfo, struct err *e)
{
	if (!strchr(conninfo, '=') && strncmp(conninfo, "postgresql://", 13) != 0 &&
	    strncmp(conninfo, "postgres://", 11) != 0)
		return 0;
	char *errmsg = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo, &errmsg);
	PQfreemem(errmsg);
	if (opts) {
		PQconninfoFree(opts);
		return 0;
	}
	err_set(e, EXIT_CONFIG, "database.conninfo is not a valid libpq connection string");
	err_hint(e, "write key=value pairs (\"host=db1 dbname=ottrecon\") or a postgresql:// URI");
	return EXIT_CONFIG;
}

/* The session must be UTC and UTF8 (SPEC §1) even when the user's conninfo set other options. */
static int force_session_settings(PGconn *conn, struct err *e)
{
	const char *tz = PQparameterStatus(conn, "TimeZone");
	if (!tz || (strcmp(tz, "UTC") != 0 && strcmp(tz, "Etc/UTC") != 0)) {
		log_debug("session time zone is %s: setting it to UTC", tz ? tz : "unknown");
		int rc = db_exec(conn, "cannot set the session time zone", "set time zone 'UTC'", 0,
				 NULL, NULL, e);
		if (rc)
			return rc;
	}
	const char *enc = PQparameterStatus(conn, "client_encoding");
	if ((!enc || strcmp(enc, "UTF8") != 0) && PQsetClientEncoding(conn, "UTF8") != 0)
		return err_set(e, EXIT_SOFTWARE, "cannot set the client encoding to UTF8");
	return 0;
}

int db_connect(const char *conninfo, PGconn **out, struct err *e)
{
	const char *keys[8], *vals[8];
	int k = 0;

	*out = NULL;
	/* Ours first, the user's conninfo last: with expand_dbname its settings override ours. */
	if (!getenv("PGCONNECT_TIMEOUT")) {
		keys[k] = "connect_timeout";
		vals[k++] = "10";
	}
	keys[k] = "fallback_application_name";
	vals[k++] = "ottrecon";
	keys[k] = "options";
	vals[k++] = "-c TimeZone=UTC";
	keys[k] = "client_encoding";
	vals[k++] = "UTF8";
	if (conninfo && conninfo[0]) {
		keys[k] = "dbname";
		vals[k++] = conninfo;
	}
	keys[k] = NULL;
	vals[k] = NULL;
	if (conninfo && check_conninfo(conninfo, e))
		return EXIT_CONFIG;

	PGconn *conn = PQconnectdbParams(keys, vals, 1);
	if (!conn)
		return err_set(e, EXIT_UNAVAILABLE, "cannot connect to the database: out of memory");
	if (PQstatus(conn) != CONNECTION_OK) {
		/* PQerrorMessage never repeats the conninfo, so a password in it cannot leak here. */
		const char *msg = PQerrorMessage(conn);
		err_set(e, EXIT_UNAVAILABLE, "cannot connect to the database: %.*s",
			(int)trimmed_len(msg), msg);
		PQfinish(conn);
		return EXIT_UNAVAILABLE;
	}
	PQsetNoticeReceiver(conn, notice_receiver, NULL);
	int rc = force_session_settings(conn, e);
	if (rc) {
		PQfinish(conn);
		return rc;
	}
	log_debug("connected to database \"%s\" on %s (server %d)", PQdb(conn),
		  PQhost(conn) ? PQhost(conn) : "default host", PQserverVersion(conn));
	*out = conn;
	return 0;
}

void db_close(PGconn *conn)
{
	if (conn)
		PQfinish(conn);
}

/* Sets e from a failed result (or, when res is NULL, from the connection) and returns the code:
 * EXIT_UNAVAILABLE when the connection is gone, else EXIT_SOFTWARE. */
static int fail(PGconn *conn, const PGresult *res, const char *what, struct err *e)
{
	const char *msg = res ? PQresultErrorMessage(res) : "";
	if (!msg[0])
		msg = PQerrorMessage(conn);
	if (!msg[0])
		msg = res ? PQresStatus(PQresultStatus(res)) : "no result from the server";
	int code = PQstatus(conn) == CONNECTION_BAD ? EXIT_UNAVAILABLE : EXIT_SOFTWARE;
	return err_set(e, code, "%s: %.*s", what, (int)trimmed_len(msg), msg);
}

int db_exec(PGconn *conn, const char *what, const char *sql, int nparams,
	    const char *const *params, PGresult **res, struct err *e)
{
	if (res)
		*res = NULL;
	PGresult *r = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		int code = fail(conn, r, what, e);
		PQclear(r);
		return code;
	}
	if (res)
		*res = r;
	else
		PQclear(r);
	return 0;
}

int db_exec_script(PGconn *conn, const char *what, const char *sql, struct err *e)
{
	/* PQexec returns the last result; it stops at the first statement that fails. */
	PGresult *r = PQexec(conn, sql);
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
		int code = fail(conn, r, what, e);
		PQclear(r);
		return code;
	}
	PQclear(r);
	return 0;
}

int db_begin(PGconn *conn, struct err *e)
{
	return db_exec(conn, "cannot begin a transaction", "begin", 0, NULL, NULL, e);
}

int db_commit(PGconn *conn, struct err *e)
{
	PGresult *r = NULL;
	int rc = db_exec(conn, "cannot commit", "commit", 0, NULL, &r, e);
	if (rc)
		return rc;
	/* COMMIT of a transaction that already failed succeeds with the tag ROLLBACK. */
	bool rolled_back = strcmp(PQcmdStatus(r), "COMMIT") != 0;
	PQclear(r);
	if (rolled_back)
		return err_set(e, EXIT_SOFTWARE, "cannot commit: the transaction was rolled back");
	return 0;
}

void db_rollback(PGconn *conn)
{
	if (!conn || PQstatus(conn) != CONNECTION_OK || PQtransactionStatus(conn) == PQTRANS_IDLE)
		return;
	PQclear(PQexec(conn, "rollback"));
}
