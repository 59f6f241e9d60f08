/* fuzz_config.c: the YAML configuration loader (SPEC §2) on arbitrary bytes, from memory. A
 * configuration that loads must be usable: every partner and country found by its own name. */
#include <string.h>

#include "config/config.h"
#include "core/err.h"
#include "fuzz_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *c = NULL;
	struct err e = { 0 };
	int rc = config_load_mem((const char *)data, size, "fuzz.yaml", &c, &e);
	if (rc == 0) {
		FUZZ_CHECK(c != NULL && c->spool != NULL && c->conninfo != NULL);
		for (size_t i = 0; i < c->n_partners; i++)
			FUZZ_CHECK(config_partner(c, c->partners[i].name) != NULL);
		for (size_t i = 0; i < c->n_countries; i++) {
			const struct country_config *k = &c->countries[i];
			FUZZ_CHECK(config_country(c, k->code) == k);
			for (size_t j = 0; j < k->n_products; j++)
				FUZZ_CHECK(k->products[j].sku != NULL && k->products[j].family != NULL);
		}
		config_free(c);
	} else {
		FUZZ_CHECK(c == NULL && rc == EXIT_CONFIG && e.code == rc && e.msg[0] != '\0');
	}
	return 0;
}
