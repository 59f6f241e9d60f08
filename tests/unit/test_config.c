/* test_config.c: the configuration file of SPEC §2: values, defaults and every kind of error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buildconf.h"
#include "config/config.h"
#include "config/yamlev.h"
#include "core/err.h"
#include "core/strbuf.h"
#include "suites.h"

/* Path of a file under the source root ($OTTRECON_DATADIR, set by meson). */
static const char *src_path(const char *rel)
{
	static char buf[4096];
	const char *root = getenv("OTTRECON_DATADIR");
	snprintf(buf, sizeof(buf), "%s/%s", root && *root ? root : OTTRECON_SOURCE_ROOT, rel);
	return buf;
}

/* Loads a fixture that must fail; checks the code and that the message is "<path><rest>". */
static void assert_config_error(const char *fixture, const char *rest)
{
	char path[4096], want[8192];
	struct config *c = (struct config *)1;
	struct err e = { 0 };
	snprintf(path, sizeof(path), "%s", src_path(fixture));
	snprintf(want, sizeof(want), "%s%s", path, rest);
	ck_assert_int_eq(config_load(path, &c, &e), EXIT_CONFIG);
	ck_assert_int_eq(e.code, EXIT_CONFIG);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(e.msg, want);
}

static struct config *load_ok(const char *fixture)
{
	struct config *c = NULL;
	struct err e = { 0 };
	int rc = config_load(src_path(fixture), &c, &e);
	ck_assert_msg(rc == 0, "config_load failed: %s", e.msg);
	ck_assert_ptr_nonnull(c);
	return c;
}

static void assert_product(const struct product_config *p, const char *partner_product,
			   const char *family, enum service_type service, enum product_kind kind,
			   const char *sku, const char *price, const char *plans)
{
	struct strbuf got = STRBUF_INIT;
	ck_assert_str_eq(p->partner_product, partner_product);
	ck_assert_str_eq(p->site, "amazon");
	ck_assert_str_eq(p->family, family);
	ck_assert_int_eq(p->service, service);
	ck_assert_int_eq(p->kind, kind);
	ck_assert_str_eq(p->sku, sku);
	ck_assert_str_eq(p->monthly_price, price);
	ck_assert_str_eq(p->currency, "USD");
	for (size_t i = 0; i < p->n_eligible_plans; i++)
		strbuf_addf(&got, "%s%s", i ? "," : "", p->eligible_plans[i]);
	ck_assert_str_eq(strbuf_str(&got), plans);
	strbuf_release(&got);
}

