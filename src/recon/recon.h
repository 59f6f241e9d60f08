/* recon.h: runs the reconciliation rules of sql/003_reconcile.sql (SPEC §5) for one as-of date. */
#ifndef OTTRECON_RECON_H
#define OTTRECON_RECON_H

#include <libpq-fe.h>

struct config;
struct country_config;
struct err;

/* Copies the configured countries and products (with eligible plans) into the temporary tables
 * recon_country, recon_product and recon_plan that the rules read. Call inside a transaction. */
int recon_load_config(PGconn *conn, const struct config *cfg, struct err *e);

/* Reconciles one country as of as_of ("YYYY-MM-DD"), replacing its run for that date, and logs
 * its NEW / OPEN / RESOLVED counts; needs recon_load_config() first in the same transaction. */
int recon_run_country(PGconn *conn, const struct config *cfg, const char *country,
		      const char *as_of, struct err *e);

/* Computes the partner side's discrepancies of one country as of as_of up to NOT_ELIGIBLE (SPEC
 * §5; the add-ons are not read) without recording a run: leaves them in the temporary tables
 * recon_p (every counted partner subscription with its matched subscriber and status) and
 * recon_found (key, category, subscription_code, ...) for the caller (the deactivations file
 * reads them); needs recon_load_config() first in the same transaction. */
int recon_find(PGconn *conn, const struct config *cfg, const char *country, const char *as_of,
	       struct err *e);

#endif
