/* test_reader.c: the layout-driven CSV reader against SPEC §3's common input rules. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/strbuf.h"
#include "layout/dupkeys.h"
#include "layout/layout.h"
#include "layout/reader.h"
#include "layout/scan.h"
#include "suites.h"

/* A small layout built by hand, so these tests depend on the reader alone:
 * id (required, maxLength 8), msisdn (msisdn format), ts (datetime), kind (enum A|B), note. */
static struct layout_field g_fields[5];
static char *g_enum[] = { "A", "B" };
static char *g_missing[] = { "" };
static size_t g_one_of_group[] = { 1, 4 }; /* msisdn or note */
static size_t *g_one_of[] = { g_one_of_group };
static size_t g_one_of_len[] = { 2 };
static struct layout g_layout;

static void setup_layout(void)
{
	memset(g_fields, 0, sizeof(g_fields));
	g_fields[0] = (struct layout_field){ .name = "id", .type = FT_STRING, .required = true,
					     .max_length = 8 };
	g_fields[1] = (struct layout_field){ .name = "msisdn", .type = FT_STRING,
					     .format = FF_MSISDN };
	g_fields[2] = (struct layout_field){ .name = "ts", .type = FT_DATETIME };
	g_fields[3] = (struct layout_field){ .name = "kind", .type = FT_STRING,
					     .enum_values = g_enum, .n_enum = 2 };
	g_fields[4] = (struct layout_field){ .name = "note", .type = FT_STRING };
	g_layout = (struct layout){ .name = "t", .fields = g_fields, .n_fields = 5,
				    .missing_values = g_missing, .n_missing_values = 1,
				    .one_of = g_one_of, .one_of_len = g_one_of_len, .n_one_of = 1,
				    .delimiter = ',', .quote = '"', .header = true };
}

/* What a read produced, as text: one line per row "L<line>|id|msisdn|ts|kind|note" (missing
 * values as "-") and one per reject "R<line>|column|reason|raw". */
struct result {
	struct strbuf out;
	struct reader_stats st;
	struct err e;
	int rc;
};

static int on_row(void *vctx, const struct reader_row *row)
{
	struct result *r = vctx;
	strbuf_addf(&r->out, "L%ld", row->line);
	for (size_t i = 0; i < row->n_values; i++)
		strbuf_addf(&r->out, "|%s", row->values[i] ? row->values[i] : "-");
	strbuf_addc(&r->out, '\n');
	return 0;
}

static int on_reject(void *vctx, const struct reader_reject *rej)
{
	struct result *r = vctx;
	strbuf_addf(&r->out, "R%ld|%s|%s|", rej->line, rej->column, rej->reason);
	strbuf_add(&r->out, rej->raw, rej->raw_len);
	strbuf_addc(&r->out, '\n');
	return 0;
}

static struct result *read_text(const char *text, size_t len)
{
	static struct result r;
	strbuf_release(&r.out);
	memset(&r, 0, sizeof(r));
	struct reader_callbacks cb = { .row = on_row, .reject = on_reject };
	r.rc = reader_read_mem(&g_layout, text, len, "t.csv", &cb, &r, &r.st, &r.e);
	return &r;
}
#define READ(s) read_text((s), sizeof(s) - 1)

static void assert_counts(const struct result *r, long read, long loaded, long rejected)
{
	ck_assert_int_eq(r->rc, 0);
	ck_assert_int_eq(r->st.read, read);
	ck_assert_int_eq(r->st.loaded, loaded);
	ck_assert_int_eq(r->st.rejected, rejected);
}

START_TEST(test_plain_rows_load_with_normalised_values)
{
	struct result *r = READ("id,msisdn,ts,kind,note\n"
				"a1,+573001234567,2018-05-22T15:31:06Z,a,hello\n");
	assert_counts(r, 1, 1, 0);
	ck_assert_str_eq(r->out.buf, "L2|a1|+573001234567|2018-05-22T15:31:06Z|A|hello\n");
}
END_TEST

START_TEST(test_utf8_bom_is_skipped)
{
	struct result *r = READ("\xEF\xBB\xBFid,note\nx,y\n");
	assert_counts(r, 1, 1, 0);
	ck_assert_str_eq(r->out.buf, "L2|x|-|-|-|y\n");
}
END_TEST

START_TEST(test_crlf_and_mixed_line_endings)
{
	struct result *r = READ("id,note\r\na,1\nb,2\r\nc,3");
	assert_counts(r, 3, 3, 0);
	ck_assert_str_eq(r->out.buf, "L2|a|-|-|-|1\nL3|b|-|-|-|2\nL4|c|-|-|-|3\n");
}
END_TEST

