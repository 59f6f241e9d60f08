/* test_transport.c: unit tests of the transport layer's pure logic: remote-name checks, glob
 * selection, backoff, push order, fingerprints, host key preferences, and a local-to-local copy. */
#include <fnmatch.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "core/strbuf.h"
#include "suites.h"
#include "transport/knownhosts.h"
#include "transport/transport.h"
#include "transport/xfer.h"

#define ck_name_ok(s) ck_assert_ptr_null(tp_name_problem((s), strlen(s)))
#define ck_name_bad(s, why) ck_assert_str_eq(tp_name_problem((s), sizeof(s) - 1), (why))

START_TEST(test_plain_file_names_are_accepted)
{
	ck_name_ok("activations_20261203.csv");
	ck_name_ok("a");
	ck_name_ok("activations 2026-12-03 (1).csv");
	ck_name_ok(".hidden.csv");
	ck_name_ok("caf\xc3\xa9.csv"); /* UTF-8 is a name like any other */
}
END_TEST

START_TEST(test_path_traversal_names_are_refused)
{
	ck_name_bad("../x.csv", "holds a '/'");
	ck_name_bad("a/b.csv", "holds a '/'");
	ck_name_bad("/etc/passwd", "holds a '/'");
	ck_name_bad("..", "not a file name");
	ck_name_bad(".", "not a file name");
	ck_name_bad("x..csv", "holds '..'");
	ck_name_bad("", "empty name");
}
END_TEST

START_TEST(test_control_characters_are_refused)
{
	ck_name_bad("activations_\n.csv", "holds a control character");
	ck_name_bad("a\rb", "holds a control character");
	ck_name_bad("a\tb", "holds a control character");
	ck_name_bad("a\x1b[31mred", "holds a control character");
	ck_name_bad("del\x7f", "holds a control character");
}
END_TEST

START_TEST(test_a_nul_inside_the_sent_name_is_refused)
{
	static const char name[] = "ok.csv\0../../etc";
	ck_assert_str_eq(tp_name_problem(name, sizeof(name) - 1), "holds a NUL byte");
}
END_TEST

START_TEST(test_part_names_and_long_names_are_refused)
{
	ck_name_bad("activations_1.csv.part", "ends in .part (the name of a download in progress)");
	char longname[202];
	memset(longname, 'a', 201);
	longname[201] = '\0';
	ck_assert_str_eq(tp_name_problem(longname, 201), "longer than 200 bytes");
	ck_assert_ptr_null(tp_name_problem(longname, 200));
}
END_TEST

START_TEST(test_printable_name_escapes_control_bytes)
{
	char out[64];
	static const char name[] = "a\nb\tc\\d\x01\xff";
	tp_name_printable(name, sizeof(name) - 1, out, sizeof(out));
	ck_assert_str_eq(out, "a\\nb\\tc\\\\d\\x01\\xff");
	tp_name_printable("abcdef", 6, out, 4);
	ck_assert_str_eq(out, "abc");
}
END_TEST

START_TEST(test_pattern_selects_like_the_shell)
{
	const char *pattern = "activations_*.csv";
	ck_assert_int_eq(fnmatch(pattern, "activations_20261203.csv", 0), 0);
	ck_assert_int_ne(fnmatch(pattern, "activations_20261203.csv.part", 0), 0);
	ck_assert_int_ne(fnmatch(pattern, "eligibility_XX_20261203.csv", 0), 0);
	/* '*' crosses '/' and newlines in fnmatch: the name check must come after it */
	ck_assert_int_eq(fnmatch(pattern, "activations_/../../x.csv", 0), 0);
	ck_assert_int_eq(fnmatch(pattern, "activations_\n.csv", 0), 0);
	ck_assert_int_eq(fnmatch("*", ".", 0), 0);
}
END_TEST

START_TEST(test_backoff_doubles_up_to_the_cap)
{
	ck_assert_int_eq(tp_backoff_ms(0, 1000, 60000), 0);
	ck_assert_int_eq(tp_backoff_ms(1, 1000, 60000), 1000);
	ck_assert_int_eq(tp_backoff_ms(2, 1000, 60000), 2000);
	ck_assert_int_eq(tp_backoff_ms(3, 1000, 60000), 4000);
	ck_assert_int_eq(tp_backoff_ms(6, 1000, 60000), 32000);
	ck_assert_int_eq(tp_backoff_ms(7, 1000, 60000), 60000);
	ck_assert_int_eq(tp_backoff_ms(100, 1000, 60000), 60000);
}
END_TEST

