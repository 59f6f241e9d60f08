/* db.h: the PostgreSQL connection (libpq): connect, run parameterised statements, errors -> exit
 * codes. No input text is ever spliced into SQL (SPEC §7). */
#ifndef OTTRECON_DB_H
#define OTTRECON_DB_H

#include <libpq-fe.h>

struct err;

/*
 * Connects with conninfo ("" = libpq defaults: PG* environment, pg_service.conf), sets
 * application_name=ottrecon, TimeZone=UTC, client_encoding=UTF8. An unreachable server is
 * EXIT_UNAVAILABLE with libpq's message; the password is never logged.
 */
int db_connect(const char *conninfo, PGconn **out, struct err *e);
void db_close(PGconn *conn);

/* Runs one statement with text parameters (NULL entries are SQL NULL); returns 0 or an error
 * (EXIT_UNAVAILABLE when the connection is lost, else EXIT_SOFTWARE) naming what was being done.
 * When res is not NULL the result is handed to the caller (PQclear it). */
int db_exec(PGconn *conn, const char *what, const char *sql, int nparams,
	    const char *const *params, PGresult **res, struct err *e);
/* Runs a script of several statements (no parameters: only for SQL shipped with ottrecon). */
int db_exec_script(PGconn *conn, const char *what, const char *sql, struct err *e);

int db_begin(PGconn *conn, struct err *e);
int db_commit(PGconn *conn, struct err *e);
/* Rolls back, ignoring errors (used on failure paths). */
void db_rollback(PGconn *conn);

#endif