START_TEST(test_lone_cr_rejects_the_record)
{
	struct result *r = READ("id,note\na,1\rb,2\nc,3\n");
	assert_counts(r, 2, 1, 1);
	ck_assert_str_eq(r->out.buf,
			 "R2||bare CR (carriage return without line feed) outside quotes|a,1\rb,2\n"
			 "L3|c|-|-|-|3\n");
}
END_TEST

START_TEST(test_no_newline_at_end_of_file)
{
	struct result *r = READ("id,note\na,1");
	assert_counts(r, 1, 1, 0);
	ck_assert_str_eq(r->out.buf, "L2|a|-|-|-|1\n");
}
END_TEST

START_TEST(test_empty_file_is_refused)
{
	struct result *r = READ("");
	ck_assert_int_eq(r->rc, EXIT_DATA);
	ck_assert_str_eq(r->e.msg, "t.csv: empty file: no header row");
}
END_TEST

START_TEST(test_header_only_reads_nothing)
{
	struct result *r = READ("id,note\n");
	assert_counts(r, 0, 0, 0);
	ck_assert_str_eq(strbuf_str(&r->out), "");
}
END_TEST

START_TEST(test_blank_lines_are_skipped_and_lines_still_counted)
{
	struct result *r = READ("id,note\n\na,1\n   \n\nb,2\n\n");
	assert_counts(r, 2, 2, 0);
	ck_assert_int_eq(r->st.blank, 4);
	ck_assert_str_eq(r->out.buf, "L3|a|-|-|-|1\nL6|b|-|-|-|2\n");
}
END_TEST

START_TEST(test_columns_in_another_order)
{
	struct result *r = READ("note,kind,id\nn,b,x\n");
	assert_counts(r, 1, 1, 0);
	ck_assert_str_eq(r->out.buf, "L2|x|-|-|B|n\n");
}
END_TEST

START_TEST(test_unknown_extra_column_is_ignored)
{
	struct result *r = READ("id,extra,note\nx,zzz,n\n");
	assert_counts(r, 1, 1, 0);
	ck_assert_str_eq(r->out.buf, "L2|x|-|-|-|n\n");
}
END_TEST

START_TEST(test_missing_required_column_refuses_the_file)
{
	struct result *r = READ("note,kind\nn,a\n");
	ck_assert_int_eq(r->rc, EXIT_DATA);
	ck_assert_str_eq(r->e.msg, "t.csv:1: missing required column 'id'");
}
END_TEST

START_TEST(test_missing_one_of_group_column_refuses_the_file)
{
	struct result *r = READ("id,kind\nx,a\n");
	ck_assert_int_eq(r->rc, EXIT_DATA);
	ck_assert_str_eq(r->e.msg, "t.csv:1: missing column 'msisdn' (one of 2 required)");
}
END_TEST

START_TEST(test_duplicate_header_name_refuses_the_file)
{
	struct result *r = READ("id,note,id\nx,n,y\n");
	ck_assert_int_eq(r->rc, EXIT_DATA);
	ck_assert_str_eq(r->e.msg, "t.csv:1: duplicate column 'id' in header");
}
END_TEST

/* SPEC §3: unknown extra columns are ignored with a warning, also when their name repeats:
 * an export ending every line with ",," has two unknown columns named ''. */
START_TEST(test_repeated_unknown_columns_are_ignored)
{
	struct result *r = READ("id,note,extra,extra,,\nx,n,1,2,,\n");
	assert_counts(r, 1, 1, 0);
	ck_assert_str_eq(r->out.buf, "L2|x|-|-|-|n\n");
}
END_TEST

START_TEST(test_too_many_and_too_few_fields_are_rejected)
{
	struct result *r = READ("id,note\na,1,2\nb\nc,3\n");
	assert_counts(r, 3, 1, 2);
	ck_assert_str_eq(r->out.buf, "R2||wrong number of fields: expected 2, got 3|a,1,2\n"
				     "R3||wrong number of fields: expected 2, got 1|b\n"
				     "L4|c|-|-|-|3\n");
}
END_TEST

START_TEST(test_quoted_comma_quote_and_newline)
{
	struct result *r = READ("id,note\nx,\"a,\"\"b\"\"\nc\"\ny,2\n");
	assert_counts(r, 2, 2, 0);
	ck_assert_str_eq(r->out.buf, "L2|x|-|-|-|a,\"b\"\nc\nL4|y|-|-|-|2\n");
}
END_TEST

