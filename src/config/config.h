/* config.h: the configuration file of SPEC §2, read with libyaml into one struct. */
#ifndef OTTRECON_CONFIG_H
#define OTTRECON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct err;

enum after_pull { AFTER_PULL_KEEP, AFTER_PULL_DELETE, AFTER_PULL_MOVE };
enum activations_mode { MODE_DELTA, MODE_SNAPSHOT };
enum service_type { SERVICE_MOBILE, SERVICE_HOME };
enum product_kind { KIND_BUNDLE, KIND_ADDON };

struct sftp_config {
	char *host;
	long port;               /* default 22 */
	char *user;
	char *private_key;
	char *passphrase_file;   /* optional; NULL when absent. The passphrase itself is never kept here */
	char *known_hosts;       /* required */
	char *remote_inbox;
	char *pattern;           /* default "activations_*.csv" */
	char *remote_outbox;
	enum after_pull after_pull; /* default keep */
	char *after_pull_dir;    /* for move:DIR */
	long timeout_s;          /* default 30 */
	long retries;            /* default 3 */
	long min_age_s;          /* default 0: a file modified less than this long ago is left for
				  * the next run (extension: a partner that writes in place) */
};

struct partner_config {
	char *name;              /* the key under partners: ("docomo") */
	bool has_sftp;
	struct sftp_config sftp;
	enum activations_mode activations_mode; /* default delta */
};

struct product_config {
	char *partner_product;   /* Docomo productName */
	char *site;              /* default "amazon" */
	char *family;
	enum service_type service;
	enum product_kind kind;
	char *sku;
	char *monthly_price;     /* decimal text exactly as configured ("0.00"), default "0.00" */
	char *currency;          /* default "USD" */
	char **eligible_plans;
	size_t n_eligible_plans;
	int line;                /* where it was defined, for messages */
};

struct country_config {
	char *code;              /* "XX" (upper case) */
	char *telco_code;
	struct product_config *products;
	size_t n_products;
};

struct recon_config {
	long free_period_days;        /* 90 */
	long date_tolerance_days;     /* 2 */
	long association_grace_days;  /* 7 */
	long unsubscribe_grace_days;  /* 3 */
	double max_reject_ratio;      /* 0.01 */
};

struct config {
	char *path;                   /* the file it was read from; NULL for built-in defaults */
	char *conninfo;               /* "" = libpq defaults (PG* environment, pg_service.conf) */
	char *spool;
	struct partner_config *partners;
	size_t n_partners;
	struct recon_config recon;
	bool mask_pii;                /* reports.mask_pii, default false */
	struct country_config *countries;
	size_t n_countries;
};

/*
 * Reads and checks the file. Errors are EXIT_CONFIG and read "FILE:LINE: KEY: problem", with KEY
 * the dotted path ("partners.docomo.sftp.port", "countries[0].products[1].kind"):
 *   missing file ("cannot read config 'F': No such file or directory"), YAML syntax error,
 *   unknown key, wrong type, missing required key (database, spool, countries, and within them
 *   code, telco_code, partner_product, family, service, kind, sku; and for an sftp block host,
 *   user, private_key, known_hosts, remote_inbox, remote_outbox), bad enum value, duplicate
 *   country code or duplicate product (same site and partner_product) in one country.
 * Secrets (passphrases, conninfo passwords) are never put in messages.
 */
int config_load(const char *path, struct config **out, struct err *e);
/* The same over a buffer in memory (fuzzing, tests); name stands for the file in messages. */
int config_load_mem(const char *buf, size_t len, const char *name, struct config **out,
		    struct err *e);
/* The defaults of SPEC §2 with no countries, for commands that can run without a file. */
struct config *config_defaults(void);
void config_free(struct config *c);
/* True when the database conninfo holds a password (password=..., or user:secret@ in a URI):
 * the file should then not be readable by others (the commands warn). */
bool config_has_secret(const struct config *c);

/* Which file to read: the --config argument if given, else $OTTRECON_CONFIG, else
 * /etc/ottrecon/ottrecon.yaml. *explicit is false only for the built-in default path. */
const char *config_path(const char *arg, bool *explicit_path);

const struct partner_config *config_partner(const struct config *c, const char *name);
/* The partner whose activation files arrive in spool/inbox (its pattern, its activations_mode):
 * the one named "docomo", else the only partner configured; NULL when there is none (or several,
 * none of them "docomo"), and then the defaults of SPEC §2 apply. */
const struct partner_config *config_activations_partner(const struct config *c);
const struct country_config *config_country(const struct config *c, const char *code);

#endif