START_TEST(test_example_config_loads_every_value)
{
	struct config *c = load_ok("ottrecon.example.yaml");
	ck_assert_str_eq(c->path, src_path("ottrecon.example.yaml"));
	ck_assert_str_eq(c->conninfo, "dbname=ottrecon");
	ck_assert_str_eq(c->spool, "/var/spool/ottrecon");

	ck_assert_uint_eq(c->n_partners, 1);
	const struct partner_config *p = config_partner(c, "docomo");
	ck_assert_ptr_eq(p, &c->partners[0]);
	ck_assert(p->has_sftp);
	ck_assert_int_eq(p->activations_mode, MODE_DELTA);
	const struct sftp_config *s = &p->sftp;
	ck_assert_str_eq(s->host, "sftp.partner.example");
	ck_assert_int_eq(s->port, 22);
	ck_assert_str_eq(s->user, "telco");
	ck_assert_str_eq(s->private_key, "/etc/ottrecon/keys/docomo_ed25519");
	ck_assert_str_eq(s->passphrase_file, "/etc/ottrecon/keys/docomo.pass");
	ck_assert_str_eq(s->known_hosts, "/etc/ottrecon/known_hosts");
	ck_assert_str_eq(s->remote_inbox, "/outgoing/activations");
	ck_assert_str_eq(s->pattern, "activations_*.csv");
	ck_assert_str_eq(s->remote_outbox, "/incoming");
	ck_assert_int_eq(s->after_pull, AFTER_PULL_MOVE);
	ck_assert_str_eq(s->after_pull_dir, "/outgoing/archive");
	ck_assert_int_eq(s->timeout_s, 30);
	ck_assert_int_eq(s->retries, 3);
	ck_assert_int_eq(s->min_age_s, 60);

	ck_assert_int_eq(c->recon.free_period_days, 90);
	ck_assert_int_eq(c->recon.date_tolerance_days, 2);
	ck_assert_int_eq(c->recon.association_grace_days, 7);
	ck_assert_int_eq(c->recon.unsubscribe_grace_days, 3);
	ck_assert_double_eq(c->recon.max_reject_ratio, 0.01);
	ck_assert(!c->mask_pii);

	ck_assert_uint_eq(c->n_countries, 2);
	const struct country_config *co = config_country(c, "co");
	ck_assert_ptr_eq(co, &c->countries[0]);
	ck_assert_str_eq(co->code, "CO");
	ck_assert_str_eq(co->telco_code, "OPERATOR1");
	ck_assert_uint_eq(co->n_products, 4);
	assert_product(&co->products[0], "plan123", "PRIME_VIDEO", SERVICE_MOBILE, KIND_BUNDLE,
		       "AMZ-PV-MOB-0", "0.00", "POST50,POST80");
	ck_assert_int_eq(co->products[0].line, 47);
	assert_product(&co->products[1], "plan124", "PRIME_VIDEO", SERVICE_MOBILE, KIND_ADDON,
		       "AMZ-PV-MOB-1", "4.99", "POST30,POST50,POST80");
	assert_product(&co->products[2], "music200", "PRIME_MUSIC", SERVICE_MOBILE, KIND_ADDON,
		       "AMZ-PM-MOB-1", "2.99", "POST30,POST50,POST80");
	assert_product(&co->products[3], "home300", "PRIME_VIDEO", SERVICE_HOME, KIND_BUNDLE,
		       "AMZ-PV-HOME-0", "0.00", "FIBER300,FIBER600");

	const struct country_config *ec = config_country(c, "EC");
	ck_assert_ptr_eq(ec, &c->countries[1]);
	ck_assert_str_eq(ec->telco_code, "OPERATOR2");
	ck_assert_uint_eq(ec->n_products, 2);
	assert_product(&ec->products[0], "ec_pv_addon", "PRIME_VIDEO", SERVICE_MOBILE, KIND_ADDON,
		       "EC-PV-MOB-1", "5.49", "POSTPAGO25,POSTPAGO40");
	assert_product(&ec->products[1], "ec_music_home", "PRIME_MUSIC", SERVICE_HOME, KIND_ADDON,
		       "EC-PM-HOME-1", "3.49", "HOGAR100");
	ck_assert_ptr_null(config_country(c, "PE"));
	ck_assert_ptr_null(config_partner(c, "other"));
	config_free(c);
}
END_TEST

START_TEST(test_absent_keys_take_the_defaults)
{
	struct config *c = load_ok("tests/fixtures/config/minimal.yaml");
	ck_assert_str_eq(c->conninfo, "");
	ck_assert_str_eq(c->spool, "/tmp/ottrecon-spool");
	ck_assert_uint_eq(c->n_partners, 0);
	ck_assert_int_eq(c->recon.free_period_days, 90);
	ck_assert_int_eq(c->recon.date_tolerance_days, 2);
	ck_assert_int_eq(c->recon.association_grace_days, 7);
	ck_assert_int_eq(c->recon.unsubscribe_grace_days, 3);
	ck_assert_double_eq(c->recon.max_reject_ratio, 0.01);
	ck_assert(!c->mask_pii);
	ck_assert_uint_eq(c->n_countries, 1);
	ck_assert_str_eq(c->countries[0].code, "XX"); /* stored upper case */
	const struct product_config *p = &c->countries[0].products[0];
	ck_assert_str_eq(p->site, "amazon");
	ck_assert_int_eq(p->service, SERVICE_MOBILE); /* enums match case-insensitively */
	ck_assert_int_eq(p->kind, KIND_BUNDLE);
	ck_assert_str_eq(p->monthly_price, "0.00");
	ck_assert_str_eq(p->currency, "USD");
	ck_assert_uint_eq(p->n_eligible_plans, 0);
	config_free(c);
}
END_TEST

START_TEST(test_sftp_defaults_and_after_pull_move)
{
	struct config *c = load_ok("tests/fixtures/config/partner_defaults.yaml");
	const struct partner_config *p = config_partner(c, "docomo");
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(p->activations_mode, MODE_DELTA);
	ck_assert_int_eq(p->sftp.port, 22);
	ck_assert_str_eq(p->sftp.pattern, "activations_*.csv");
	ck_assert_str_eq(p->sftp.remote_inbox, "/outgoing/activations");
	ck_assert_str_eq(p->sftp.remote_outbox, "/incoming");
	ck_assert_ptr_null(p->sftp.passphrase_file);
	ck_assert_int_eq(p->sftp.after_pull, AFTER_PULL_MOVE);
	ck_assert_str_eq(p->sftp.after_pull_dir, "/x");
	ck_assert_int_eq(p->sftp.timeout_s, 30);
	ck_assert_int_eq(p->sftp.retries, 3);
	ck_assert_int_eq(p->sftp.min_age_s, 0);
	ck_assert_uint_eq(c->n_countries, 0);
	config_free(c);
}
END_TEST