START_TEST(test_unterminated_quote_at_end_of_file)
{
	struct result *r = READ("id,note\nx,1\ny,\"abc\nmore\n");
	assert_counts(r, 2, 1, 1);
	ck_assert_str_eq(r->out.buf, "L2|x|-|-|-|1\n"
				     "R3||unterminated quoted field at end of file|y,\"abc\nmore\n");
}
END_TEST

START_TEST(test_malformed_quote_is_rejected_and_next_row_reads)
{
	struct result *r = READ("id,note\nx\"y,1\nz,2\n");
	assert_counts(r, 2, 1, 1);
	ck_assert_str_eq(r->out.buf,
			 "R2||malformed quoting (a quote inside an unquoted field, or text after a "
			 "closing quote)|x\"y,1\nL3|z|-|-|-|2\n");
}
END_TEST

START_TEST(test_nul_byte_is_rejected)
{
	struct result *r = READ("id,note\nx,a\0b\ny,2\n");
	assert_counts(r, 2, 1, 1);
	ck_assert(strncmp(r->out.buf, "R2|note|NUL byte: 'a?b'|", 24) == 0);
}
END_TEST

START_TEST(test_invalid_utf8_is_rejected)
{
	struct result *r = READ("id,note\nx,\xff\xfe\n");
	assert_counts(r, 1, 0, 1);
	ck_assert(strncmp(r->out.buf, "R2|note|invalid UTF-8", 21) == 0);
}
END_TEST

START_TEST(test_field_over_max_length_is_rejected)
{
	struct result *r = READ("id,note\n123456789,n\n12345678,n\n");
	assert_counts(r, 2, 1, 1);
	ck_assert_str_eq(r->out.buf, "R2|id|longer than maxLength 8: '123456789'|123456789,n\n"
				     "L3|12345678|-|-|-|n\n");
}
END_TEST

START_TEST(test_value_outside_enum_is_rejected)
{
	struct result *r = READ("id,kind,note\nx,c,n\n");
	assert_counts(r, 1, 0, 1);
	ck_assert_str_eq(r->out.buf, "R2|kind|not in enum (A|B): 'c'|x,c,n\n");
}
END_TEST

START_TEST(test_missing_required_value_is_rejected)
{
	struct result *r = READ("id,note\n  ,n\n");
	assert_counts(r, 1, 0, 1);
	ck_assert_str_eq(r->out.buf, "R2|id|missing required value|  ,n\n");
}
END_TEST

START_TEST(test_row_without_any_of_one_of_group_is_rejected)
{
	struct result *r = READ("id,msisdn,note\nx,,\n");
	assert_counts(r, 1, 0, 1);
	ck_assert_str_eq(r->out.buf,
			 "R2||missing value: one of msisdn, note is required|x,,\n");
}
END_TEST

/* Found by tests/fuzz (fuzz_layout, fuzz_reader): a first record, header or not, of empty fields
 * left the field buffer unallocated and the reader did arithmetic on its NULL pointer (undefined
 * behaviour). */
START_TEST(test_first_record_of_empty_fields)
{
	struct result *r = READ(",\nx,y\n");
	ck_assert_int_eq(r->rc, EXIT_DATA);
	ck_assert_str_eq(r->e.msg, "t.csv:1: missing required column 'id'");
	g_layout.header = false;
	r = READ(",,,,\nx,,,,\n");
	assert_counts(r, 2, 0, 2);
	ck_assert_str_eq(r->out.buf, "R1|id|missing required value|,,,,\n"
				     "R2||missing value: one of msisdn, note is required|x,,,,\n");
}
END_TEST

START_TEST(test_timestamps_trimmed_converted_or_rejected)
{
	struct result *r = READ("id,ts,note\n"
				"a,\"2018-06-29T15:45:31Z \",n\n"
				"b,2018-05-22T10:31:06-05:00,n\n"
				"c,2018-05-22,n\n"
				"d,2018-02-30T00:00:00Z,n\n"
				"e,22/05/2018,n\n");
	assert_counts(r, 5, 3, 2);
	ck_assert_str_eq(r->out.buf,
			 "L2|a|-|2018-06-29T15:45:31Z|-|n\n"
			 "L3|b|-|2018-05-22T15:31:06Z|-|n\n"
			 "L4|c|-|2018-05-22T00:00:00Z|-|n\n"
			 "R5|ts|impossible date: '2018-02-30T00:00:00Z'|d,2018-02-30T00:00:00Z,n\n"
			 "R6|ts|not an ISO 8601 timestamp: '22/05/2018'|e,22/05/2018,n\n");
}
END_TEST

