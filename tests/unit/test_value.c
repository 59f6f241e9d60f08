/* test_value.c: unit tests of field value checks and normalisation (SPEC §3 and §8). */
#include <regex.h>
#include <string.h>

#include "core/strbuf.h"
#include "layout/value.h"
#include "suites.h"

static struct layout_field field(enum field_type type)
{
	struct layout_field f;
	memset(&f, 0, sizeof f);
	f.name = (char *)"x";
	f.type = type;
	return f;
}

static char *source_enum[] = { (char *)"TELCO", (char *)"USER", (char *)"PARTNER" };

static struct layout_field enum_field(void)
{
	struct layout_field f = field(FT_STRING);
	f.enum_values = source_enum;
	f.n_enum = 3;
	return f;
}

/* Compiles pattern P the way the layout loader does: "^(" P ")$", extended, no sub-matches. */
static void set_pattern(struct layout_field *f, const char *p)
{
	struct strbuf re = STRBUF_INIT;
	strbuf_addf(&re, "^(%s)$", p);
	f->pattern = (char *)p;
	ck_assert_int_eq(regcomp(&f->pattern_re, re.buf, REG_EXTENDED | REG_NOSUB), 0);
	strbuf_release(&re);
}

/* in must be a string literal: its length comes from sizeof, so it may hold NUL bytes. */
#define ck_assert_accepts(f, in, want)                                                    \
	do {                                                                              \
		struct strbuf o_ = STRBUF_INIT, r_ = STRBUF_INIT;                         \
		int rc_ = value_normalise((f), (in), sizeof(in) - 1, &o_, &r_);           \
		ck_assert_msg(rc_ == 0, "rejected: %s", strbuf_str(&r_));                 \
		ck_assert_str_eq(strbuf_str(&o_), (want));                                \
		ck_assert_str_eq(strbuf_str(&r_), "");                                    \
		strbuf_release(&o_);                                                      \
		strbuf_release(&r_);                                                      \
	} while (0)

#define ck_assert_rejects(f, in, want_reason)                                             \
	do {                                                                              \
		struct strbuf o_ = STRBUF_INIT, r_ = STRBUF_INIT;                         \
		int rc_ = value_normalise((f), (in), sizeof(in) - 1, &o_, &r_);           \
		ck_assert_int_eq(rc_, -1);                                                \
		ck_assert_str_eq(strbuf_str(&r_), (want_reason));                         \
		ck_assert_str_eq(strbuf_str(&o_), "");                                    \
		strbuf_release(&o_);                                                      \
		strbuf_release(&r_);                                                      \
	} while (0)

#define ck_assert_msisdn(in, want)                                                        \
	do {                                                                              \
		char m_[17];                                                              \
		ck_assert_int_eq(msisdn_normalise((in), strlen(in), m_, sizeof m_), 0);   \
		ck_assert_str_eq(m_, (want));                                             \
	} while (0)

#define ck_assert_not_msisdn(in)                                                          \
	do {                                                                              \
		char m_[17];                                                              \
		ck_assert_int_eq(msisdn_normalise((in), strlen(in), m_, sizeof m_), -1);  \
	} while (0)

START_TEST(test_utc_datetime_is_kept)
{
	struct layout_field f = field(FT_DATETIME);
	ck_assert_accepts(&f, "2018-06-29T15:45:31Z", "2018-06-29T15:45:31Z");
}
END_TEST

START_TEST(test_datetime_offset_is_converted_to_utc)
{
	struct layout_field f = field(FT_DATETIME);
	ck_assert_accepts(&f, "2018-05-22T10:31:06-05:00", "2018-05-22T15:31:06Z");
}
END_TEST

START_TEST(test_datetime_fraction_is_kept_to_microseconds)
{
	struct layout_field f = field(FT_DATETIME);
	ck_assert_accepts(&f, "2018-05-22T15:31:06.123456789Z", "2018-05-22T15:31:06.123456Z");
}
END_TEST