START_TEST(test_built_in_defaults)
{
	struct config *c = config_defaults();
	ck_assert_ptr_null(c->path);
	ck_assert_str_eq(c->conninfo, "");
	ck_assert_str_eq(c->spool, "/var/spool/ottrecon");
	ck_assert_int_eq(c->recon.free_period_days, 90);
	ck_assert_double_eq(c->recon.max_reject_ratio, 0.01);
	ck_assert_uint_eq(c->n_countries, 0);
	config_free(c);
}
END_TEST

START_TEST(test_missing_file_names_the_path)
{
	struct config *c = NULL;
	struct err e = { 0 };
	const char *path = src_path("tests/fixtures/config/no_such_file.yaml");
	char want[8192];
	snprintf(want, sizeof(want), "cannot read config '%s': No such file or directory", path);
	ck_assert_int_eq(config_load(path, &c, &e), EXIT_CONFIG);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(e.msg, want);
}
END_TEST

START_TEST(test_syntax_error_has_line_and_column)
{
	assert_config_error("tests/fixtures/config/syntax_error.yaml",
			    ":4:6: mapping values are not allowed in this context");
}
END_TEST

START_TEST(test_unknown_key_names_file_line_and_dotted_key)
{
	assert_config_error("tests/fixtures/config/unknown_key.yaml",
			    ":6: recon.free_period_dayz: unknown key");
}
END_TEST

START_TEST(test_wrong_type_is_an_error)
{
	assert_config_error("tests/fixtures/config/wrong_type.yaml",
			    ":10: partners.docomo.sftp.port: expected an integer, got 'abc'");
}
END_TEST

START_TEST(test_conninfo_error_does_not_echo_its_value)
{
	assert_config_error("tests/fixtures/config/bad_conninfo.yaml",
			    ":3: database.conninfo: expected a single value, got a mapping");
}
END_TEST

START_TEST(test_missing_spool_is_an_error)
{
	assert_config_error("tests/fixtures/config/missing_spool.yaml",
			    ":2: spool: missing required key");
}
END_TEST

START_TEST(test_missing_product_sku_is_an_error)
{
	assert_config_error("tests/fixtures/config/missing_sku.yaml",
			    ":9: countries[0].products[1].sku: missing required key");
}
END_TEST

START_TEST(test_bad_kind_is_an_error)
{
	assert_config_error("tests/fixtures/config/bad_kind.yaml",
			    ":11: countries[0].products[0].kind: expected BUNDLE or ADDON, got 'FREE'");
}
END_TEST

START_TEST(test_bad_monthly_price_is_an_error)
{
	assert_config_error("tests/fixtures/config/bad_price.yaml",
			    ":12: countries[0].products[0].monthly_price: "
			    "expected a decimal amount such as 9.99, got '4,99'");
}
END_TEST

START_TEST(test_duplicate_country_is_an_error)
{
	assert_config_error("tests/fixtures/config/dup_country.yaml",
			    ":7: countries[1].code: duplicate country code 'XX' (also countries[0])");
}
END_TEST

START_TEST(test_duplicate_product_is_an_error)
{
	assert_config_error("tests/fixtures/config/dup_product.yaml",
			    ":9: countries[0].products[1]: duplicate product (site 'Amazon', "
			    "partner_product 'plan1'), first defined at line 8");
}
END_TEST

START_TEST(test_yaml_anchor_is_unsupported)
{
	assert_config_error("tests/fixtures/config/alias.yaml",
			    ":3: YAML anchors (&name) are not supported");
}
END_TEST