START_TEST(test_msisdns_normalised_or_rejected)
{
	struct result *r = READ("id,msisdn\n"
				"a,+573001234567\n"
				"b,573001234567\n"
				"c,+57 300 123 4567\n"
				"d,5.73E+11\n"
				"e,\n");
	assert_counts(r, 5, 3, 2);
	ck_assert_str_eq(r->out.buf,
			 "L2|a|+573001234567|-|-|-\n"
			 "L3|b|+573001234567|-|-|-\n"
			 "L4|c|+573001234567|-|-|-\n"
			 "R5|msisdn|invalid MSISDN (8 to 15 digits expected): '5.73E+11'|d,5.73E+11\n"
			 "R6||missing value: one of msisdn, note is required|e,\n");
}
END_TEST

START_TEST(test_record_too_long_is_rejected_with_cut_raw)
{
	size_t n = READER_MAX_RECORD + 100;
	struct strbuf sb = STRBUF_INIT;
	strbuf_adds(&sb, "id,note\nx,");
	for (size_t i = 0; i < n; i++)
		strbuf_addc(&sb, 'a');
	strbuf_adds(&sb, "\ny,2\n");
	struct result *r = read_text(sb.buf, sb.len);
	assert_counts(r, 2, 1, 1);
	ck_assert(strncmp(r->out.buf, "R2||record longer than 1048576 bytes|x,aaa", 42) == 0);
	ck_assert(strstr(r->out.buf, "\nL3|y|-|-|-|2\n") != NULL);
	strbuf_release(&sb);
}
END_TEST

START_TEST(test_reject_ratio_rule)
{
	ck_assert(!reader_over_reject_ratio(100, 1, 0, 0.01));
	ck_assert(reader_over_reject_ratio(100, 2, 0, 0.01));
	ck_assert(!reader_over_reject_ratio(100, 5, 4, 0.01)); /* duplicates do not count */
	ck_assert(!reader_over_reject_ratio(0, 0, 0, 0.01));
	ck_assert(reader_over_reject_ratio(1, 1, 0, 0.5));
	/* exactly at the ratio is not over it, even where ratio * read rounds down */
	ck_assert(!reader_over_reject_ratio(100, 29, 0, 0.29));
	ck_assert(!reader_over_reject_ratio(100, 57, 0, 0.57));
	ck_assert(!reader_over_reject_ratio(180, 63, 0, 0.35));
	ck_assert(reader_over_reject_ratio(100, 30, 0, 0.29));
}
END_TEST

START_TEST(test_scanner_counts_physical_lines_inside_quotes)
{
	struct csv_scanner sc;
	struct scan_record rec;
	struct err e = { 0 };
	const char text[] = "h\r\n\"a\r\nb\"\nc\n";
	scanner_init_mem(&sc, text, sizeof(text) - 1, "m", ',', '"', 1024);
	ck_assert_int_eq(scanner_next(&sc, &rec, &e), 1);
	ck_assert_int_eq(rec.line, 1);
	ck_assert_int_eq(scanner_next(&sc, &rec, &e), 1);
	ck_assert_int_eq(rec.line, 2);
	ck_assert_str_eq(rec.data, "\"a\r\nb\"");
	ck_assert_int_eq(scanner_next(&sc, &rec, &e), 1);
	ck_assert_int_eq(rec.line, 4);
	ck_assert_int_eq(scanner_next(&sc, &rec, &e), 0);
	scanner_free(&sc);
}
END_TEST

START_TEST(test_repeated_key_later_line_wins_a_tie)
{
	struct dupkeys *d = dupkeys_new();
	dupkeys_add(d, "a", 1, 2, 1);
	dupkeys_add(d, "b", 1, 3, 1);
	dupkeys_add(d, "a", 1, 4, 1);
	size_t n;
	const long *l = dupkeys_losers(d, &n);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(l[0], 2);
	dupkeys_free(d);
}
END_TEST

START_TEST(test_repeated_key_most_advanced_status_wins)
{
	struct dupkeys *d = dupkeys_new();
	dupkeys_add(d, "a", 1, 2, 3); /* unsubscribed */
	dupkeys_add(d, "a", 1, 3, 1); /* active, later: loses */
	dupkeys_add(d, "a", 1, 4, 2); /* pending, later: loses */
	dupkeys_add(d, "c", 1, 5, 0);
	size_t n;
	const long *l = dupkeys_losers(d, &n);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(l[0], 3);
	ck_assert_int_eq(l[1], 4);
	dupkeys_free(d);
}
END_TEST