START_TEST(test_bare_date_in_datetime_is_midnight_utc)
{
	struct layout_field f = field(FT_DATETIME);
	ck_assert_accepts(&f, "2018-05-22", "2018-05-22T00:00:00Z");
}
END_TEST

START_TEST(test_impossible_datetime_is_rejected_with_reason)
{
	struct layout_field f = field(FT_DATETIME);
	ck_assert_rejects(&f, "2018-02-30T00:00:00Z", "impossible date: '2018-02-30T00:00:00Z'");
	ck_assert_rejects(&f, "2018-05-22T24:00:00Z", "impossible time: '2018-05-22T24:00:00Z'");
	ck_assert_rejects(&f, "2018-05-22T10:00:00+15:00",
			  "impossible UTC offset: '2018-05-22T10:00:00+15:00'");
}
END_TEST

START_TEST(test_slashed_date_is_not_iso)
{
	struct layout_field f = field(FT_DATETIME);
	ck_assert_rejects(&f, "22/05/2018", "not an ISO 8601 timestamp: '22/05/2018'");
}
END_TEST

START_TEST(test_date_is_kept)
{
	struct layout_field f = field(FT_DATE);
	ck_assert_accepts(&f, "2018-05-22", "2018-05-22");
}
END_TEST

START_TEST(test_date_from_timestamp_is_its_utc_date)
{
	struct layout_field f = field(FT_DATE);
	ck_assert_accepts(&f, "2018-05-22T23:30:00-05:00", "2018-05-23");
	ck_assert_accepts(&f, "2018-05-22T01:30:00+05:00", "2018-05-21");
}
END_TEST

START_TEST(test_bad_date_uses_timestamp_reasons)
{
	struct layout_field f = field(FT_DATE);
	ck_assert_rejects(&f, "2018-02-30", "impossible date: '2018-02-30'");
	ck_assert_rejects(&f, "22/05/2018", "not an ISO 8601 timestamp: '22/05/2018'");
}
END_TEST

START_TEST(test_integer_drops_leading_plus)
{
	struct layout_field f = field(FT_INTEGER);
	ck_assert_accepts(&f, "42", "42");
	ck_assert_accepts(&f, "+42", "42");
	ck_assert_accepts(&f, "-7", "-7");
	ck_assert_accepts(&f, "999999999999999999", "999999999999999999");
}
END_TEST

START_TEST(test_integer_rejects_other_shapes)
{
	struct layout_field f = field(FT_INTEGER);
	ck_assert_rejects(&f, "12.5", "not an integer: '12.5'");
	ck_assert_rejects(&f, "+", "not an integer: '+'");
	ck_assert_rejects(&f, "1 000", "not an integer: '1 000'");
	ck_assert_rejects(&f, "0x10", "not an integer: '0x10'");
}
END_TEST

START_TEST(test_integer_of_19_digits_is_rejected)
{
	struct layout_field f = field(FT_INTEGER);
	ck_assert_rejects(&f, "1000000000000000000", "not an integer: '1000000000000000000'");
}
END_TEST

START_TEST(test_decimal_numbers_are_accepted)
{
	struct layout_field f = field(FT_NUMBER);
	ck_assert_accepts(&f, "12", "12");
	ck_assert_accepts(&f, "12.50", "12.50");
	ck_assert_accepts(&f, "-3.1", "-3.1");
	ck_assert_accepts(&f, "0.5", "0.5");
	ck_assert_accepts(&f, "+1.5", "1.5");
}
END_TEST

START_TEST(test_number_rejects_exponent_comma_and_bare_point)
{
	struct layout_field f = field(FT_NUMBER);
	ck_assert_rejects(&f, "1e5", "not a number: '1e5'");
	ck_assert_rejects(&f, "1,50", "not a number: '1,50'");
	ck_assert_rejects(&f, "12.", "not a number: '12.'");
	ck_assert_rejects(&f, ".5", "not a number: '.5'");
	ck_assert_rejects(&f, "-", "not a number: '-'");
}
END_TEST

