/* recon.c: the configuration into temporary tables by COPY, then one SQL call per country. */
#include <stdio.h>

#include "config/config.h"
#include "core/err.h"
#include "core/log.h"
#include "db/copy.h"
#include "db/db.h"
#include "recon/recon.h"

static const char create_sql[] =
	"create temp table if not exists recon_country (country_code text primary key,"
	" telco_code text not null);"
	"create temp table if not exists recon_product (product_id int primary key,"
	" country_code text not null, site text not null, partner_product text not null,"
	" family text not null, service text not null, kind text not null, sku text not null,"
	" monthly_price numeric not null, currency text not null);"
	"create temp table if not exists recon_plan (product_id int not null, plan_code text not null);"
	"truncate recon_country, recon_product, recon_plan";

static int copy_countries(PGconn *conn, const struct config *cfg, struct err *e)
{
	struct copy_stream cs;
	int rc = copy_begin(&cs, conn, "copy recon_country from stdin", e);
	if (rc)
		return rc;
	for (size_t i = 0; !rc && i < cfg->n_countries; i++) {
		copy_field(&cs, cfg->countries[i].code);
		copy_field(&cs, cfg->countries[i].telco_code);
		rc = copy_end_row(&cs, e);
	}
	if (rc) {
		copy_abort(&cs, "cannot send the countries");
		return rc;
	}
	return copy_finish(&cs, e);
}

static int copy_products(PGconn *conn, const struct config *cfg, struct err *e)
{
	struct copy_stream cs;
	long id = 0;
	int rc = copy_begin(&cs, conn, "copy recon_product from stdin", e);
	if (rc)
		return rc;
	for (size_t i = 0; !rc && i < cfg->n_countries; i++) {
		const struct country_config *c = &cfg->countries[i];
		for (size_t j = 0; !rc && j < c->n_products; j++) {
			const struct product_config *p = &c->products[j];
			copy_field_long(&cs, ++id);
			copy_field(&cs, c->code);
			copy_field(&cs, p->site);
			copy_field(&cs, p->partner_product);
			copy_field(&cs, p->family);
			copy_field(&cs, p->service == SERVICE_HOME ? "HOME" : "MOBILE");
			copy_field(&cs, p->kind == KIND_ADDON ? "ADDON" : "BUNDLE");
			copy_field(&cs, p->sku);
			copy_field(&cs, p->monthly_price);
			copy_field(&cs, p->currency);
			rc = copy_end_row(&cs, e);
		}
	}
	if (rc) {
		copy_abort(&cs, "cannot send the products");
		return rc;
	}
	return copy_finish(&cs, e);
}

static int copy_plans(PGconn *conn, const struct config *cfg, struct err *e)
{
	struct copy_stream cs;
	long id = 0;
	int rc = copy_begin(&cs, conn, "copy recon_plan from stdin", e);
	if (rc)
		return rc;
	for (size_t i = 0; !rc && i < cfg->n_countries; i++) {
		const struct country_config *c = &cfg->countries[i];
		for (size_t j = 0; !rc && j < c->n_products; j++) {
			const struct product_config *p = &c->products[j];
			id++;
			for (size_t k = 0; !rc && k < p->n_eligible_plans; k++) {
				copy_field_long(&cs, id);
				copy_field(&cs, p->eligible_plans[k]);
				rc = copy_end_row(&cs, e);
			}
		}
	}
	if (rc) {
		copy_abort(&cs, "cannot send the eligible plans");
		return rc;
	}
	return copy_finish(&cs, e);
}

int recon_load_config(PGconn *conn, const struct config *cfg, struct err *e)
{
	int rc = db_exec_script(conn, "cannot create the configuration tables", create_sql, e);
	if (!rc)
		rc = copy_countries(conn, cfg, e);
	if (!rc)
		rc = copy_products(conn, cfg, e);
	if (!rc)
		rc = copy_plans(conn, cfg, e);
	if (!rc)
		rc = db_exec(conn, "cannot analyze the configuration tables",
			     "analyze recon_country, recon_product, recon_plan", 0, NULL, NULL, e);
	/* The report views (report.kpi_monthly) read the configuration saved here. */
	char free_days[32];
	snprintf(free_days, sizeof(free_days), "%ld", cfg->recon.free_period_days);
	const char *params[] = { free_days };
	if (!rc)
		rc = db_exec(conn, "cannot save the configuration", "select conf.save($1::int)", 1,
			     params, NULL, e);
	return rc;
}

/* The rule parameters of the configuration, as text for a statement's $3, $4, $5. */
struct recon_params {
	char tol[32], assoc[32], unsub[32];
};

static void recon_params(const struct config *cfg, struct recon_params *p)
{
	snprintf(p->tol, sizeof(p->tol), "%ld", cfg->recon.date_tolerance_days);
	snprintf(p->assoc, sizeof(p->assoc), "%ld", cfg->recon.association_grace_days);
	snprintf(p->unsub, sizeof(p->unsub), "%ld", cfg->recon.unsubscribe_grace_days);
}

int recon_find(PGconn *conn, const struct config *cfg, const char *country, const char *as_of,
	       struct err *e)
{
	struct recon_params rp;
	recon_params(cfg, &rp);
	const char *params[] = { country, as_of, rp.tol, rp.assoc, rp.unsub };
	char what[128];
	snprintf(what, sizeof(what), "cannot apply the rules of SPEC §5 to country %s as of %s",
		 country, as_of);
	/* (partner side only: the deactivations need the categories up to NOT_ELIGIBLE) */
	return db_exec(conn, what,
		       "select recon.find_discrepancies($1, $2::date, $3::int, $4::int, $5::int, true)",
		       5, params, NULL, e);
}

int recon_run_country(PGconn *conn, const struct config *cfg, const char *country,
		      const char *as_of, struct err *e)
{
	struct recon_params rp;
	recon_params(cfg, &rp);
	const char *params[] = { country, as_of, rp.tol, rp.assoc, rp.unsub };
	char what[128];
	snprintf(what, sizeof(what), "cannot reconcile country %s as of %s", country, as_of);
	PGresult *res = NULL;
	int rc = db_exec(conn, what,
			 "select recon.reconcile_run($1, $2::date, $3::int, $4::int, $5::int)",
			 5, params, NULL, e);
	/* A second statement: the run's row is not visible to the statement that made it. */
	if (!rc)
		rc = db_exec(conn, what,
			     "select n_new, n_open, n_resolved from recon.run"
			     " where country_code = $1 and as_of = $2::date", 2, params, &res, e);
	if (rc)
		return rc;
	if (PQntuples(res) == 1)
		log_info("reconciled country=%s as_of=%s new=%s open=%s resolved=%s", country, as_of,
			 PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2));
	PQclear(res);
	return 0;
}