START_TEST(test_many_distinct_keys_have_no_losers)
{
	struct dupkeys *d = dupkeys_new();
	char key[32];
	for (long i = 0; i < 200000; i++) {
		int len = snprintf(key, sizeof(key), "%024lx", i * 7919);
		dupkeys_add(d, key, (size_t)len, i + 2, (int)(i % 4));
	}
	dupkeys_add(d, "000000000000000000000000", 24, 300000, 0); /* key of i = 0 again, rank 0 */
	size_t n;
	const long *l = dupkeys_losers(d, &n);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(l[0], 2); /* the first row (rank 0, earlier) loses the tie */
	dupkeys_free(d);
}
END_TEST

START_TEST(test_key_filter_reports_every_repeat_and_few_others)
{
	struct keyfilter *f = keyfilter_new(100000);
	char key[32];
	long false_positives = 0;
	for (long i = 0; i < 100000; i++) {
		int len = snprintf(key, sizeof(key), "%024lx", i * 7919);
		false_positives += keyfilter_add(f, key, (size_t)len);
	}
	for (long i = 0; i < 100000; i += 1000) { /* every key added again must be reported */
		int len = snprintf(key, sizeof(key), "%024lx", i * 7919);
		ck_assert_int_eq(keyfilter_add(f, key, (size_t)len), 1);
	}
	ck_assert_msg(false_positives < 1000, "%ld new keys taken for repeats", false_positives);
	keyfilter_free(f);
}
END_TEST

Suite *reader_suite(void)
{
	Suite *s = suite_create("reader");
	TCase *tc = tcase_create("common input rules");
	tcase_add_checked_fixture(tc, setup_layout, NULL);
	tcase_add_test(tc, test_plain_rows_load_with_normalised_values);
	tcase_add_test(tc, test_utf8_bom_is_skipped);
	tcase_add_test(tc, test_crlf_and_mixed_line_endings);
	tcase_add_test(tc, test_lone_cr_rejects_the_record);
	tcase_add_test(tc, test_no_newline_at_end_of_file);
	tcase_add_test(tc, test_empty_file_is_refused);
	tcase_add_test(tc, test_header_only_reads_nothing);
	tcase_add_test(tc, test_blank_lines_are_skipped_and_lines_still_counted);
	tcase_add_test(tc, test_columns_in_another_order);
	tcase_add_test(tc, test_unknown_extra_column_is_ignored);
	tcase_add_test(tc, test_missing_required_column_refuses_the_file);
	tcase_add_test(tc, test_missing_one_of_group_column_refuses_the_file);
	tcase_add_test(tc, test_duplicate_header_name_refuses_the_file);
	tcase_add_test(tc, test_repeated_unknown_columns_are_ignored);
	tcase_add_test(tc, test_too_many_and_too_few_fields_are_rejected);
	tcase_add_test(tc, test_quoted_comma_quote_and_newline);
	tcase_add_test(tc, test_unterminated_quote_at_end_of_file);
	tcase_add_test(tc, test_malformed_quote_is_rejected_and_next_row_reads);
	tcase_add_test(tc, test_nul_byte_is_rejected);
	tcase_add_test(tc, test_invalid_utf8_is_rejected);
	tcase_add_test(tc, test_field_over_max_length_is_rejected);
	tcase_add_test(tc, test_value_outside_enum_is_rejected);
	tcase_add_test(tc, test_missing_required_value_is_rejected);
	tcase_add_test(tc, test_row_without_any_of_one_of_group_is_rejected);
	tcase_add_test(tc, test_first_record_of_empty_fields);
	tcase_add_test(tc, test_timestamps_trimmed_converted_or_rejected);
	tcase_add_test(tc, test_msisdns_normalised_or_rejected);
	tcase_add_test(tc, test_record_too_long_is_rejected_with_cut_raw);
	tcase_add_test(tc, test_reject_ratio_rule);
	tcase_add_test(tc, test_scanner_counts_physical_lines_inside_quotes);
	tcase_add_test(tc, test_repeated_key_later_line_wins_a_tie);
	tcase_add_test(tc, test_repeated_key_most_advanced_status_wins);
	tcase_add_test(tc, test_many_distinct_keys_have_no_losers);
	tcase_add_test(tc, test_key_filter_reports_every_repeat_and_few_others);
	suite_add_tcase(s, tc);
	return s;
}
