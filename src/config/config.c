/* config.c: reads the configuration file of SPEC §2 into struct config, checking every key. */
#include "config/config.h"

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/yamlev.h"
#include "core/err.h"
#include "core/strbuf.h"

#define DEFAULT_CONFIG_PATH "/etc/ottrecon/ottrecon.yaml"
#define DEFAULT_SPOOL "/var/spool/ottrecon"
#define MAX_DAYS 36500L

/* "FILE:LINE: KEY: problem" ("FILE:LINE: problem" for the root, whose key is ""). */
__attribute__((format(printf, 5, 6)))
static int conf_err(const struct yamlev *y, int line, const char *key, struct err *e,
		    const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!*key)
		return err_set(e, EXIT_CONFIG, "%s:%d: %s", y->path, line, msg);
	return err_set(e, EXIT_CONFIG, "%s:%d: %s: %s", y->path, line, key, msg);
}

/* Formats a key path into out (cut when too long: keys come from the file). */
__attribute__((format(printf, 3, 4)))
static void keyf(char *out, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out, n, fmt, ap);
	va_end(ap);
}

/* A node being read (mapping or list): its dotted path, where it starts and, for a mapping, the
 * keys allowed and those met. A null value (`recon:` with nothing after it) reads as empty. */
struct node {
	char path[256];
	const char *const *keys; /* NULL-terminated */
	unsigned seen;           /* bit i: keys[i] met */
	int line;
	bool empty;
	size_t index;            /* list items read */
	char key[320];           /* dotted path of the current key or item */
};

static int node_open(struct yamlev *y, struct node *n, const char *path, bool mapping,
		     const char *const *keys, struct err *e)
{
	yaml_event_type_t t;
	memset(n, 0, sizeof(*n));
	keyf(n->path, sizeof(n->path), "%s", path);
	n->keys = keys;
	int rc = yamlev_peek(y, &t, e);
	if (rc)
		return rc;
	n->line = yamlev_line(y);
	if (t == YAML_SCALAR_EVENT && y->ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		char *s;
		bool is_null;
		if ((rc = yamlev_scalar(y, path, &s, &is_null, e)))
			return rc;
		free(s);
		if (is_null) {
			n->empty = true;
			return 0;
		}
		return conf_err(y, n->line, path, e, "expected %s, got a single value",
				mapping ? "a mapping" : "a list");
	}
	return mapping ? yamlev_expect_mapping(y, path, e) : yamlev_expect_sequence(y, path, e);
}

/* Next key of a mapping node: *idx is its index in keys, or -1 at the end. Unknown and repeated
 * keys are errors. n->key gets the key's dotted path. */
static int node_next_key(struct yamlev *y, struct node *n, int *idx, struct err *e)
{
	char *k;
	int line, rc;
	*idx = -1;
	if (n->empty)
		return 0;
	if ((rc = yamlev_next_key(y, &k, &line, e)) || !k)
		return rc;
	if (*n->path)
		keyf(n->key, sizeof(n->key), "%s.%s", n->path, k);
	else
		keyf(n->key, sizeof(n->key), "%s", k);
	for (int i = 0; n->keys[i]; i++)
		if (!strcmp(n->keys[i], k))
			*idx = i;
	free(k);
	if (*idx < 0)
		return conf_err(y, line, n->key, e, "unknown key");
	if (n->seen & (1u << *idx))
		return conf_err(y, line, n->key, e, "key given twice");
	n->seen |= 1u << *idx;
	return 0;
}

/* 1 when another item follows in a list node; n->key gets "path[i]". */
static int node_next_item(struct yamlev *y, struct node *n, int *more, struct err *e)
{
	*more = 0;
	if (n->empty)
		return 0;
	int rc = yamlev_seq_has_next(y, more, e);
	if (!rc && *more)
		keyf(n->key, sizeof(n->key), "%s[%zu]", n->path, n->index++);
	return rc;
}

/* Checks that the required keys (a bit mask over n->keys) were all met. */
static int node_require(const struct yamlev *y, const struct node *n, unsigned required,
			struct err *e)
{
	for (int i = 0; n->keys[i]; i++) {
		if ((required & (1u << i)) && !(n->seen & (1u << i))) {
			char key[320];
			if (*n->path)
				keyf(key, sizeof(key), "%s.%s", n->path, n->keys[i]);
			else
				keyf(key, sizeof(key), "%s", n->keys[i]);
			return conf_err(y, n->line, key, e, "missing required key");
		}
	}
	return 0;
}