START_TEST(test_config_path_precedence)
{
	bool explicit_path = true;
	char *saved = getenv("OTTRECON_CONFIG") ? strdup(getenv("OTTRECON_CONFIG")) : NULL;
	unsetenv("OTTRECON_CONFIG");
	ck_assert_str_eq(config_path(NULL, &explicit_path), "/etc/ottrecon/ottrecon.yaml");
	ck_assert(!explicit_path);
	setenv("OTTRECON_CONFIG", "/env/o.yaml", 1);
	ck_assert_str_eq(config_path(NULL, &explicit_path), "/env/o.yaml");
	ck_assert(explicit_path);
	explicit_path = false;
	ck_assert_str_eq(config_path("/arg/o.yaml", &explicit_path), "/arg/o.yaml");
	ck_assert(explicit_path);
	if (saved)
		setenv("OTTRECON_CONFIG", saved, 1);
	else
		unsetenv("OTTRECON_CONFIG");
	free(saved);
}
END_TEST

/* The event wrapper both config and layouts are built on. */
START_TEST(test_yamlev_reads_typed_values_with_lines)
{
	static const char doc[] = "a: 7\nb: 0.25\nc: Yes\nd: [x, 'y']\ne: {k: [1, {z: 2}]}\n"
				  "f: ~\ng: 7x\n";
	struct yamlev y;
	struct err e = { 0 };
	char *key, *str, **list;
	size_t n;
	int line;
	long i;
	double d;
	bool b, is_null;
	ck_assert_int_eq(yamlev_open_mem(&y, doc, strlen(doc), "mem.yaml", EXIT_CONFIG, &e), 0);
	ck_assert_int_eq(yamlev_begin_document(&y, &e), 0);
	ck_assert_int_eq(yamlev_expect_mapping(&y, "", &e), 0);
	ck_assert_int_eq(yamlev_next_key(&y, &key, &line, &e), 0);
	ck_assert_str_eq(key, "a");
	ck_assert_int_eq(line, 1);
	free(key);
	ck_assert_int_eq(yamlev_int(&y, "a", 0, 10, &i, &e), 0);
	ck_assert_int_eq(i, 7);
	ck_assert_int_eq(yamlev_next_key(&y, &key, &line, &e), 0);
	free(key);
	ck_assert_int_eq(yamlev_double(&y, "b", 0, 1, &d, &e), 0);
	ck_assert_double_eq(d, 0.25);
	ck_assert_int_eq(yamlev_next_key(&y, &key, &line, &e), 0);
	free(key);
	ck_assert_int_eq(yamlev_bool(&y, "c", &b, &e), 0);
	ck_assert(b);
	ck_assert_int_eq(yamlev_next_key(&y, &key, &line, &e), 0);
	free(key);
	ck_assert_int_eq(yamlev_string_list(&y, "d", &list, &n, &e), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(list[1], "y");
	free(list[0]);
	free(list[1]);
	free(list);
	ck_assert_int_eq(yamlev_next_key(&y, &key, &line, &e), 0);
	free(key);
	ck_assert_int_eq(yamlev_skip(&y, &e), 0);
	ck_assert_int_eq(yamlev_next_key(&y, &key, &line, &e), 0);
	ck_assert_str_eq(key, "f");
	ck_assert_int_eq(line, 6);
	free(key);
	ck_assert_int_eq(yamlev_scalar(&y, "f", &str, &is_null, &e), 0);
	ck_assert(is_null);
	free(str);
	ck_assert_int_eq(yamlev_next_key(&y, &key, &line, &e), 0);
	free(key);
	ck_assert_int_eq(yamlev_int(&y, "g", 0, 10, &i, &e), EXIT_CONFIG);
	ck_assert_str_eq(e.msg, "mem.yaml:7: g: expected an integer, got '7x'");
	yamlev_close(&y);
}
END_TEST

START_TEST(test_yamlev_type_errors_name_the_key)
{
	static const char doc[] = "port: 70000\nlist: {a: 1}\n";
	struct yamlev y;
	struct err e = { 0 };
	char *key, *str, **list;
	size_t n;
	int line;
	long i;
	bool is_null;
	ck_assert_int_eq(yamlev_open_mem(&y, doc, strlen(doc), "mem.yaml", EXIT_CONFIG, &e), 0);
	ck_assert_int_eq(yamlev_begin_document(&y, &e), 0);
	ck_assert_int_eq(yamlev_expect_mapping(&y, "", &e), 0);
	ck_assert_int_eq(yamlev_next_key(&y, &key, &line, &e), 0);
	free(key);
	ck_assert_int_eq(yamlev_int(&y, "sftp.port", 1, 65535, &i, &e), EXIT_CONFIG);
	ck_assert_str_eq(e.msg, "mem.yaml:1: sftp.port: must be between 1 and 65535, got 70000");
	ck_assert_int_eq(yamlev_next_key(&y, &key, &line, &e), 0);
	free(key);
	ck_assert_int_eq(yamlev_string_list(&y, "list", &list, &n, &e), EXIT_CONFIG);
	ck_assert_str_eq(e.msg, "mem.yaml:2: list: expected a list, got a mapping");
	ck_assert_int_eq(yamlev_scalar(&y, "list", &str, &is_null, &e), EXIT_CONFIG);
	ck_assert_str_eq(e.msg, "mem.yaml:2: list: expected a single value, got a mapping");
	yamlev_close(&y);
}
END_TEST

START_TEST(test_empty_file_is_an_error)
{
	struct yamlev y;
	struct err e = { 0 };
	ck_assert_int_eq(yamlev_open_mem(&y, "# only a comment\n", 17, "c.yaml", EXIT_CONFIG, &e), 0);
	ck_assert_int_eq(yamlev_begin_document(&y, &e), EXIT_CONFIG);
	ck_assert_str_eq(e.msg, "c.yaml: empty document");
	yamlev_close(&y);
}
END_TEST

START_TEST(test_empty_config_lacks_the_required_keys)
{
	const char *docs[] = { "", "# only a comment\n" };
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		struct config *c = NULL;
		struct err e = { 0 };
		ck_assert_int_eq(config_load_mem(docs[i], strlen(docs[i]), "c.yaml", &c, &e),
				 EXIT_CONFIG);
		ck_assert_ptr_null(c);
		ck_assert_str_eq(e.msg, "c.yaml:1: database: missing required key");
	}
}
END_TEST

