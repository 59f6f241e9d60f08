/* test_timeutil.c: unit tests of ISO 8601 parsing, formatting and UTC calendar arithmetic. */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "core/timeutil.h"
#include "suites.h"

/* Parses s and formats the result into buf, or returns the reason. */
static const char *roundtrip(const char *s, char *buf, size_t buflen)
{
	int64_t us;
	const char *why = time_parse_iso8601(s, strlen(s), &us);
	if (why)
		return why;
	time_format_iso8601(us, buf, buflen);
	return buf;
}

#define ck_assert_iso(in, want)                                                  \
	do {                                                                     \
		char buf_[40];                                                   \
		ck_assert_str_eq(roundtrip((in), buf_, sizeof buf_), (want));    \
	} while (0)

#define ck_assert_day(name_, y_, m_, d_)                                         \
	do {                                                                     \
		int64_t days_ = -1;                                              \
		ck_assert_int_eq(time_date_from_name((name_), &days_), 0);        \
		ck_assert_int_eq(days_, days_from_civil((y_), (m_), (d_)));       \
	} while (0)

START_TEST(test_utc_timestamp_is_kept)
{
	ck_assert_iso("2018-06-29T15:45:31Z", "2018-06-29T15:45:31Z");
}
END_TEST

START_TEST(test_timestamp_value_is_microseconds_since_epoch)
{
	int64_t us = 1;
	ck_assert_ptr_null(time_parse_iso8601("1970-01-01T00:00:00Z", 20, &us));
	ck_assert_int_eq(us, 0);
	ck_assert_ptr_null(time_parse_iso8601("2018-05-22T15:31:06Z", 20, &us));
	ck_assert_int_eq(us, INT64_C(1527003066000000));
}
END_TEST

START_TEST(test_negative_offset_is_converted_to_utc)
{
	ck_assert_iso("2018-05-22T10:31:06-05:00", "2018-05-22T15:31:06Z");
}
END_TEST

START_TEST(test_positive_offset_with_colon_is_converted_to_utc)
{
	ck_assert_iso("2018-05-22T21:01:06+05:30", "2018-05-22T15:31:06Z");
}
END_TEST

START_TEST(test_offset_without_colon_is_converted_to_utc)
{
	ck_assert_iso("2018-05-22T21:01:06+0530", "2018-05-22T15:31:06Z");
}
END_TEST

START_TEST(test_offset_of_hours_only_is_converted_to_utc)
{
	ck_assert_iso("2018-05-22T20:31:06+05", "2018-05-22T15:31:06Z");
}
END_TEST

START_TEST(test_offset_of_fourteen_hours_is_accepted)
{
	ck_assert_iso("2018-05-23T05:31:06+14:00", "2018-05-22T15:31:06Z");
	ck_assert_iso("2018-05-22T01:31:06-14:00", "2018-05-22T15:31:06Z");
}
END_TEST

START_TEST(test_negative_offset_crosses_year_end)
{
	ck_assert_iso("2018-12-31T22:00:00-05:00", "2019-01-01T03:00:00Z");
}
END_TEST

START_TEST(test_positive_offset_crosses_back_to_previous_year)
{
	ck_assert_iso("2019-01-01T01:00:00+02:00", "2018-12-31T23:00:00Z");
}
END_TEST

START_TEST(test_offset_crosses_into_leap_day)
{
	ck_assert_iso("2024-02-28T23:30:00-01:00", "2024-02-29T00:30:00Z");
	ck_assert_iso("2023-02-28T23:30:00-01:00", "2023-03-01T00:30:00Z");
}
END_TEST

START_TEST(test_half_second_fraction_is_kept)
{
	ck_assert_iso("2018-05-22T15:31:06.5Z", "2018-05-22T15:31:06.5Z");
}
END_TEST

START_TEST(test_nanosecond_fraction_is_truncated_to_microseconds)
{
	ck_assert_iso("2018-05-22T15:31:06.123456789Z", "2018-05-22T15:31:06.123456Z");
}
END_TEST

START_TEST(test_fraction_trailing_zeros_are_dropped)
{
	ck_assert_iso("2018-05-22T15:31:06.120Z", "2018-05-22T15:31:06.12Z");
	ck_assert_iso("2018-05-22T15:31:06.000Z", "2018-05-22T15:31:06Z");
}
END_TEST