enum str_flags { STR_REQUIRED, STR_OPTIONAL, STR_EMPTY_OK };

/* Reads a string into *dst, replacing any default. A null or empty value is an error
 * (STR_REQUIRED), NULL (STR_OPTIONAL) or "" (STR_EMPTY_OK). Values are never echoed. */
static int read_str(struct yamlev *y, const char *key, char **dst, enum str_flags flags,
		    struct err *e)
{
	char *s;
	bool is_null;
	int rc = yamlev_scalar(y, key, &s, &is_null, e);
	if (rc)
		return rc;
	if (is_null || !*s) {
		free(s);
		if (flags == STR_REQUIRED)
			return conf_err(y, yamlev_line(y), key, e, "must not be empty");
		s = flags == STR_EMPTY_OK ? xstrdup("") : NULL;
	}
	free(*dst);
	*dst = s;
	return 0;
}

/* Reads one of names (case-insensitively) into *out as its index. */
static int read_enum(struct yamlev *y, const char *key, const char *const *names,
		     const char *expected, int *out, struct err *e)
{
	char *s = NULL;
	int rc = read_str(y, key, &s, STR_REQUIRED, e);
	if (rc)
		return rc;
	for (int i = 0; names[i]; i++) {
		if (!strcasecmp(s, names[i])) {
			*out = i;
			free(s);
			return 0;
		}
	}
	rc = conf_err(y, yamlev_line(y), key, e, "expected %s, got '%.60s'", expected, s);
	free(s);
	return rc;
}

static int read_after_pull(struct yamlev *y, const char *key, struct sftp_config *s,
			   struct err *e)
{
	char *v = NULL;
	int rc = read_str(y, key, &v, STR_REQUIRED, e);
	if (rc)
		return rc;
	if (!strcasecmp(v, "keep")) {
		s->after_pull = AFTER_PULL_KEEP;
	} else if (!strcasecmp(v, "delete")) {
		s->after_pull = AFTER_PULL_DELETE;
	} else if (!strncasecmp(v, "move:", 5)) {
		const char *dir = v + 5 + strspn(v + 5, " \t");
		if (!*dir)
			rc = conf_err(y, yamlev_line(y), key, e, "move: needs a directory (move:DIR)");
		s->after_pull = AFTER_PULL_MOVE;
		free(s->after_pull_dir);
		s->after_pull_dir = rc ? NULL : xstrdup(dir);
	} else {
		rc = conf_err(y, yamlev_line(y), key, e,
			      "expected keep, delete or move:DIR, got '%.60s'", v);
	}
	free(v);
	return rc;
}

static const char *const sftp_keys[] = {
	"host", "port", "user", "private_key", "passphrase_file", "known_hosts", "remote_inbox",
	"pattern", "remote_outbox", "after_pull", "timeout_s", "retries", "min_age_s", NULL,
};
/* host, user, private_key and known_hosts (SPEC §2: "required: host keys are always checked");
 * the other keys take the values SPEC §2 shows. */
enum { SFTP_REQUIRED = 1u << 0 | 1u << 2 | 1u << 3 | 1u << 5 };

static int parse_sftp(struct yamlev *y, const char *path, struct sftp_config *s, struct err *e)
{
	struct node n;
	int idx, rc = node_open(y, &n, path, true, sftp_keys, e);
	while (!rc && !(rc = node_next_key(y, &n, &idx, e)) && idx >= 0) {
		char **str[] = { &s->host, NULL, &s->user, &s->private_key, &s->passphrase_file,
				 &s->known_hosts, &s->remote_inbox, &s->pattern, &s->remote_outbox };
		if (idx == 1)
			rc = yamlev_int(y, n.key, 1, 65535, &s->port, e);
		else if (idx == 4)
			rc = read_str(y, n.key, &s->passphrase_file, STR_OPTIONAL, e);
		else if (idx == 9)
			rc = read_after_pull(y, n.key, s, e);
		else if (idx == 10)
			rc = yamlev_int(y, n.key, 1, 86400, &s->timeout_s, e);
		else if (idx == 11)
			rc = yamlev_int(y, n.key, 0, 100, &s->retries, e);
		else if (idx == 12)
			rc = yamlev_int(y, n.key, 0, 86400, &s->min_age_s, e);
		else
			rc = read_str(y, n.key, str[idx], STR_REQUIRED, e);
	}
	return rc ? rc : node_require(y, &n, SFTP_REQUIRED, e);
}