START_TEST(test_directory_as_config_says_so)
{
	struct config *c = NULL;
	struct err e = { 0 };
	const char *path = src_path("tests/fixtures/config");
	char want[8192];
	snprintf(want, sizeof(want), "cannot read config '%s': Is a directory", path);
	ck_assert_int_eq(config_load(path, &c, &e), EXIT_CONFIG);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(e.msg, want);
}
END_TEST

START_TEST(test_secret_in_conninfo_is_recognised)
{
	struct config *c = config_defaults();
	const char *secret[] = { "dbname=x password=s3cret", "host=h PASSWORD = 'x'",
				 "postgresql://u:s3cret@db/x", "postgres://u:p@h:5432/d?sslmode=require" };
	const char *plain[] = { "", "dbname=ottrecon user=ottrecon", "postgresql://u@db/x",
				"postgresql://db:5432/x", "postgresql:///x?host=/tmp" };
	for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++) {
		free(c->conninfo);
		c->conninfo = strdup(secret[i]);
		ck_assert_msg(config_has_secret(c), "%s", secret[i]);
	}
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		free(c->conninfo);
		c->conninfo = strdup(plain[i]);
		ck_assert_msg(!config_has_secret(c), "%s", plain[i]);
	}
	config_free(c);
}
END_TEST

Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");
	tcase_add_test(tc, test_example_config_loads_every_value);
	tcase_add_test(tc, test_absent_keys_take_the_defaults);
	tcase_add_test(tc, test_sftp_defaults_and_after_pull_move);
	tcase_add_test(tc, test_built_in_defaults);
	tcase_add_test(tc, test_missing_file_names_the_path);
	tcase_add_test(tc, test_syntax_error_has_line_and_column);
	tcase_add_test(tc, test_unknown_key_names_file_line_and_dotted_key);
	tcase_add_test(tc, test_wrong_type_is_an_error);
	tcase_add_test(tc, test_conninfo_error_does_not_echo_its_value);
	tcase_add_test(tc, test_missing_spool_is_an_error);
	tcase_add_test(tc, test_missing_product_sku_is_an_error);
	tcase_add_test(tc, test_bad_kind_is_an_error);
	tcase_add_test(tc, test_bad_monthly_price_is_an_error);
	tcase_add_test(tc, test_duplicate_country_is_an_error);
	tcase_add_test(tc, test_duplicate_product_is_an_error);
	tcase_add_test(tc, test_yaml_anchor_is_unsupported);
	tcase_add_test(tc, test_config_path_precedence);
	tcase_add_test(tc, test_yamlev_reads_typed_values_with_lines);
	tcase_add_test(tc, test_yamlev_type_errors_name_the_key);
	tcase_add_test(tc, test_empty_file_is_an_error);
	tcase_add_test(tc, test_empty_config_lacks_the_required_keys);
	tcase_add_test(tc, test_directory_as_config_says_so);
	tcase_add_test(tc, test_secret_in_conninfo_is_recognised);
	suite_add_tcase(s, tc);
	return s;
}
