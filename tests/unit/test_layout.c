/* test_layout.c: the six shipped layouts of SPEC §3, extends + rename, and layout file errors. */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buildconf.h"
#include "core/err.h"
#include "core/strbuf.h"
#include "layout/layout.h"
#include "suites.h"

#define AVAILABLE "bss_addons, bss_churn, bss_subscribers, docomo_activations, " \
		  "docomo_deactivations, docomo_eligibility"

/* Path of a file under the source root ($OTTRECON_DATADIR, set by meson). */
static char *src_path(const char *rel)
{
	const char *root = getenv("OTTRECON_DATADIR");
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "%s/%s", root && *root ? root : OTTRECON_SOURCE_ROOT, rel);
	return strbuf_detach(&sb);
}

static struct layout *load_shipped(const char *name)
{
	char *dir = src_path("schemas");
	struct layout *l = NULL;
	struct err e = { 0 };
	int rc = layout_load(dir, name, &l, &e);
	free(dir);
	ck_assert_msg(rc == 0, "layout_load(%s) failed: %s", name, e.msg);
	ck_assert_str_eq(l->name, name);
	return l;
}

/* One line per field: "name type[ msisdn][ required][ max=N][ re=P][ enum=A|B][ warn]". */
static char *describe(const struct layout *l)
{
	static const char *const types[] = { "string", "integer", "number", "date", "datetime" };
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < l->n_fields; i++) {
		const struct layout_field *f = &l->fields[i];
		strbuf_addf(&sb, "%s %s", f->name, types[f->type]);
		if (f->format == FF_MSISDN)
			strbuf_adds(&sb, " msisdn");
		if (f->required)
			strbuf_adds(&sb, " required");
		if (f->max_length)
			strbuf_addf(&sb, " max=%zu", f->max_length);
		if (f->pattern)
			strbuf_addf(&sb, " re=%s", f->pattern);
		for (size_t k = 0; k < f->n_enum; k++)
			strbuf_addf(&sb, "%s%s", k ? "|" : " enum=", f->enum_values[k]);
		if (f->enum_warn_only)
			strbuf_adds(&sb, " warn");
		strbuf_addc(&sb, '\n');
	}
	return strbuf_detach(&sb);
}

static void assert_layout(const char *name, const char *want)
{
	struct layout *l = load_shipped(name);
	char *got = describe(l);
	ck_assert_str_eq(got, want);
	ck_assert_int_eq(l->delimiter, ',');
	ck_assert_int_eq(l->quote, '"');
	ck_assert(l->header);
	ck_assert_uint_eq(l->n_missing_values, 1);
	ck_assert_str_eq(l->missing_values[0], "");
	ck_assert_uint_eq(l->n_rename, 0);
	free(got);
	layout_free(l);
}

START_TEST(test_docomo_activations_layout)
{
	assert_layout("docomo_activations",
		      "countryCode string required re=[A-Z]{2}\n"
		      "siteCode string required max=64\n"
		      "productName string required max=128\n"
		      "subscriptionCode string required max=64\n"
		      "msisdn string msisdn max=32\n"
		      "alias string max=64\n"
		      "telcoCode string required max=64\n"
		      "dateCreated datetime required\n"
		      "dateActive datetime\n"
		      "datePendingUnsubscription datetime\n"
		      "dateUnsubscribed datetime\n"
		      "unsubscriptionSource string enum=TELCO|USER|PARTNER|DOCOMO|AMAZON warn\n");
	struct layout *l = load_shipped("docomo_activations");
	ck_assert_uint_eq(l->n_primary_key, 1);
	ck_assert_uint_eq(l->primary_key[0], 3);
	ck_assert_uint_eq(l->n_one_of, 1);
	ck_assert_uint_eq(l->one_of_len[0], 2);
	ck_assert_uint_eq(l->one_of[0][0], 4);
	ck_assert_uint_eq(l->one_of[0][1], 5);
	/* Patterns match the whole value. */
	ck_assert_int_eq(regexec(&l->fields[0].pattern_re, "XX", 0, NULL, 0), 0);
	ck_assert_int_eq(regexec(&l->fields[0].pattern_re, "XXX", 0, NULL, 0), REG_NOMATCH);
	ck_assert_int_eq(regexec(&l->fields[0].pattern_re, "xx", 0, NULL, 0), REG_NOMATCH);
	layout_free(l);
}
END_TEST