static void sftp_defaults(struct sftp_config *s)
{
	s->port = 22;
	s->remote_inbox = xstrdup("/outgoing/activations");
	s->pattern = xstrdup("activations_*.csv");
	s->remote_outbox = xstrdup("/incoming");
	s->after_pull = AFTER_PULL_KEEP;
	s->timeout_s = 30;
	s->retries = 3;
}

static int parse_partner(struct yamlev *y, const char *path, struct partner_config *p,
			 struct err *e)
{
	static const char *const keys[] = { "sftp", "activations_mode", NULL };
	static const char *const modes[] = { "delta", "snapshot", NULL };
	struct node n;
	int idx, mode, rc = node_open(y, &n, path, true, keys, e);
	while (!rc && !(rc = node_next_key(y, &n, &idx, e)) && idx >= 0) {
		if (idx == 0) {
			p->has_sftp = true;
			rc = parse_sftp(y, n.key, &p->sftp, e);
		} else if (!(rc = read_enum(y, n.key, modes, "delta or snapshot", &mode, e))) {
			p->activations_mode = mode ? MODE_SNAPSHOT : MODE_DELTA;
		}
	}
	return rc;
}

static int parse_partners(struct yamlev *y, struct config *c, const char *path, struct err *e)
{
	struct node n;
	char *name;
	int line, rc = node_open(y, &n, path, true, NULL, e);
	while (!rc && !n.empty && !(rc = yamlev_next_key(y, &name, &line, e)) && name) {
		keyf(n.key, sizeof(n.key), "%s.%s", path, name);
		if (!*name || strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(name))
			rc = conf_err(y, line, n.key, e,
				      "a partner name is made of a-z, 0-9, '_' and '-'");
		else if (config_partner(c, name))
			rc = conf_err(y, line, n.key, e, "key given twice");
		if (rc) {
			free(name);
			break;
		}
		c->partners = xrealloc(c->partners, (c->n_partners + 1) * sizeof(*c->partners));
		struct partner_config *p = &c->partners[c->n_partners++];
		memset(p, 0, sizeof(*p));
		p->name = name;
		p->activations_mode = MODE_DELTA;
		sftp_defaults(&p->sftp);
		rc = parse_partner(y, n.key, p, e);
	}
	return rc;
}

static int parse_recon(struct yamlev *y, struct recon_config *r, const char *path,
		       struct err *e)
{
	static const char *const keys[] = { "free_period_days", "date_tolerance_days",
					    "association_grace_days", "unsubscribe_grace_days",
					    "max_reject_ratio", NULL };
	long *days[] = { &r->free_period_days, &r->date_tolerance_days,
			 &r->association_grace_days, &r->unsubscribe_grace_days };
	struct node n;
	int idx, rc = node_open(y, &n, path, true, keys, e);
	while (!rc && !(rc = node_next_key(y, &n, &idx, e)) && idx >= 0) {
		if (idx == 4)
			rc = yamlev_double(y, n.key, 0, 1, &r->max_reject_ratio, e);
		else
			rc = yamlev_int(y, n.key, 0, MAX_DAYS, days[idx], e);
	}
	return rc;
}

/* A monthly price: digits with an optional fraction ("9.99", "0", "12.5"); no sign. */
static bool is_decimal(const char *s)
{
	size_t i = strspn(s, "0123456789");
	if (i == 0 || i > 12)
		return false;
	if (s[i] == '.') {
		size_t f = strspn(s + i + 1, "0123456789");
		if (f == 0 || f > 6)
			return false;
		i += 1 + f;
	}
	return s[i] == '\0';
}

static bool all_alpha(const char *s, size_t len)
{
	if (strlen(s) != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalpha((unsigned char)s[i]) || (unsigned char)s[i] > 127)
			return false;
	return true;
}