START_TEST(test_fraction_with_offset_is_converted)
{
	ck_assert_iso("2018-05-22T10:31:06.000001-05:00", "2018-05-22T15:31:06.000001Z");
}
END_TEST

START_TEST(test_bare_date_is_midnight_utc)
{
	ck_assert_iso("2018-05-22", "2018-05-22T00:00:00Z");
}
END_TEST

START_TEST(test_space_instead_of_t_is_accepted)
{
	ck_assert_iso("2018-05-22 15:31:06Z", "2018-05-22T15:31:06Z");
}
END_TEST

START_TEST(test_lower_case_t_and_z_are_accepted)
{
	ck_assert_iso("2018-05-22t15:31:06z", "2018-05-22T15:31:06Z");
}
END_TEST

START_TEST(test_timestamp_without_zone_is_utc)
{
	ck_assert_iso("2018-05-22T15:31:06", "2018-05-22T15:31:06Z");
}
END_TEST

START_TEST(test_timestamp_without_seconds_is_accepted)
{
	ck_assert_iso("2018-05-22T15:31Z", "2018-05-22T15:31:00Z");
}
END_TEST

START_TEST(test_only_len_bytes_are_parsed)
{
	int64_t us;
	ck_assert_ptr_null(time_parse_iso8601("2018-05-22T15:31:06Zjunk", 20, &us));
	ck_assert_int_eq(us, INT64_C(1527003066000000));
}
END_TEST

START_TEST(test_february_30_is_an_impossible_date)
{
	ck_assert_iso("2018-02-30T00:00:00Z", "impossible date");
}
END_TEST

START_TEST(test_month_13_and_day_0_are_impossible_dates)
{
	ck_assert_iso("2018-13-01", "impossible date");
	ck_assert_iso("2018-05-00", "impossible date");
	ck_assert_iso("2018-04-31T00:00:00Z", "impossible date");
}
END_TEST

START_TEST(test_year_zero_is_an_impossible_date)
{
	ck_assert_iso("0000-01-01", "impossible date");
}
END_TEST

/* Found by tests/fuzz/fuzz_timestamp: the offset carried these to years 0 and 10000 in UTC, which
 * formatted as text that does not parse again (and PostgreSQL refuses year 0). */
START_TEST(test_offset_moving_out_of_years_1_to_9999_is_an_impossible_date)
{
	ck_assert_iso("0001-01-01T00:00:00+01:00", "impossible date");
	ck_assert_iso("0001-01-01T00:59:59.999999+01:00", "impossible date");
	ck_assert_iso("0001-01-01T01:00:00+01:00", "0001-01-01T00:00:00Z");
	ck_assert_iso("9999-12-31T23:00:00-01:00", "impossible date");
	ck_assert_iso("9999-12-31T22:59:59.999999-01:00", "9999-12-31T23:59:59.999999Z");
}
END_TEST

START_TEST(test_leap_years_follow_gregorian_rules)
{
	ck_assert_iso("2000-02-29", "2000-02-29T00:00:00Z");
	ck_assert_iso("1900-02-29", "impossible date");
	ck_assert_iso("2024-02-29T12:00:00Z", "2024-02-29T12:00:00Z");
	ck_assert_iso("2023-02-29T12:00:00Z", "impossible date");
}
END_TEST

START_TEST(test_day_month_year_with_slashes_is_not_iso)
{
	ck_assert_iso("22/05/2018", "not an ISO 8601 timestamp");
}
END_TEST

START_TEST(test_single_digit_month_is_not_iso)
{
	ck_assert_iso("2018-5-22", "not an ISO 8601 timestamp");
}
END_TEST

START_TEST(test_trailing_garbage_is_not_iso)
{
	ck_assert_iso("2018-05-22x", "not an ISO 8601 timestamp");
	ck_assert_iso("2018-05-22T15:31:06Zx", "not an ISO 8601 timestamp");
	ck_assert_iso("2018-05-22T15:31:06 ", "not an ISO 8601 timestamp");
	ck_assert_iso("2018-05-22T15:31:06+05:00x", "not an ISO 8601 timestamp");
	ck_assert_iso("2018-02-30T00:00:00Zx", "not an ISO 8601 timestamp");
}
END_TEST