START_TEST(test_msisdn_field_is_normalised_to_e164)
{
	struct layout_field f = field(FT_STRING);
	f.format = FF_MSISDN;
	ck_assert_accepts(&f, "+573001234567", "+573001234567");
	ck_assert_accepts(&f, "573001234567", "+573001234567");
	ck_assert_accepts(&f, "+57 300 123 4567", "+573001234567");
	ck_assert_accepts(&f, "0057 (300) 123-4567", "+573001234567");
}
END_TEST

START_TEST(test_msisdn_max_length_counts_the_normalised_number)
{
	struct layout_field f = field(FT_STRING);
	f.format = FF_MSISDN;
	f.max_length = 32; /* as in the shipped layouts */
	ck_assert_accepts(&f, "+57 - 300 - 123 - 45 - 67 - 8 - 9", "+57300123456789");
}
END_TEST

START_TEST(test_msisdn_in_scientific_notation_is_rejected)
{
	struct layout_field f = field(FT_STRING);
	f.format = FF_MSISDN;
	ck_assert_rejects(&f, "5.73E+11", "invalid MSISDN (8 to 15 digits expected): '5.73E+11'");
}
END_TEST

START_TEST(test_msisdn_separators_are_removed)
{
	ck_assert_msisdn("57-300.123.4567", "+573001234567");
	ck_assert_msisdn("+57 (300) 123-45-67", "+573001234567");
}
END_TEST

START_TEST(test_msisdn_leading_00_becomes_plus)
{
	ck_assert_msisdn("00573001234567", "+573001234567");
	ck_assert_msisdn("00123456789012345", "+123456789012345");
}
END_TEST

START_TEST(test_msisdn_needs_8_to_15_digits)
{
	ck_assert_msisdn("12345678", "+12345678");
	ck_assert_msisdn("+123456789012345", "+123456789012345");
	ck_assert_not_msisdn("+1234567");
	ck_assert_not_msisdn("1234567890123456");
	ck_assert_not_msisdn("001234567");
	ck_assert_not_msisdn("");
	ck_assert_not_msisdn("+");
	ck_assert_not_msisdn(" - ");
}
END_TEST

START_TEST(test_msisdn_plus_only_first)
{
	ck_assert_not_msisdn("+57+3001234567");
	ck_assert_not_msisdn("573001234567+");
	ck_assert_msisdn(" +573001234567", "+573001234567");
}
END_TEST

START_TEST(test_msisdn_rejects_letters)
{
	ck_assert_not_msisdn("5.73E+11");
	ck_assert_not_msisdn("+57300123456x");
	ck_assert_not_msisdn("+57\t3001234567");
}
END_TEST

START_TEST(test_msisdn_respects_outlen)
{
	char m[13];
	ck_assert_int_eq(msisdn_normalise("+573001234567", 13, m, sizeof m), -1);
	char m2[14];
	ck_assert_int_eq(msisdn_normalise("+573001234567", 13, m2, sizeof m2), 0);
	ck_assert_str_eq(m2, "+573001234567");
}
END_TEST

START_TEST(test_enum_matches_case_insensitively_and_stores_upper_case)
{
	struct layout_field f = enum_field();
	ck_assert_accepts(&f, "telco", "TELCO");
	ck_assert_accepts(&f, "Partner", "PARTNER");
	ck_assert_accepts(&f, "USER", "USER");
}
END_TEST

START_TEST(test_value_outside_enum_is_rejected)
{
	struct layout_field f = enum_field();
	ck_assert_rejects(&f, "x", "not in enum (TELCO|USER|PARTNER): 'x'");
}
END_TEST