static void upcase(char *s)
{
	for (; *s; s++)
		*s = (char)toupper((unsigned char)*s);
}

static const char *const product_keys[] = {
	"partner_product", "site", "family", "service", "kind", "sku", "monthly_price", "currency",
	"eligible_plans", NULL,
};
enum { PRODUCT_REQUIRED = 1u << 0 | 1u << 2 | 1u << 3 | 1u << 4 | 1u << 5 };

static int parse_product_value(struct yamlev *y, const char *key, int idx,
			       struct product_config *p, struct err *e)
{
	static const char *const services[] = { "MOBILE", "HOME", NULL };
	static const char *const kinds[] = { "BUNDLE", "ADDON", NULL };
	char **str[] = { &p->partner_product, &p->site, &p->family, NULL, NULL, &p->sku,
			 &p->monthly_price, &p->currency };
	int v, rc;
	switch (idx) {
	case 3:
		if (!(rc = read_enum(y, key, services, "MOBILE or HOME", &v, e)))
			p->service = v ? SERVICE_HOME : SERVICE_MOBILE;
		return rc;
	case 4:
		if (!(rc = read_enum(y, key, kinds, "BUNDLE or ADDON", &v, e)))
			p->kind = v ? KIND_ADDON : KIND_BUNDLE;
		return rc;
	case 8:
		return yamlev_string_list(y, key, &p->eligible_plans, &p->n_eligible_plans, e);
	default:
		if ((rc = read_str(y, key, str[idx], STR_REQUIRED, e)))
			return rc;
		if (idx == 6 && !is_decimal(p->monthly_price))
			return conf_err(y, yamlev_line(y), key, e,
					"expected a decimal amount such as 9.99, got '%.60s'",
					p->monthly_price);
		if (idx == 7) {
			if (!all_alpha(p->currency, 3))
				return conf_err(y, yamlev_line(y), key, e,
						"expected a three-letter currency code, got '%.60s'",
						p->currency);
			upcase(p->currency);
		}
		return 0;
	}
}

static int parse_product(struct yamlev *y, const char *path, struct country_config *c,
			 struct err *e)
{
	struct node n;
	int idx, rc;
	c->products = xrealloc(c->products, (c->n_products + 1) * sizeof(*c->products));
	struct product_config *p = &c->products[c->n_products++];
	memset(p, 0, sizeof(*p));
	p->site = xstrdup("amazon");
	p->monthly_price = xstrdup("0.00");
	p->currency = xstrdup("USD");
	rc = node_open(y, &n, path, true, product_keys, e);
	p->line = n.line;
	while (!rc && !(rc = node_next_key(y, &n, &idx, e)) && idx >= 0)
		rc = parse_product_value(y, n.key, idx, p, e);
	if (rc || (rc = node_require(y, &n, PRODUCT_REQUIRED, e)))
		return rc;
	for (size_t i = 0; i + 1 < c->n_products; i++) {
		const struct product_config *q = &c->products[i];
		if (!strcasecmp(q->site, p->site) && !strcmp(q->partner_product, p->partner_product))
			return conf_err(y, p->line, path, e,
					"duplicate product (site '%s', partner_product '%s'), "
					"first defined at line %d", p->site, p->partner_product,
					q->line);
	}
	return 0;
}

static int parse_country(struct yamlev *y, const char *path, struct config *cfg, struct err *e)
{
	static const char *const keys[] = { "code", "telco_code", "products", NULL };
	struct node n, pn;
	int idx, more, code_line = 0, rc;
	cfg->countries = xrealloc(cfg->countries, (cfg->n_countries + 1) * sizeof(*cfg->countries));
	struct country_config *c = &cfg->countries[cfg->n_countries++];
	memset(c, 0, sizeof(*c));
	rc = node_open(y, &n, path, true, keys, e);
	while (!rc && !(rc = node_next_key(y, &n, &idx, e)) && idx >= 0) {
		if (idx == 0) {
			if ((rc = read_str(y, n.key, &c->code, STR_REQUIRED, e)))
				break;
			code_line = yamlev_line(y);
			if (!all_alpha(c->code, 2))
				rc = conf_err(y, code_line, n.key, e,
					      "expected a two-letter country code, got '%.60s'",
					      c->code);
			upcase(c->code);
		} else if (idx == 1) {
			rc = read_str(y, n.key, &c->telco_code, STR_REQUIRED, e);
		} else if (!(rc = node_open(y, &pn, n.key, false, NULL, e))) {
			while (!(rc = node_next_item(y, &pn, &more, e)) && more)
				if ((rc = parse_product(y, pn.key, c, e)))
					break;
		}
	}
	if (rc || (rc = node_require(y, &n, 1u << 0 | 1u << 1, e)))
		return rc;
	for (size_t i = 0; i + 1 < cfg->n_countries; i++) {
		if (!strcmp(cfg->countries[i].code, c->code)) {
			keyf(n.key, sizeof(n.key), "%s.code", path);
			return conf_err(y, code_line, n.key, e,
					"duplicate country code '%s' (also countries[%zu])",
					c->code, i);
		}
	}
	return 0;
}