START_TEST(test_incomplete_timestamps_are_not_iso)
{
	ck_assert_iso("", "not an ISO 8601 timestamp");
	ck_assert_iso("2018-05-22T", "not an ISO 8601 timestamp");
	ck_assert_iso("2018-05-22T15", "not an ISO 8601 timestamp");
	ck_assert_iso("2018-05-22T15:31:06.Z", "not an ISO 8601 timestamp");
	ck_assert_iso("2018-05-22T15:31.5Z", "not an ISO 8601 timestamp");
	ck_assert_iso("2018-05-22T15:31:06+05:3", "not an ISO 8601 timestamp");
	ck_assert_iso("2018-05-22T15:31:06+5", "not an ISO 8601 timestamp");
	ck_assert_iso("2018-05-22Z", "not an ISO 8601 timestamp");
}
END_TEST

START_TEST(test_fraction_of_ten_digits_is_not_iso)
{
	ck_assert_iso("2018-05-22T15:31:06.1234567890Z", "not an ISO 8601 timestamp");
}
END_TEST

START_TEST(test_hour_24_is_an_impossible_time)
{
	ck_assert_iso("2018-05-22T24:00:00Z", "impossible time");
}
END_TEST

START_TEST(test_minute_60_is_an_impossible_time)
{
	ck_assert_iso("2018-05-22T15:60:00Z", "impossible time");
}
END_TEST

START_TEST(test_leap_second_60_is_an_impossible_time)
{
	ck_assert_iso("2016-12-31T23:59:60Z", "impossible time");
	ck_assert_iso("2018-05-22T15:31:61Z", "impossible time");
}
END_TEST

START_TEST(test_offset_beyond_14_hours_is_impossible)
{
	ck_assert_iso("2018-05-22T15:31:06+14:30", "impossible UTC offset");
	ck_assert_iso("2018-05-22T15:31:06-15:00", "impossible UTC offset");
}
END_TEST

START_TEST(test_offset_minutes_60_is_impossible)
{
	ck_assert_iso("2018-05-22T15:31:06+05:60", "impossible UTC offset");
}
END_TEST

START_TEST(test_format_before_epoch_floors_to_previous_day)
{
	char buf[40];
	time_format_iso8601(-500000, buf, sizeof buf);
	ck_assert_str_eq(buf, "1969-12-31T23:59:59.5Z");
	ck_assert_iso("1969-12-31T23:59:59.5Z", "1969-12-31T23:59:59.5Z");
	ck_assert_iso("0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z");
	ck_assert_iso("9999-12-31T23:59:59.999999Z", "9999-12-31T23:59:59.999999Z");
}
END_TEST

START_TEST(test_us_to_days_floors_negative_epochs)
{
	const int64_t day = INT64_C(86400000000);
	ck_assert_int_eq(time_us_to_days(0), 0);
	ck_assert_int_eq(time_us_to_days(day - 1), 0);
	ck_assert_int_eq(time_us_to_days(day), 1);
	ck_assert_int_eq(time_us_to_days(-1), -1);
	ck_assert_int_eq(time_us_to_days(-day), -1);
	ck_assert_int_eq(time_us_to_days(-day - 1), -2);
}
END_TEST

START_TEST(test_report_format_truncates_to_seconds)
{
	char buf[40];
	time_format_report(INT64_C(1527003066999999), buf, sizeof buf);
	ck_assert_str_eq(buf, "2018-05-22 15:31:06");
	time_format_report(-500000, buf, sizeof buf);
	ck_assert_str_eq(buf, "1969-12-31 23:59:59");
}
END_TEST

START_TEST(test_date_format_counts_days_from_epoch)
{
	char buf[16];
	time_format_date(0, buf, sizeof buf);
	ck_assert_str_eq(buf, "1970-01-01");
	time_format_date(17673, buf, sizeof buf);
	ck_assert_str_eq(buf, "2018-05-22");
	time_format_date(-1, buf, sizeof buf);
	ck_assert_str_eq(buf, "1969-12-31");
	time_format_date(-719162, buf, sizeof buf);
	ck_assert_str_eq(buf, "0001-01-01");
}
END_TEST

