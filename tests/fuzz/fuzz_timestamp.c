/* fuzz_timestamp.c: the ISO 8601 parsers of core/timeutil.c on arbitrary bytes. Checks that a
 * timestamp accepted formats back to text that parses to the same instant (what the loader stores
 * must be readable again), and that every refusal is one of the documented reasons. */
#include <stdlib.h>
#include <string.h>

#include "core/timeutil.h"
#include "fuzz_util.h"

static int known_reason(const char *why)
{
	return !strcmp(why, "not an ISO 8601 timestamp") || !strcmp(why, "impossible date") ||
	       !strcmp(why, "impossible time") || !strcmp(why, "impossible UTC offset");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Exactly size bytes (not NUL-terminated) for the length-taking parser. */
	char *s = malloc(size ? size : 1);
	memcpy(s, data, size);
	int64_t us = 0;
	const char *why = time_parse_iso8601(s, size, &us);
	if (why) {
		FUZZ_CHECK(known_reason(why));
	} else {
		char text[64], report[64], date[32];
		time_format_iso8601(us, text, sizeof(text));
		int64_t again = 0;
		FUZZ_CHECK(time_parse_iso8601(text, strlen(text), &again) == NULL);
		FUZZ_CHECK(again == us);
		time_format_report(us, report, sizeof(report));
		FUZZ_CHECK(strlen(report) == 19);
		time_format_date(time_us_to_days(us), date, sizeof(date));
		int64_t days = 0;
		FUZZ_CHECK(time_parse_date(date, &days) == NULL && days == time_us_to_days(us));
	}
	free(s);

	/* The NUL-terminated parsers: command-line dates and dates in file names. */
	char *z = malloc(size + 1);
	memcpy(z, data, size);
	z[size] = '\0';
	int64_t days = 0;
	why = time_parse_date(z, &days);
	if (why) {
		FUZZ_CHECK(!strcmp(why, "not an ISO date") || !strcmp(why, "impossible date"));
	} else {
		char date[32];
		time_format_date(days, date, sizeof(date));
		FUZZ_CHECK(strlen(z) == 10 && !strcmp(date, z));
	}
	if (time_date_from_name(z, &days) == 0) {
		int64_t y;
		unsigned m, d;
		civil_from_days(days, &y, &m, &d);
		FUZZ_CHECK(y >= 1900 && y <= 2999 && date_is_valid(y, m, d));
	}
	free(z);
	return 0;
}