START_TEST(test_docomo_eligibility_layout)
{
	assert_layout("docomo_eligibility",
		      "countryCode string required re=[A-Z]{2}\n"
		      "telcoCode string required max=64\n"
		      "alias string required max=64\n"
		      "msisdn string msisdn max=32\n"
		      "productName string required max=128\n"
		      "eligibilityType string required enum=BUNDLE|ADDON\n"
		      "action string required enum=ADD|REMOVE\n"
		      "effectiveDate date required\n");
	struct layout *l = load_shipped("docomo_eligibility");
	ck_assert_uint_eq(l->n_primary_key, 0);
	ck_assert_uint_eq(l->n_one_of, 0);
	layout_free(l);
}
END_TEST

START_TEST(test_docomo_deactivations_layout)
{
	assert_layout("docomo_deactivations",
		      "countryCode string required re=[A-Z]{2}\n"
		      "telcoCode string required max=64\n"
		      "subscriptionCode string required max=64\n"
		      "alias string max=64\n"
		      "msisdn string msisdn max=32\n"
		      "productName string required max=128\n"
		      "reason string required "
		      "enum=CHURN|PLAN_MIGRATION|NUMBER_CHANGE|NON_PAYMENT|NOT_ELIGIBLE\n"
		      "requestDate date required\n");
	struct layout *l = load_shipped("docomo_deactivations");
	ck_assert_uint_eq(l->n_primary_key, 0);
	ck_assert_uint_eq(l->n_one_of, 1);
	ck_assert_uint_eq(l->one_of[0][0], 4);
	ck_assert_uint_eq(l->one_of[0][1], 3);
	layout_free(l);
}
END_TEST

START_TEST(test_bss_subscribers_layout)
{
	assert_layout("bss_subscribers",
		      "country_code string required re=[A-Z]{2}\n"
		      "service_type string required enum=MOBILE|HOME\n"
		      "service_id string required max=64\n"
		      "account_id string max=64\n"
		      "msisdn string msisdn max=32\n"
		      "plan_code string required max=64\n"
		      "plan_type string required enum=POSTPAID|PREPAID|HYBRID\n"
		      "status string required enum=ACTIVE|SUSPENDED|CHURNED\n"
		      "status_date date\n");
}
END_TEST

START_TEST(test_bss_addons_layout)
{
	assert_layout("bss_addons",
		      "country_code string required re=[A-Z]{2}\n"
		      "service_type string required enum=MOBILE|HOME\n"
		      "service_id string required max=64\n"
		      "account_id string max=64\n"
		      "msisdn string msisdn max=32\n"
		      "sku string required max=64\n"
		      "status string required enum=ACTIVE|SUSPENDED|INACTIVE\n"
		      "start_date date required\n"
		      "end_date date\n"
		      "monthly_price number\n"
		      "currency string re=[A-Z]{3}\n"
		      "channel string enum=SELF_SERVICE|AGENT|MANUAL|BUNDLE\n"
		      "updated_at datetime\n");
	struct layout *l = load_shipped("bss_addons");
	ck_assert_uint_eq(l->n_primary_key, 0); /* SPEC §8: bss_addons has no primary key */
	layout_free(l);
}
END_TEST

START_TEST(test_bss_churn_layout)
{
	assert_layout("bss_churn",
		      "country_code string required re=[A-Z]{2}\n"
		      "service_type string required enum=MOBILE|HOME\n"
		      "service_id string required max=64\n"
		      "msisdn string msisdn max=32\n"
		      "event_type string required "
		      "enum=CHURN|PLAN_MIGRATION|NUMBER_CHANGE|NON_PAYMENT\n"
		      "event_date date required\n"
		      "old_plan string max=64\n"
		      "new_plan string max=64\n"
		      "new_msisdn string msisdn max=32\n");
}
END_TEST

