/* fuzz_layout.c: the layout (schema) loader on arbitrary YAML, with the shipped schemas/ as the
 * directory `extends:` resolves in. A layout that loads must be consistent (every index in
 * range, every field found by its own name) and must read a small file written in its own
 * dialect: a header of its field names and one row of empty values. */
#include <stdlib.h>
#include <string.h>

#include "buildconf.h"
#include "core/err.h"
#include "core/log.h"
#include "core/strbuf.h"
#include "fuzz_util.h"
#include "layout/layout.h"
#include "layout/reader.h"

static const char *g_schemas;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init(LOG_TEXT, -1, "fuzz");
	g_schemas = getenv("OTTRECON_SCHEMAS");
	if (!g_schemas)
		g_schemas = OTTRECON_SOURCE_ROOT "/schemas";
	return 0;
}

static int on_row(void *ctx, const struct reader_row *row)
{
	(void)ctx;
	(void)row;
	return 0;
}

static int on_reject(void *ctx, const struct reader_reject *rej)
{
	(void)ctx;
	FUZZ_CHECK(rej->reason && *rej->reason);
	return 0;
}

static void check_layout(const struct layout *l)
{
	FUZZ_CHECK(l->name && *l->name && l->n_fields > 0);
	FUZZ_CHECK(l->delimiter != l->quote && l->n_missing_values > 0);
	for (size_t i = 0; i < l->n_fields; i++) {
		FUZZ_CHECK(l->fields[i].name != NULL);
		FUZZ_CHECK(layout_field_index(l, l->fields[i].name) >= 0);
	}
	for (size_t i = 0; i < l->n_primary_key; i++)
		FUZZ_CHECK(l->primary_key[i] < l->n_fields);
	for (size_t g = 0; g < l->n_one_of; g++)
		for (size_t i = 0; i < l->one_of_len[g]; i++)
			FUZZ_CHECK(l->one_of[g][i] < l->n_fields);
	for (size_t i = 0; i < l->n_rename; i++)
		FUZZ_CHECK(layout_field_index(l, l->rename_to[i]) >= 0);

	/* A file in the layout's own dialect: header (when it has one) and one empty row. */
	struct strbuf csv = STRBUF_INIT;
	for (int pass = l->header ? 0 : 1; pass < 2; pass++) {
		for (size_t i = 0; i < l->n_fields; i++) {
			if (i)
				strbuf_addc(&csv, l->delimiter);
			if (pass == 0) {
				strbuf_addc(&csv, l->quote);
				for (const char *p = l->fields[i].name; *p; p++) {
					if (*p == l->quote)
						strbuf_addc(&csv, l->quote);
					strbuf_addc(&csv, *p);
				}
				strbuf_addc(&csv, l->quote);
			}
		}
		strbuf_addc(&csv, '\n');
	}
	struct reader_callbacks cb = { .row = on_row, .reject = on_reject };
	struct reader_stats st;
	struct err e = { 0 };
	int rc = reader_read_mem(l, strbuf_str(&csv), csv.len, "own.csv", &cb, NULL, &st, &e);
	FUZZ_CHECK(rc == 0 || rc == EXIT_DATA);
	if (rc == 0)
		FUZZ_CHECK(st.read == st.loaded + st.rejected);
	strbuf_release(&csv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_scratch_write(data, size, ".yaml");
	struct layout *l = NULL;
	struct err e = { 0 };
	int rc = layout_load_file(path, g_schemas, &l, &e);
	if (rc == 0) {
		FUZZ_CHECK(l != NULL);
		check_layout(l);
		layout_free(l);
	} else {
		FUZZ_CHECK(l == NULL && e.code == rc && e.msg[0] != '\0');
	}
	return 0;
}
