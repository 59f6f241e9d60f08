/* recon_report.h: the reconcile reports of SPEC §6: discrepancy and summary CSVs, stdout table. */
#ifndef OTTRECON_RECON_REPORT_H
#define OTTRECON_RECON_REPORT_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>

struct err;

/* Writes DIR/discrepancies_<CC>_<YYYYMMDD>.csv for the run of country as of as_of (YYYY-MM-DD):
 * sorted by category then key, text from input files escaped against formula injection, MSISDNs,
 * aliases and service ids cut to their last 4 characters when mask_pii. Temp name + rename, 0640. */
int report_write_discrepancies(PGconn *conn, const char *dir, const char *country,
			       const char *as_of, bool mask_pii, struct err *e);

/* Writes DIR/recon_summary_<YYYYMMDD>.csv: every country's run for as_of. */
int report_write_summary(PGconn *conn, const char *dir, const char *as_of, struct err *e);

/* Prints the table of new / open / resolved and amount at risk per country and category, totals
 * last, for as_of and country (NULL = every country); sets the totals of NEW and OPEN rows. */
int report_print_table(PGconn *conn, FILE *out, const char *as_of, const char *country,
		       long long *n_new, long long *n_open, struct err *e);

#endif