START_TEST(test_header_matches_exactly_then_case_insensitively)
{
	struct layout *l = load_shipped("docomo_activations");
	ck_assert_int_eq(layout_header_index(l, "countryCode"), 0);
	ck_assert_int_eq(layout_header_index(l, " COUNTRYCODE \r"), 0);
	ck_assert_int_eq(layout_header_index(l, "unsubscriptionsource"), 11);
	ck_assert_int_eq(layout_header_index(l, "extra"), -1);
	ck_assert_int_eq(layout_field_index(l, "alias"), 5);
	ck_assert_int_eq(layout_field_index(l, "ALIAS"), -1);
	layout_free(l);
}
END_TEST

START_TEST(test_extends_adds_renames)
{
	char *path = src_path("tests/fixtures/schemas/bss_subscribers_co.yaml");
	char *dir = src_path("schemas");
	struct layout *l = NULL;
	struct err e = { 0 };
	int rc = layout_load_file(path, dir, &l, &e);
	ck_assert_msg(rc == 0, "%s", e.msg);
	ck_assert_str_eq(l->name, "bss_subscribers"); /* inherited: it loads into bss_subscribers */
	ck_assert_str_eq(l->path, path);
	ck_assert_uint_eq(l->n_fields, 9);
	ck_assert_uint_eq(l->n_rename, 4);
	ck_assert_str_eq(l->rename_from[2], "ID_SERVICIO");
	ck_assert_str_eq(l->rename_to[2], "service_id");
	ck_assert_int_eq(layout_header_index(l, "PAIS"), 0);
	ck_assert_int_eq(layout_header_index(l, "tipo_servicio"), 1);
	ck_assert_int_eq(layout_header_index(l, "ID_SERVICIO"), 2);
	ck_assert_int_eq(layout_header_index(l, "PLAN"), 5);
	ck_assert_int_eq(layout_header_index(l, "status"), 7); /* canonical names still match */
	ck_assert_int_eq(layout_header_index(l, "country"), -1);
	layout_free(l);
	free(path);
	free(dir);
}
END_TEST

START_TEST(test_flat_constraints_and_dialect)
{
	char *path = src_path("tests/fixtures/schemas/flat_form.yaml");
	char *dir = src_path("schemas");
	struct layout *l = NULL;
	struct err e = { 0 };
	int rc = layout_load_file(path, dir, &l, &e);
	ck_assert_msg(rc == 0, "%s", e.msg);
	char *got = describe(l);
	ck_assert_str_eq(got, "code integer required\nkind string max=8 re=[a-z]+ enum=A|B\n");
	ck_assert_int_eq(l->delimiter, ';');
	ck_assert_int_eq(l->quote, '"');
	ck_assert(!l->header);
	ck_assert_uint_eq(l->n_missing_values, 2);
	ck_assert_str_eq(l->missing_values[1], "N/A");
	ck_assert_uint_eq(l->n_primary_key, 1);
	ck_assert_uint_eq(l->primary_key[0], 0);
	free(got);
	layout_free(l);
	free(path);
	free(dir);
}
END_TEST

/* Loads a fixture layout that must fail with EXIT_CONFIG and message "<path><rest>". */
static void assert_layout_error(const char *fixture, const char *rest)
{
	char *path = src_path(fixture);
	char *dir = src_path("schemas");
	struct layout *l = (struct layout *)1;
	struct err e = { 0 };
	struct strbuf want = STRBUF_INIT;
	strbuf_addf(&want, "%s%s", path, rest);
	ck_assert_int_eq(layout_load_file(path, dir, &l, &e), EXIT_CONFIG);
	ck_assert_ptr_null(l);
	ck_assert_str_eq(e.msg, want.buf);
	strbuf_release(&want);
	free(path);
	free(dir);
}

START_TEST(test_unknown_key_is_an_error)
{
	assert_layout_error("tests/fixtures/schemas/bad_unknown_key.yaml",
			    ":7: fields[1].minimum: unknown key");
}
END_TEST