START_TEST(test_civil_days_round_trip_over_all_years)
{
	ck_assert_int_eq(days_from_civil(1970, 1, 1), 0);
	ck_assert_int_eq(days_from_civil(9999, 12, 31), 2932896);
	/* Years 0001-9999, every day; counted rather than asserted per day (Check is slow per assert). */
	int64_t bad = 0, prev_y = 1;
	unsigned prev_m = 1, prev_d = 0;
	for (int64_t days = -719162; days <= 2932896; days++) {
		int64_t y;
		unsigned m, d;
		civil_from_days(days, &y, &m, &d);
		int next = (y == prev_y && m == prev_m && d == prev_d + 1) ||
			   (y == prev_y && m == prev_m + 1 && d == 1) || (y == prev_y + 1 && m == 1 && d == 1);
		if (!next || !date_is_valid(y, m, d) || days_from_civil(y, m, d) != days)
			bad++;
		prev_y = y;
		prev_m = m;
		prev_d = d;
	}
	ck_assert_int_eq(bad, 0);
	ck_assert_int_eq(prev_y, 9999);
}
END_TEST

START_TEST(test_date_is_valid_knows_month_lengths)
{
	ck_assert(date_is_valid(2018, 4, 30));
	ck_assert(!date_is_valid(2018, 4, 31));
	ck_assert(date_is_valid(2018, 12, 31));
	ck_assert(!date_is_valid(2018, 13, 1));
	ck_assert(!date_is_valid(2018, 0, 1));
	ck_assert(!date_is_valid(2018, 1, 0));
}
END_TEST

START_TEST(test_parse_date_accepts_exact_iso_date)
{
	int64_t days = 0;
	ck_assert_ptr_null(time_parse_date("2026-12-03", &days));
	ck_assert_int_eq(days, 20790);
}
END_TEST

START_TEST(test_parse_date_rejects_other_shapes)
{
	int64_t days;
	ck_assert_str_eq(time_parse_date("2026-12-3", &days), "not an ISO date");
	ck_assert_str_eq(time_parse_date("2026-12-03T00:00:00Z", &days), "not an ISO date");
	ck_assert_str_eq(time_parse_date("03/12/2026", &days), "not an ISO date");
	ck_assert_str_eq(time_parse_date("", &days), "not an ISO date");
}
END_TEST

START_TEST(test_parse_date_rejects_impossible_date)
{
	int64_t days;
	ck_assert_str_eq(time_parse_date("2026-02-29", &days), "impossible date");
}
END_TEST

START_TEST(test_today_is_the_current_utc_day)
{
	int64_t before = (int64_t)time(NULL) / 86400;
	int64_t today = time_today_utc();
	int64_t after = (int64_t)time(NULL) / 86400;
	ck_assert(today >= before && today <= after);
}
END_TEST

START_TEST(test_date_from_name_finds_yyyymmdd)
{
	ck_assert_day("activations_20261203.csv", 2026, 12, 3);
	ck_assert_day("20261203", 2026, 12, 3);
	ck_assert_day("eligibility_XX_20261203.csv.ctl", 2026, 12, 3);
}
END_TEST

START_TEST(test_date_from_name_skips_runs_that_are_not_dates)
{
	ck_assert_day("batch_12345678_20261203.csv", 2026, 12, 3);
	ck_assert_day("x_20260230_20260228.csv", 2026, 2, 28);
}
END_TEST

START_TEST(test_date_from_name_needs_exactly_eight_digits)
{
	int64_t days;
	ck_assert_int_eq(time_date_from_name("x_123456789.csv", &days), -1);
	ck_assert_int_eq(time_date_from_name("x_202612031.csv", &days), -1);
	ck_assert_int_eq(time_date_from_name("x_2026120.csv", &days), -1);
	ck_assert_int_eq(time_date_from_name("activations.csv", &days), -1);
}
END_TEST

START_TEST(test_date_from_name_keeps_years_1900_to_2999)
{
	int64_t days;
	ck_assert_int_eq(time_date_from_name("x_18991231.csv", &days), -1);
	ck_assert_int_eq(time_date_from_name("x_30000101.csv", &days), -1);
	ck_assert_day("x_19000101.csv", 1900, 1, 1);
	ck_assert_day("x_29991231.csv", 2999, 12, 31);
}
END_TEST