START_TEST(test_push_order_puts_control_files_after_data_files)
{
	const char *names[] = { "eligibility_XX_20261203.csv.ctl", "deactivations_XX_1.csv.ctl",
				"eligibility_XX_20261203.csv", "deactivations_XX_1.csv", "a.ctl" };
	qsort(names, 5, sizeof(names[0]), tp_push_order_cmp);
	ck_assert_str_eq(names[0], "deactivations_XX_1.csv");
	ck_assert_str_eq(names[1], "eligibility_XX_20261203.csv");
	ck_assert_str_eq(names[2], "a.ctl");
	ck_assert_str_eq(names[3], "deactivations_XX_1.csv.ctl");
	ck_assert_str_eq(names[4], "eligibility_XX_20261203.csv.ctl");
	ck_assert(tp_is_ctl("x.ctl"));
	ck_assert(!tp_is_ctl("ctl"));
	ck_assert(!tp_is_ctl("x.ctl.csv"));
}
END_TEST

START_TEST(test_fingerprint_is_openssh_sha256_base64_without_padding)
{
	/* ssh-keygen -lf of "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMiKH55vI3L/UyQ1H0g83+4jBsmbFVcal
	 * p9KTjZZWUyX" prints SHA256:RrlJRhomB1gKzWbzdF58gstT6/PIBuhgphFxWYqDdSs */
	static const char b64[] =
		"AAAAC3NzaC1lZDI1NTE5AAAAIMiKH55vI3L/UyQ1H0g83+4jBsmbFVcalp9KTjZZWUyX";
	unsigned char blob[64], digest[32];
	int n = EVP_DecodeBlock(blob, (const unsigned char *)b64, (int)strlen(b64));
	ck_assert_int_eq(n, 51); /* 51 bytes, the decoder counts no padding here */
	unsigned int dlen = 0;
	ck_assert_int_eq(EVP_Digest(blob, 51, digest, &dlen, EVP_sha256(), NULL), 1);
	char fp[64];
	kh_fingerprint_sha256(digest, fp, sizeof(fp));
	ck_assert_str_eq(fp, "SHA256:RrlJRhomB1gKzWbzdF58gstT6/PIBuhgphFxWYqDdSs");
}
END_TEST

START_TEST(test_hostkey_prefs_put_known_kinds_first)
{
	char out[256];
	kh_hostkey_prefs(0, out, sizeof(out));
	ck_assert_str_eq(out, "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,"
			      "ecdsa-sha2-nistp521,ssh-rsa");
	kh_hostkey_prefs(1u << KH_ECDSA_256, out, sizeof(out));
	ck_assert_str_eq(out, "ecdsa-sha2-nistp256,ssh-ed25519,ecdsa-sha2-nistp384,"
			      "ecdsa-sha2-nistp521,ssh-rsa");
	kh_hostkey_prefs(1u << KH_RSA | 1u << KH_ECDSA_521, out, sizeof(out));
	ck_assert_str_eq(out, "ecdsa-sha2-nistp521,ssh-rsa,ssh-ed25519,ecdsa-sha2-nistp256,"
			      "ecdsa-sha2-nistp384");
}
END_TEST

START_TEST(test_join_never_doubles_slashes)
{
	char *p = xfer_join("/incoming/", "x.csv");
	ck_assert_str_eq(p, "/incoming/x.csv");
	free(p);
	p = xfer_join("/", "x.csv");
	ck_assert_str_eq(p, "/x.csv");
	free(p);
	p = xfer_join("spool/inbox", "x.csv");
	ck_assert_str_eq(p, "spool/inbox/x.csv");
	free(p);
}
END_TEST

/* Writes n bytes of a pattern to path. */
static void write_pattern(const char *path, size_t n, unsigned seed)
{
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	for (size_t i = 0; i < n; i++)
		fputc((int)((i * 31 + seed) & 0xff), f);
	ck_assert_int_eq(fclose(f), 0);
}