START_TEST(test_unknown_type_is_an_error)
{
	assert_layout_error("tests/fixtures/schemas/bad_type.yaml",
			    ":5: fields[0].type: unknown type 'boolean' "
			    "(expected string, integer, number, date or datetime)");
}
END_TEST

START_TEST(test_bad_regex_is_an_error)
{
	char *path = src_path("tests/fixtures/schemas/bad_regex.yaml");
	char *dir = src_path("schemas");
	struct layout *l = NULL;
	struct err e = { 0 };
	struct strbuf want = STRBUF_INIT;
	strbuf_addf(&want, "%s:6: fields[0].constraints.pattern: invalid regular expression '[A-Z': ",
		    path);
	ck_assert_int_eq(layout_load_file(path, dir, &l, &e), EXIT_CONFIG);
	/* The reason after the prefix is regerror()'s text, which the C library words. */
	ck_assert_msg(!strncmp(e.msg, want.buf, want.len), "got: %s", e.msg);
	ck_assert_uint_gt(strlen(e.msg), want.len);
	strbuf_release(&want);
	free(path);
	free(dir);
}
END_TEST

START_TEST(test_extending_layout_cannot_redefine_fields)
{
	assert_layout_error("tests/fixtures/schemas/bad_extends_fields.yaml",
			    ":3: fields: not allowed in a layout that extends another "
			    "(only name and rename)");
}
END_TEST

START_TEST(test_rename_to_unknown_field_is_an_error)
{
	assert_layout_error("tests/fixtures/schemas/bad_rename_target.yaml",
			    ":4: rename.ID_CLIENTE: unknown field 'customer_id'");
}
END_TEST

static void assert_unknown_layout(const char *name, const char *want)
{
	char *dir = src_path("schemas");
	struct layout *l = (struct layout *)1;
	struct err e = { 0 };
	ck_assert_int_eq(layout_load(dir, name, &l, &e), EXIT_USAGE);
	ck_assert_ptr_null(l);
	ck_assert_str_eq(e.msg, want);
	free(dir);
}

START_TEST(test_unknown_layout_name_lists_the_available_ones)
{
	assert_unknown_layout("docomo_activation",
			      "unknown layout 'docomo_activation' (available: " AVAILABLE ")");
}
END_TEST

START_TEST(test_path_in_layout_name_is_refused)
{
	assert_unknown_layout("../etc", "unknown layout '../etc' (available: " AVAILABLE ")");
	assert_unknown_layout("../schemas/bss_churn",
			      "unknown layout '../schemas/bss_churn' (available: " AVAILABLE ")");
	assert_unknown_layout("", "unknown layout '' (available: " AVAILABLE ")");
}
END_TEST

Suite *layout_suite(void)
{
	Suite *s = suite_create("layout");
	TCase *tc = tcase_create("layout");
	tcase_add_test(tc, test_docomo_activations_layout);
	tcase_add_test(tc, test_docomo_eligibility_layout);
	tcase_add_test(tc, test_docomo_deactivations_layout);
	tcase_add_test(tc, test_bss_subscribers_layout);
	tcase_add_test(tc, test_bss_addons_layout);
	tcase_add_test(tc, test_bss_churn_layout);
	tcase_add_test(tc, test_header_matches_exactly_then_case_insensitively);
	tcase_add_test(tc, test_extends_adds_renames);
	tcase_add_test(tc, test_flat_constraints_and_dialect);
	tcase_add_test(tc, test_unknown_key_is_an_error);
	tcase_add_test(tc, test_unknown_type_is_an_error);
	tcase_add_test(tc, test_bad_regex_is_an_error);
	tcase_add_test(tc, test_extending_layout_cannot_redefine_fields);
	tcase_add_test(tc, test_rename_to_unknown_field_is_an_error);
	tcase_add_test(tc, test_unknown_layout_name_lists_the_available_ones);
	tcase_add_test(tc, test_path_in_layout_name_is_refused);
	suite_add_tcase(s, tc);
	return s;
}