Suite *timeutil_suite(void)
{
	Suite *s = suite_create("timeutil");
	TCase *tc = tcase_create("iso8601");
	tcase_add_test(tc, test_utc_timestamp_is_kept);
	tcase_add_test(tc, test_timestamp_value_is_microseconds_since_epoch);
	tcase_add_test(tc, test_negative_offset_is_converted_to_utc);
	tcase_add_test(tc, test_positive_offset_with_colon_is_converted_to_utc);
	tcase_add_test(tc, test_offset_without_colon_is_converted_to_utc);
	tcase_add_test(tc, test_offset_of_hours_only_is_converted_to_utc);
	tcase_add_test(tc, test_offset_of_fourteen_hours_is_accepted);
	tcase_add_test(tc, test_negative_offset_crosses_year_end);
	tcase_add_test(tc, test_positive_offset_crosses_back_to_previous_year);
	tcase_add_test(tc, test_offset_crosses_into_leap_day);
	tcase_add_test(tc, test_half_second_fraction_is_kept);
	tcase_add_test(tc, test_nanosecond_fraction_is_truncated_to_microseconds);
	tcase_add_test(tc, test_fraction_trailing_zeros_are_dropped);
	tcase_add_test(tc, test_fraction_with_offset_is_converted);
	tcase_add_test(tc, test_bare_date_is_midnight_utc);
	tcase_add_test(tc, test_space_instead_of_t_is_accepted);
	tcase_add_test(tc, test_lower_case_t_and_z_are_accepted);
	tcase_add_test(tc, test_timestamp_without_zone_is_utc);
	tcase_add_test(tc, test_timestamp_without_seconds_is_accepted);
	tcase_add_test(tc, test_only_len_bytes_are_parsed);
	tcase_add_test(tc, test_february_30_is_an_impossible_date);
	tcase_add_test(tc, test_month_13_and_day_0_are_impossible_dates);
	tcase_add_test(tc, test_year_zero_is_an_impossible_date);
	tcase_add_test(tc, test_offset_moving_out_of_years_1_to_9999_is_an_impossible_date);
	tcase_add_test(tc, test_leap_years_follow_gregorian_rules);
	tcase_add_test(tc, test_day_month_year_with_slashes_is_not_iso);
	tcase_add_test(tc, test_single_digit_month_is_not_iso);
	tcase_add_test(tc, test_trailing_garbage_is_not_iso);
	tcase_add_test(tc, test_incomplete_timestamps_are_not_iso);
	tcase_add_test(tc, test_fraction_of_ten_digits_is_not_iso);
	tcase_add_test(tc, test_hour_24_is_an_impossible_time);
	tcase_add_test(tc, test_minute_60_is_an_impossible_time);
	tcase_add_test(tc, test_leap_second_60_is_an_impossible_time);
	tcase_add_test(tc, test_offset_beyond_14_hours_is_impossible);
	tcase_add_test(tc, test_offset_minutes_60_is_impossible);
	suite_add_tcase(s, tc);

	tc = tcase_create("calendar");
	tcase_add_test(tc, test_format_before_epoch_floors_to_previous_day);
	tcase_add_test(tc, test_us_to_days_floors_negative_epochs);
	tcase_add_test(tc, test_report_format_truncates_to_seconds);
	tcase_add_test(tc, test_date_format_counts_days_from_epoch);
	tcase_add_test(tc, test_civil_days_round_trip_over_all_years);
	tcase_add_test(tc, test_date_is_valid_knows_month_lengths);
	tcase_add_test(tc, test_parse_date_accepts_exact_iso_date);
	tcase_add_test(tc, test_parse_date_rejects_other_shapes);
	tcase_add_test(tc, test_parse_date_rejects_impossible_date);
	tcase_add_test(tc, test_today_is_the_current_utc_day);
	tcase_add_test(tc, test_date_from_name_finds_yyyymmdd);
	tcase_add_test(tc, test_date_from_name_skips_runs_that_are_not_dates);
	tcase_add_test(tc, test_date_from_name_needs_exactly_eight_digits);
	tcase_add_test(tc, test_date_from_name_keeps_years_1900_to_2999);
	suite_add_tcase(s, tc);
	return s;
}
