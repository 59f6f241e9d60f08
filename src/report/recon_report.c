/* recon_report.c: streams the report views of sql/003_reconcile.sql into CSV files and stdout. */
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/fsutil.h"
#include "core/strbuf.h"
#include "db/db.h"
#include "layout/csvout.h"
#include "report/csvquery.h"
#include "report/recon_report.h"

/* Amounts: at least 2 decimals, more only when the configured price has them. */
#define AMOUNT(x) "(case when scale(trim_scale(" x ")) <= 2 then round(" x ", 2)" \
		  " else trim_scale(" x ") end)::text"
/* the views' timestamps are UTC already (timestamp without time zone) */
#define TS(x) "to_char(" x ", 'YYYY-MM-DD HH24:MI:SS')"
#define DAY(x) "to_char(" x ", 'YYYY-MM-DD')"

static const char discrepancies_sql[] =
	"select " DAY("as_of") ", country, category, state, " DAY("first_seen") ", days_open::text,"
	" service_type, family, report.csv_safe(subscription_code),"
	" report.csv_safe(report.mask(alias, $3::boolean)), report.mask(msisdn, $3::boolean),"
	" report.csv_safe(report.mask(service_id, $3::boolean)), report.csv_safe(partner_product),"
	" partner_status, " TS("partner_date_active") ", " TS("partner_date_unsubscribed") ","
	" report.csv_safe(bss_sku), bss_status, " DAY("bss_start_date") ","
	" report.csv_safe(plan_code), " AMOUNT("amount_at_risk") ", currency"
	" from report.discrepancies where country = $1 and as_of = $2::date"
	" order by category collate \"C\", key collate \"C\"";
static const char *const discrepancies_header[] = {
	"as_of", "country", "category", "state", "first_seen", "days_open", "service_type",
	"family", "subscription_code", "alias", "msisdn", "service_id", "partner_product",
	"partner_status", "partner_date_active", "partner_date_unsubscribed", "bss_sku",
	"bss_status", "bss_start_date", "plan_code", "amount_at_risk", "currency",
};

static const char summary_sql[] =
	"select " DAY("as_of") ", country, service_type, family, category, new::text, open::text,"
	" resolved::text, " AMOUNT("amount_at_risk") ", currency"
	" from report.recon_summary where as_of = $1::date"
	" order by country collate \"C\", service_type collate \"C\" nulls first,"
	" family collate \"C\" nulls first, category collate \"C\", currency collate \"C\" nulls first";
static const char *const summary_header[] = {
	"as_of", "country", "service_type", "family", "category", "new", "open", "resolved",
	"amount_at_risk", "currency",
};

/* "2026-11-30" -> "20261130" */
static void compact_date(const char *as_of, char out[9])
{
	size_t j = 0;
	for (size_t i = 0; as_of[i] && j < 8; i++)
		if (as_of[i] != '-')
			out[j++] = as_of[i];
	out[j] = '\0';
}

int report_write_discrepancies(PGconn *conn, const char *dir, const char *country,
			       const char *as_of, bool mask_pii, struct err *e)
{
	char ymd[9];
	struct strbuf path = STRBUF_INIT;
	compact_date(as_of, ymd);
	strbuf_addf(&path, "%s/discrepancies_%s_%s.csv", dir, country, ymd);
	const char *params[] = { country, as_of, mask_pii ? "true" : "false" };
	int rc = csvq_write(conn, "cannot read the discrepancies", discrepancies_sql, 3, params,
			    path.buf, discrepancies_header,
			    sizeof(discrepancies_header) / sizeof(discrepancies_header[0]), NULL, e);
	strbuf_release(&path);
	return rc;
}

int report_write_summary(PGconn *conn, const char *dir, const char *as_of, struct err *e)
{
	char ymd[9];
	struct strbuf path = STRBUF_INIT;
	compact_date(as_of, ymd);
	strbuf_addf(&path, "%s/recon_summary_%s.csv", dir, ymd);
	const char *params[] = { as_of };
	int rc = csvq_write(conn, "cannot read the summary", summary_sql, 1, params, path.buf,
			    summary_header, sizeof(summary_header) / sizeof(summary_header[0]), NULL, e);
	strbuf_release(&path);
	return rc;
}

static void print_row(FILE *out, const char *country, const char *category, const char *n_new,
		      const char *n_open, const char *n_resolved, const char *amount,
		      const char *currency)
{
	fprintf(out, "%-8s %-32s %8s %8s %8s %14s%s%s\n", country, category, n_new, n_open,
		n_resolved, amount, *currency ? " " : "", currency);
}

int report_print_table(PGconn *conn, FILE *out, const char *as_of, const char *country,
		       long long *n_new, long long *n_open, struct err *e)
{
	/* Per country, category and currency; then a TOTAL per currency, since amounts of two
	 * currencies do not add up. Rows without a currency (UNMAPPED_PRODUCT, amount 0) count
	 * in the one currency's total when there is only one. */
	static const char sql[] =
		"with s as (select * from report.recon_summary"
		"  where as_of = $1::date and ($2::text is null or country = $2)),"
		" c as (select count(distinct currency) as n, max(currency) as one from s)"
		" select coalesce(country, 'TOTAL'), coalesce(category, ''), sum(new)::text,"
		" sum(open)::text, sum(resolved)::text, " AMOUNT("sum(amount_at_risk)") ","
		" coalesce(case when grouping(country) = 1 then tcur else currency end, ''),"
		" (grouping(country) = 1)::text"
		" from (select s.*, case when c.n = 1 then coalesce(s.currency, c.one)"
		"       else s.currency end as tcur from s, c) s"
		" group by grouping sets ((country, category, currency), (tcur))"
		" order by grouping(country), country collate \"C\", category collate \"C\","
		" currency collate \"C\" nulls first, tcur collate \"C\" nulls first";
	const char *params[] = { as_of, country };
	PGresult *res = NULL;
	int rc = db_exec(conn, "cannot read the summary", sql, 2, params, &res, e);
	if (rc)
		return rc;
	*n_new = *n_open = 0;
	print_row(out, "country", "category", "new", "open", "resolved", "amount_at_risk",
		  "currency");
	bool any_total = false;
	for (int r = 0; r < PQntuples(res); r++) {
		print_row(out, PQgetvalue(res, r, 0), PQgetvalue(res, r, 1), PQgetvalue(res, r, 2),
			  PQgetvalue(res, r, 3), PQgetvalue(res, r, 4), PQgetvalue(res, r, 5),
			  PQgetvalue(res, r, 6));
		if (strcmp(PQgetvalue(res, r, 7), "true") == 0) {
			any_total = true;
			*n_new += strtoll(PQgetvalue(res, r, 2), NULL, 10);
			*n_open += strtoll(PQgetvalue(res, r, 3), NULL, 10);
		}
	}
	if (!any_total) /* no discrepancies at all */
		print_row(out, "TOTAL", "", "0", "0", "0", "0.00", "");
	PQclear(res);
	return 0;
}