static int parse_root(struct yamlev *y, struct config *c, struct err *e)
{
	static const char *const keys[] = { "database", "spool", "partners", "recon", "reports",
					    "countries", NULL };
	static const char *const db_keys[] = { "conninfo", NULL };
	static const char *const report_keys[] = { "mask_pii", NULL };
	struct node n, sub;
	int idx, sub_idx, more, rc = node_open(y, &n, "", true, keys, e);
	while (!rc && !(rc = node_next_key(y, &n, &idx, e)) && idx >= 0) {
		switch (idx) {
		case 0:
			rc = node_open(y, &sub, n.key, true, db_keys, e);
			while (!rc && !(rc = node_next_key(y, &sub, &sub_idx, e)) && sub_idx >= 0)
				rc = read_str(y, sub.key, &c->conninfo, STR_EMPTY_OK, e);
			break;
		case 1:
			rc = read_str(y, n.key, &c->spool, STR_REQUIRED, e);
			break;
		case 2:
			rc = parse_partners(y, c, n.key, e);
			break;
		case 3:
			rc = parse_recon(y, &c->recon, n.key, e);
			break;
		case 4:
			rc = node_open(y, &sub, n.key, true, report_keys, e);
			while (!rc && !(rc = node_next_key(y, &sub, &sub_idx, e)) && sub_idx >= 0)
				rc = yamlev_bool(y, sub.key, &c->mask_pii, e);
			break;
		default:
			rc = node_open(y, &sub, n.key, false, NULL, e);
			while (!rc && !(rc = node_next_item(y, &sub, &more, e)) && more)
				rc = parse_country(y, sub.key, c, e);
			break;
		}
	}
	return rc ? rc : node_require(y, &n, 1u << 0 | 1u << 1 | 1u << 5, e);
}

/* After the root node: the document must end, and no second document may follow. */
static int end_document(struct yamlev *y, struct err *e)
{
	yaml_event_type_t t;
	int rc = yamlev_peek(y, &t, e);
	if (!rc && t == YAML_DOCUMENT_END_EVENT && !(rc = yamlev_next(y, e)))
		rc = yamlev_peek(y, &t, e);
	if (!rc && t != YAML_STREAM_END_EVENT)
		rc = err_set(e, EXIT_CONFIG, "%s:%d: only one YAML document is allowed", y->path,
			     yamlev_line(y));
	return rc;
}

struct config *config_defaults(void)
{
	struct config *c = xcalloc(1, sizeof(*c));
	c->conninfo = xstrdup("");
	c->spool = xstrdup(DEFAULT_SPOOL);
	c->recon.free_period_days = 90;
	c->recon.date_tolerance_days = 2;
	c->recon.association_grace_days = 7;
	c->recon.unsubscribe_grace_days = 3;
	c->recon.max_reject_ratio = 0.01;
	return c;
}