START_TEST(test_value_outside_warn_only_enum_is_kept_upper_case)
{
	struct layout_field f = enum_field();
	f.enum_warn_only = true;
	struct strbuf o = STRBUF_INIT, r = STRBUF_INIT;
	ck_assert_int_eq(value_normalise(&f, "amazon", 6, &o, &r), 1);
	ck_assert_str_eq(strbuf_str(&o), "AMAZON");
	ck_assert_str_eq(strbuf_str(&r), "not in enum (TELCO|USER|PARTNER): 'amazon'");
	strbuf_release(&o);
	strbuf_release(&r);
	ck_assert_accepts(&f, "user", "USER");
}
END_TEST

START_TEST(test_value_longer_than_max_length_is_rejected)
{
	struct layout_field f = field(FT_STRING);
	f.max_length = 24;
	ck_assert_accepts(&f, "5b23765be4b06e7171d79c7d", "5b23765be4b06e7171d79c7d");
	ck_assert_rejects(&f, "5b23765be4b06e7171d79c7d0",
			  "longer than maxLength 24: '5b23765be4b06e7171d79c7d0'");
}
END_TEST

START_TEST(test_max_length_counts_code_points)
{
	struct layout_field f = field(FT_STRING);
	f.max_length = 3;
	ck_assert_accepts(&f, "\xC3\xA9t\xC3\xA9", "\xC3\xA9t\xC3\xA9");
	ck_assert_rejects(&f, "\xC3\xA9t\xC3\xA9s", "longer than maxLength 3: '\xC3\xA9t\xC3\xA9s'");
}
END_TEST

START_TEST(test_shown_value_is_cut_to_60_bytes)
{
	struct layout_field f = field(FT_INTEGER);
	ck_assert_rejects(&f, "0123456789012345678901234567890123456789012345678901234567890123456789",
			  "not an integer: '012345678901234567890123456789012345678901234567890123456789'");
}
END_TEST

START_TEST(test_shown_value_is_cut_on_a_utf8_boundary)
{
	struct layout_field f = field(FT_STRING);
	f.max_length = 10;
	/* 59 ASCII bytes, then "é" at bytes 59-60: it would straddle the cut, so it is left out. */
	ck_assert_rejects(&f, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xC3\xA9",
			  "longer than maxLength 10: "
			  "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'");
}
END_TEST

START_TEST(test_value_matching_pattern_is_accepted)
{
	struct layout_field f = field(FT_STRING);
	set_pattern(&f, "[A-Z]{2}");
	ck_assert_accepts(&f, "CO", "CO");
	regfree(&f.pattern_re);
}
END_TEST

START_TEST(test_value_not_matching_pattern_is_rejected)
{
	struct layout_field f = field(FT_STRING);
	set_pattern(&f, "[A-Z]{2}");
	ck_assert_rejects(&f, "x", "does not match pattern [A-Z]{2}: 'x'");
	ck_assert_rejects(&f, "COL", "does not match pattern [A-Z]{2}: 'COL'");
	regfree(&f.pattern_re);
}
END_TEST

START_TEST(test_pattern_applies_to_the_normalised_value)
{
	struct layout_field f = field(FT_STRING);
	f.format = FF_MSISDN;
	set_pattern(&f, "\\+57[0-9]{10}");
	ck_assert_accepts(&f, "0057 300 123 4567", "+573001234567");
	regfree(&f.pattern_re);

	struct layout_field e = enum_field();
	set_pattern(&e, "[A-Z]+");
	ck_assert_accepts(&e, "telco", "TELCO");
	regfree(&e.pattern_re);
}
END_TEST

START_TEST(test_lone_continuation_byte_is_invalid_utf8)
{
	struct layout_field f = field(FT_STRING);
	ck_assert_rejects(&f, "a\x80z", "invalid UTF-8: 'a?z'");
}
END_TEST

START_TEST(test_overlong_encoding_is_invalid_utf8)
{
	struct layout_field f = field(FT_STRING);
	ck_assert_rejects(&f, "\xC0\xAF", "invalid UTF-8: '\?\?'");
	ck_assert_rejects(&f, "\xE0\x80\xAF", "invalid UTF-8: '\?\?\?'");
}
END_TEST

