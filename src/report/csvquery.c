/* csvquery.c: a query's rows streamed into a CSV file that appears whole or not at all. */
#include <stdlib.h>

#include "core/err.h"
#include "core/fsutil.h"
#include "core/strbuf.h"
#include "layout/csvout.h"
#include "report/csvquery.h"

int csvq_write(PGconn *conn, const char *what, const char *sql, int nparams,
	       const char *const *params, const char *path, const char *const *header,
	       size_t ncol, long long *rows, struct err *e)
{
	struct atomic_file af;
	long long n = 0;
	int rc = atomic_open(&af, path, 0640, e);
	if (rc)
		return rc;
	if (!PQsendQueryParams(conn, sql, nparams, NULL, params, NULL, NULL, 0) ||
	    !PQsetSingleRowMode(conn)) {
		atomic_abort(&af);
		return err_set(e, PQstatus(conn) == CONNECTION_BAD ? EXIT_UNAVAILABLE : EXIT_SOFTWARE,
			       "%s: %s", what, PQerrorMessage(conn));
	}
	int bad = csv_write_row(af.fp, header, NULL, ncol);
	const char **f = xcalloc(ncol, sizeof(*f));
	PGresult *res;
	while ((res = PQgetResult(conn)) != NULL) { /* read every result, even after a failure */
		ExecStatusType st = PQresultStatus(res);
		if (st == PGRES_SINGLE_TUPLE && !bad && !rc) {
			if ((size_t)PQnfields(res) != ncol) {
				rc = err_set(e, EXIT_SOFTWARE, "%s: the query returned %d columns, not %zu",
					     what, PQnfields(res), ncol);
			} else {
				for (size_t c = 0; c < ncol; c++)
					f[c] = PQgetisnull(res, 0, (int)c) ? NULL :
						PQgetvalue(res, 0, (int)c);
				bad = csv_write_row(af.fp, f, NULL, ncol);
				n++;
			}
		} else if (st != PGRES_SINGLE_TUPLE && st != PGRES_TUPLES_OK && !rc) {
			rc = err_set(e, PQstatus(conn) == CONNECTION_BAD ? EXIT_UNAVAILABLE :
					EXIT_SOFTWARE, "%s: %s", what, PQresultErrorMessage(res));
		}
		PQclear(res);
	}
	free(f);
	if (!rc && bad)
		rc = err_set(e, EXIT_IOERR, "cannot write '%s'", path);
	if (rc) {
		atomic_abort(&af);
		return rc;
	}
	if (rows)
		*rows = n;
	return atomic_commit(&af, e);
}
