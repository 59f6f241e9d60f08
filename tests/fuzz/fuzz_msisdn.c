/* fuzz_msisdn.c: MSISDN normalisation and the value checks of layout/value.c on arbitrary bytes.
 * The first byte picks the field (msisdn, datetime, date, integer, number, enum, pattern,
 * maxLength); the rest is the value. Checks the documented contract of value_normalise: a
 * refused value leaves out as it was and gets a one-line, valid UTF-8 reason; an accepted MSISDN
 * is '+' and 8 to 15 digits; an accepted timestamp reads back. */
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"
#include "core/timeutil.h"
#include "fuzz_util.h"
#include "layout/layout.h"
#include "layout/value.h"

static char *g_enum[] = { "TELCO", "USER", "PARTNER" };
static struct layout_field g_fields[] = {
	{ .name = "msisdn", .type = FT_STRING, .format = FF_MSISDN, .max_length = 32 },
	{ .name = "ts", .type = FT_DATETIME },
	{ .name = "day", .type = FT_DATE },
	{ .name = "n", .type = FT_INTEGER },
	{ .name = "price", .type = FT_NUMBER },
	{ .name = "source", .type = FT_STRING, .enum_values = g_enum, .n_enum = 3 },
	{ .name = "source_warn", .type = FT_STRING, .enum_values = g_enum, .n_enum = 3,
	  .enum_warn_only = true },
	{ .name = "country", .type = FT_STRING, .pattern = "[A-Z]{2}" },
	{ .name = "code", .type = FT_STRING, .max_length = 8 },
};
enum { N_FIELDS = sizeof(g_fields) / sizeof(g_fields[0]) };

static int is_e164(const char *s)
{
	size_t n = strlen(s);
	if (n < 9 || n > 16 || s[0] != '+')
		return 0;
	for (size_t i = 1; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	for (size_t i = 0; i < N_FIELDS; i++)
		if (g_fields[i].pattern && /* as layout.c compiles a constraints.pattern */
		    regcomp(&g_fields[i].pattern_re, "^([A-Z]{2})$", REG_EXTENDED | REG_NOSUB) != 0)
			abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t len = size - 1;
	char *in = malloc(len ? len : 1);
	memcpy(in, data + 1, len);

	char e164[32];
	if (msisdn_normalise(in, len, e164, sizeof(e164)) == 0)
		FUZZ_CHECK(is_e164(e164));
	char tiny[8]; /* too small for any valid number: must be refused, not overrun */
	FUZZ_CHECK(msisdn_normalise(in, len, tiny, sizeof(tiny)) == -1);

	const struct layout_field *f = &g_fields[data[0] % N_FIELDS];
	struct strbuf out = STRBUF_INIT, reason = STRBUF_INIT;
	strbuf_adds(&out, "prefix|");
	int rc = value_normalise(f, in, len, &out, &reason);
	const char *v = strbuf_str(&out) + 7;
	FUZZ_CHECK(rc == -1 || rc == 0 || rc == 1);
	if (rc == -1) {
		FUZZ_CHECK(out.len == 7 && !strcmp(strbuf_str(&out), "prefix|"));
	}
	if (rc != 0) {
		const char *r = strbuf_str(&reason);
		FUZZ_CHECK(strstr(r, ": '") != NULL && r[strlen(r) - 1] == '\'');
		FUZZ_CHECK(utf8_valid(r, strlen(r)));
		for (const char *p = r; *p; p++)
			FUZZ_CHECK((unsigned char)*p >= 0x20 && *p != 0x7F);
	} else {
		FUZZ_CHECK(reason.len == 0);
	}
	if (rc >= 0) {
		FUZZ_CHECK(utf8_valid(v, strlen(v)));
		if (f->format == FF_MSISDN)
			FUZZ_CHECK(is_e164(v));
		if (f->type == FT_DATETIME) {
			int64_t us;
			FUZZ_CHECK(time_parse_iso8601(v, strlen(v), &us) == NULL);
		}
		if (f->type == FT_DATE) {
			int64_t days;
			FUZZ_CHECK(time_parse_date(v, &days) == NULL);
		}
	}
	strbuf_release(&out);
	strbuf_release(&reason);
	free(in);
	return 0;
}