static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	struct strbuf sb = STRBUF_INIT;
	char buf[65536];
	size_t got;
	while ((got = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(&sb, buf, got);
	fclose(f);
	*n = sb.len;
	return strbuf_detach(&sb);
}

START_TEST(test_local_copy_resumes_from_offset_with_exact_bytes)
{
	char dir[] = "/tmp/ottrecon-unit-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char *src = xfer_join(dir, "src"), *dst = xfer_join(dir, "dst.part");
	size_t size = (5u << 20) + 12345; /* more than one copy chunk */
	write_pattern(src, size, 7);
	/* a .part holding the first 1 MiB, plus garbage after it that resume must cut */
	write_pattern(dst, (1u << 20) + 100, 7);
	FILE *f = fopen(dst, "r+b");
	ck_assert_ptr_nonnull(f);
	fseek(f, 1 << 20, SEEK_SET);
	fputs("garbage", f);
	fclose(f);

	struct transport *local = tp_local_new();
	struct tp_copy_opts o = { .offset = 1u << 20, .expect = size, .mark_mtime = 1700000000,
				  .mode = 0600, .label = "src" };
	uint64_t total = 0;
	struct err e = { 0 };
	ck_assert_int_eq(tp_copy(local, src, local, dst, &o, &total, &e), 0);
	ck_assert_uint_eq(total, size);
	size_t na, nb;
	char *a = slurp(src, &na), *b = slurp(dst, &nb);
	ck_assert_uint_eq(na, nb);
	ck_assert(memcmp(a, b, na) == 0);
	struct stat st;
	ck_assert_int_eq(stat(dst, &st), 0);
	ck_assert_int_eq(st.st_mtim.tv_sec, 1700000000); /* the resume marker */
	ck_assert_int_eq(st.st_mtim.tv_nsec, 0);
	free(a);
	free(b);
	tp_free(local);
	unlink(src);
	unlink(dst);
	rmdir(dir);
	free(src);
	free(dst);
}
END_TEST

START_TEST(test_local_copy_stops_once_past_the_expected_size)
{
	char dir[] = "/tmp/ottrecon-unit-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char *src = xfer_join(dir, "src"), *dst = xfer_join(dir, "dst");
	write_pattern(src, 9u << 20, 1);
	struct transport *local = tp_local_new();
	struct tp_copy_opts o = { .expect = 1000, .mark_mtime = -1, .mode = 0600, .label = "x" };
	uint64_t total = 0;
	struct err e = { 0 };
	ck_assert_int_eq(tp_copy(local, src, local, dst, &o, &total, &e), 0);
	ck_assert_uint_gt(total, 1000);
	ck_assert_uint_lt(total, 9u << 20); /* stopped after one chunk, not at the end */
	tp_free(local);
	unlink(src);
	unlink(dst);
	rmdir(dir);
	free(src);
	free(dst);
}
END_TEST

START_TEST(test_local_rename_never_replaces_a_file)
{
	char dir[] = "/tmp/ottrecon-unit-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char *a = xfer_join(dir, "a"), *b = xfer_join(dir, "b");
	write_pattern(a, 10, 1);
	write_pattern(b, 20, 2);
	struct transport *local = tp_local_new();
	struct err e = { 0 };
	ck_assert_int_eq(local->ops->rename(local, a, b, &e), EXIT_DATA);
	ck_assert_int_eq(access(a, F_OK), 0);
	unlink(b);
	ck_assert_int_eq(local->ops->rename(local, a, b, &e), 0);
	ck_assert_int_ne(access(a, F_OK), 0);
	tp_free(local);
	unlink(b);
	rmdir(dir);
	free(a);
	free(b);
}
END_TEST

Suite *transport_suite(void)
{
	Suite *s = suite_create("transport");
	TCase *tc = tcase_create("names");
	tcase_add_test(tc, test_plain_file_names_are_accepted);
	tcase_add_test(tc, test_path_traversal_names_are_refused);
	tcase_add_test(tc, test_control_characters_are_refused);
	tcase_add_test(tc, test_a_nul_inside_the_sent_name_is_refused);
	tcase_add_test(tc, test_part_names_and_long_names_are_refused);
	tcase_add_test(tc, test_printable_name_escapes_control_bytes);
	tcase_add_test(tc, test_pattern_selects_like_the_shell);
	suite_add_tcase(s, tc);

	tc = tcase_create("policy");
	tcase_add_test(tc, test_backoff_doubles_up_to_the_cap);
	tcase_add_test(tc, test_push_order_puts_control_files_after_data_files);
	tcase_add_test(tc, test_fingerprint_is_openssh_sha256_base64_without_padding);
	tcase_add_test(tc, test_hostkey_prefs_put_known_kinds_first);
	tcase_add_test(tc, test_join_never_doubles_slashes);
	suite_add_tcase(s, tc);

	tc = tcase_create("local");
	tcase_add_test(tc, test_local_copy_resumes_from_offset_with_exact_bytes);
	tcase_add_test(tc, test_local_copy_stops_once_past_the_expected_size);
	tcase_add_test(tc, test_local_rename_never_replaces_a_file);
	suite_add_tcase(s, tc);
	return s;
}