START_TEST(test_surrogate_is_invalid_utf8)
{
	struct layout_field f = field(FT_STRING);
	ck_assert_rejects(&f, "\xED\xA0\x80", "invalid UTF-8: '\?\?\?'");
}
END_TEST

START_TEST(test_code_point_above_10ffff_is_invalid_utf8)
{
	struct layout_field f = field(FT_STRING);
	ck_assert_rejects(&f, "\xF4\x90\x80\x80", "invalid UTF-8: '\?\?\?\?'");
}
END_TEST

START_TEST(test_truncated_sequence_is_invalid_utf8)
{
	struct layout_field f = field(FT_STRING);
	ck_assert_rejects(&f, "\xE2\x82\xACx\xE2\x82", "invalid UTF-8: '\xE2\x82\xACx\?\?'");
}
END_TEST

START_TEST(test_utf8_validity_and_length)
{
	ck_assert(utf8_valid("", 0));
	ck_assert(utf8_valid("\xC3\xA9", 2));
	ck_assert(utf8_valid("\xE2\x82\xAC", 3));
	ck_assert(utf8_valid("\xF0\x9F\x98\x80", 4));
	ck_assert(utf8_valid("\xF4\x8F\xBF\xBF", 4));
	ck_assert(utf8_valid("\xED\x9F\xBF", 3));
	ck_assert(!utf8_valid("\xED\xA0\x80", 3));
	ck_assert(!utf8_valid("\xF0\x8F\xBF\xBF", 4));
	ck_assert(!utf8_valid("\xF8\x88\x80\x80\x80", 5));
	ck_assert(!utf8_valid("\xC3", 1));
	ck_assert_uint_eq(utf8_length("a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80", 10), 4);
}
END_TEST

START_TEST(test_nul_byte_is_rejected)
{
	struct layout_field f = field(FT_STRING);
	ck_assert_rejects(&f, "ab\0cd", "NUL byte: 'ab?cd'");
	ck_assert_rejects(&f, "\0\x80", "NUL byte: '\?\?'");
}
END_TEST

START_TEST(test_control_character_is_rejected)
{
	struct layout_field f = field(FT_STRING);
	ck_assert_rejects(&f, "a\x01z", "control character: 'a?z'");
	ck_assert_rejects(&f, "a\x7Fz", "control character: 'a?z'");
	struct layout_field n = field(FT_INTEGER);
	ck_assert_rejects(&n, "1\x1B", "control character: '1?'");
}
END_TEST

START_TEST(test_tab_and_newlines_are_allowed_but_shown_as_question_marks)
{
	struct layout_field f = field(FT_STRING);
	ck_assert_accepts(&f, "a\tb\r\nc", "a\tb\r\nc");
	f.max_length = 2;
	ck_assert_rejects(&f, "a\tb\nc", "longer than maxLength 2: 'a?b?c'");
}
END_TEST

START_TEST(test_string_is_kept_as_given)
{
	struct layout_field f = field(FT_STRING);
	ck_assert_accepts(&f, "Prime Video, \"HD\" caf\xC3\xA9", "Prime Video, \"HD\" caf\xC3\xA9");
}
END_TEST

START_TEST(test_values_are_appended_and_failures_leave_out_unchanged)
{
	struct layout_field f = enum_field();
	struct strbuf o = STRBUF_INIT, r = STRBUF_INIT;
	strbuf_adds(&o, "prev|");
	strbuf_adds(&r, "row 2: ");
	ck_assert_int_eq(value_normalise(&f, "nope", 4, &o, &r), -1);
	ck_assert_str_eq(strbuf_str(&o), "prev|");
	ck_assert_uint_eq(o.len, 5);
	ck_assert_str_eq(strbuf_str(&r), "row 2: not in enum (TELCO|USER|PARTNER): 'nope'");
	ck_assert_int_eq(value_normalise(&f, "user", 4, &o, &r), 0);
	ck_assert_str_eq(strbuf_str(&o), "prev|USER");
	strbuf_release(&o);
	strbuf_release(&r);
}
END_TEST