/* Reads the document open in y (named path in messages) into *out. Closes y. */
static int load(struct yamlev *y, const char *path, struct config **out, struct err *e)
{
	struct config *c = config_defaults();
	free(c->spool);
	c->spool = NULL;
	c->path = xstrdup(path);
	/* An empty file (or only comments) lacks the required keys like an empty mapping does. */
	yaml_event_type_t t;
	int rc = yamlev_peek(y, &t, e);
	if (!rc && t == YAML_STREAM_START_EVENT && !(rc = yamlev_next(y, e)))
		rc = yamlev_peek(y, &t, e);
	if (!rc && t == YAML_STREAM_END_EVENT)
		rc = conf_err(y, 1, "database", e, "missing required key");
	if (!rc)
		rc = yamlev_begin_document(y, e);
	if (!rc && !(rc = parse_root(y, c, e)))
		rc = end_document(y, e);
	yamlev_close(y);
	if (rc) {
		config_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

int config_load(const char *path, struct config **out, struct err *e)
{
	struct yamlev y;
	*out = NULL;
	int rc = yamlev_open(&y, path, EXIT_CONFIG, e);
	if (rc) {
		/* yamlev says "cannot read 'F': why"; name what it is. */
		if (e && !strncmp(e->msg, "cannot read ", 12)) {
			char why[sizeof(e->msg)];
			snprintf(why, sizeof(why), "%s", e->msg + 12);
			err_set(e, rc, "cannot read config %s", why);
		}
		yamlev_close(&y);
		return rc;
	}
	return load(&y, path, out, e);
}

int config_load_mem(const char *buf, size_t len, const char *name, struct config **out,
		    struct err *e)
{
	struct yamlev y;
	*out = NULL;
	int rc = yamlev_open_mem(&y, buf, len, name, EXIT_CONFIG, e);
	if (rc) {
		yamlev_close(&y);
		return rc;
	}
	return load(&y, name, out, e);
}

bool config_has_secret(const struct config *c)
{
	const char *ci = c ? c->conninfo : NULL;
	if (!ci)
		return false;
	/* keyword form: password=...; URI form: postgresql://user:secret@host */
	for (const char *p = ci; *p; p++)
		if (strncasecmp(p, "password", 8) == 0)
			return true;
	const char *scheme = strstr(ci, "://");
	if (scheme) {
		const char *auth = scheme + 3;
		size_t end = strcspn(auth, "@/?");
		if (auth[end] == '@' && memchr(auth, ':', end))
			return true;
	}
	return false;
}

static void free_list(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

void config_free(struct config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_partners; i++) {
		struct sftp_config *s = &c->partners[i].sftp;
		char *strs[] = { c->partners[i].name, s->host, s->user, s->private_key,
				 s->passphrase_file, s->known_hosts, s->remote_inbox, s->pattern,
				 s->remote_outbox, s->after_pull_dir };
		for (size_t k = 0; k < sizeof(strs) / sizeof(strs[0]); k++)
			free(strs[k]);
	}
	free(c->partners);
	for (size_t i = 0; i < c->n_countries; i++) {
		struct country_config *cc = &c->countries[i];
		for (size_t j = 0; j < cc->n_products; j++) {
			struct product_config *p = &cc->products[j];
			char *strs[] = { p->partner_product, p->site, p->family, p->sku,
					 p->monthly_price, p->currency };
			for (size_t k = 0; k < sizeof(strs) / sizeof(strs[0]); k++)
				free(strs[k]);
			free_list(p->eligible_plans, p->n_eligible_plans);
		}
		free(cc->products);
		free(cc->code);
		free(cc->telco_code);
	}
	free(c->countries);
	free(c->path);
	free(c->conninfo);
	free(c->spool);
	free(c);
}

const char *config_path(const char *arg, bool *explicit_path)
{
	const char *env = getenv("OTTRECON_CONFIG");
	bool given = (arg && *arg) || (env && *env);
	if (explicit_path)
		*explicit_path = given;
	if (arg && *arg)
		return arg;
	return env && *env ? env : DEFAULT_CONFIG_PATH;
}

const struct partner_config *config_partner(const struct config *c, const char *name)
{
	for (size_t i = 0; c && name && i < c->n_partners; i++)
		if (!strcmp(c->partners[i].name, name))
			return &c->partners[i];
	return NULL;
}

const struct partner_config *config_activations_partner(const struct config *c)
{
	const struct partner_config *p = config_partner(c, "docomo");
	if (!p && c && c->n_partners == 1)
		p = &c->partners[0];
	return p;
}

const struct country_config *config_country(const struct config *c, const char *code)
{
	for (size_t i = 0; c && code && i < c->n_countries; i++)
		if (!strcasecmp(c->countries[i].code, code))
			return &c->countries[i];
	return NULL;
}
