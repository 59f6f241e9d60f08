/* fuzz_reader.c: the layout-driven CSV reader on arbitrary bytes, with each shipped layout of
 * schemas/: the first input byte picks the layout, the rest is the file. Checks that every record
 * ends up in exactly one callback and that every row has one value per field. */
#include <stdlib.h>
#include <string.h>

#include "buildconf.h"
#include "core/err.h"
#include "core/log.h"
#include "fuzz_util.h"
#include "layout/layout.h"
#include "layout/reader.h"

static const char *const g_names[] = {
	"docomo_activations", "bss_subscribers",    "bss_addons",
	"bss_churn",          "docomo_eligibility", "docomo_deactivations",
};
enum { N_LAYOUTS = sizeof(g_names) / sizeof(g_names[0]) };
static struct layout *g_layouts[N_LAYOUTS];

struct counts {
	const struct layout *l;
	long rows, rejects;
	size_t bytes;
};

static int on_row(void *vctx, const struct reader_row *row)
{
	struct counts *c = vctx;
	FUZZ_CHECK(row->n_values == c->l->n_fields);
	FUZZ_CHECK(row->line >= 1);
	for (size_t i = 0; i < row->n_values; i++)
		if (row->values[i])
			c->bytes += strlen(row->values[i]); /* touches every byte: ASan checks them */
	c->rows++;
	return 0;
}

static int on_reject(void *vctx, const struct reader_reject *rej)
{
	struct counts *c = vctx;
	FUZZ_CHECK(rej->reason && *rej->reason);
	FUZZ_CHECK(rej->column != NULL);
	FUZZ_CHECK(rej->raw_len <= READER_MAX_RECORD);
	c->bytes += strlen(rej->column) + strlen(rej->reason);
	for (size_t i = 0; i < rej->raw_len; i++)
		c->bytes += (unsigned char)rej->raw[i] != 0;
	c->rejects++;
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init(LOG_TEXT, -1, "fuzz");
	const char *dir = getenv("OTTRECON_SCHEMAS");
	if (!dir)
		dir = OTTRECON_SOURCE_ROOT "/schemas";
	for (size_t i = 0; i < N_LAYOUTS; i++) {
		struct err e = { 0 };
		if (layout_load(dir, g_names[i], &g_layouts[i], &e) != 0) {
			log_err(&e);
			abort();
		}
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct counts c = { .l = g_layouts[data[0] % N_LAYOUTS] };
	struct reader_callbacks cb = { .row = on_row, .reject = on_reject };
	struct reader_stats st;
	struct err e = { 0 };
	/* A copy of exactly size - 1 bytes, so that ASan sees any read past the end. */
	size_t len = size - 1;
	char *buf = malloc(len ? len : 1);
	memcpy(buf, data + 1, len);
	int rc = reader_read_mem(c.l, buf, len, "fuzz.csv", &cb, &c, &st, &e);
	FUZZ_CHECK(rc == 0 || rc == EXIT_DATA);
	FUZZ_CHECK((rc != 0) == (e.code != 0));
	if (rc == 0) {
		FUZZ_CHECK(st.loaded == c.rows && st.rejected == c.rejects);
		FUZZ_CHECK(st.read == st.loaded + st.rejected);
	} else {
		FUZZ_CHECK(e.msg[0] != '\0');
	}
	free(buf);
	return 0;
}
