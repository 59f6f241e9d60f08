/* csvquery.h: a query's rows streamed into a CSV file that appears whole or not at all. */
#ifndef OTTRECON_CSVQUERY_H
#define OTTRECON_CSVQUERY_H

#include <libpq-fe.h>
#include <stddef.h>

struct err;

/*
 * Runs sql (text parameters) and streams its rows in libpq's single-row mode, so memory stays
 * flat however many rows there are, into path under the header (ncol columns, which the query
 * must return in that order), through a temporary name, fsync and rename (mode 0640). NULL
 * values are written empty. *rows (when not NULL) gets the number of data rows written.
 * "what" names the work in error messages.
 */
int csvq_write(PGconn *conn, const char *what, const char *sql, int nparams,
	       const char *const *params, const char *path, const char *const *header,
	       size_t ncol, long long *rows, struct err *e);

#endif