Suite *value_suite(void)
{
	Suite *s = suite_create("value");
	TCase *tc = tcase_create("types");
	tcase_add_test(tc, test_utc_datetime_is_kept);
	tcase_add_test(tc, test_datetime_offset_is_converted_to_utc);
	tcase_add_test(tc, test_datetime_fraction_is_kept_to_microseconds);
	tcase_add_test(tc, test_bare_date_in_datetime_is_midnight_utc);
	tcase_add_test(tc, test_impossible_datetime_is_rejected_with_reason);
	tcase_add_test(tc, test_slashed_date_is_not_iso);
	tcase_add_test(tc, test_date_is_kept);
	tcase_add_test(tc, test_date_from_timestamp_is_its_utc_date);
	tcase_add_test(tc, test_bad_date_uses_timestamp_reasons);
	tcase_add_test(tc, test_integer_drops_leading_plus);
	tcase_add_test(tc, test_integer_rejects_other_shapes);
	tcase_add_test(tc, test_integer_of_19_digits_is_rejected);
	tcase_add_test(tc, test_decimal_numbers_are_accepted);
	tcase_add_test(tc, test_number_rejects_exponent_comma_and_bare_point);
	tcase_add_test(tc, test_string_is_kept_as_given);
	suite_add_tcase(s, tc);

	tc = tcase_create("msisdn");
	tcase_add_test(tc, test_msisdn_field_is_normalised_to_e164);
	tcase_add_test(tc, test_msisdn_max_length_counts_the_normalised_number);
	tcase_add_test(tc, test_msisdn_in_scientific_notation_is_rejected);
	tcase_add_test(tc, test_msisdn_separators_are_removed);
	tcase_add_test(tc, test_msisdn_leading_00_becomes_plus);
	tcase_add_test(tc, test_msisdn_needs_8_to_15_digits);
	tcase_add_test(tc, test_msisdn_plus_only_first);
	tcase_add_test(tc, test_msisdn_rejects_letters);
	tcase_add_test(tc, test_msisdn_respects_outlen);
	suite_add_tcase(s, tc);

	tc = tcase_create("constraints");
	tcase_add_test(tc, test_enum_matches_case_insensitively_and_stores_upper_case);
	tcase_add_test(tc, test_value_outside_enum_is_rejected);
	tcase_add_test(tc, test_value_outside_warn_only_enum_is_kept_upper_case);
	tcase_add_test(tc, test_value_longer_than_max_length_is_rejected);
	tcase_add_test(tc, test_max_length_counts_code_points);
	tcase_add_test(tc, test_shown_value_is_cut_to_60_bytes);
	tcase_add_test(tc, test_shown_value_is_cut_on_a_utf8_boundary);
	tcase_add_test(tc, test_value_matching_pattern_is_accepted);
	tcase_add_test(tc, test_value_not_matching_pattern_is_rejected);
	tcase_add_test(tc, test_pattern_applies_to_the_normalised_value);
	tcase_add_test(tc, test_values_are_appended_and_failures_leave_out_unchanged);
	suite_add_tcase(s, tc);

	tc = tcase_create("encoding");
	tcase_add_test(tc, test_lone_continuation_byte_is_invalid_utf8);
	tcase_add_test(tc, test_overlong_encoding_is_invalid_utf8);
	tcase_add_test(tc, test_surrogate_is_invalid_utf8);
	tcase_add_test(tc, test_code_point_above_10ffff_is_invalid_utf8);
	tcase_add_test(tc, test_truncated_sequence_is_invalid_utf8);
	tcase_add_test(tc, test_utf8_validity_and_length);
	tcase_add_test(tc, test_nul_byte_is_rejected);
	tcase_add_test(tc, test_control_character_is_rejected);
	tcase_add_test(tc, test_tab_and_newlines_are_allowed_but_shown_as_question_marks);
	suite_add_tcase(s, tc);
	return s;
}
