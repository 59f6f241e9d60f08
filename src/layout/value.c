/* value.c: checks and normalises one field value against its layout field (SPEC §3 and §8). */
#include "layout/value.h"

#include <regex.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/timeutil.h"

/* How many bytes of the input a reason shows. */
#define SHOWN_MAX 60
/* An integer has at most 18 digits, so that it always fits a PostgreSQL bigint. */
#define INTEGER_MAX_DIGITS 18

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Length (1-4) of the well-formed UTF-8 sequence at s[0..n), or 0 when none starts there. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0], cp, min;
	size_t need;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF) {
		need = 2;
		cp = c & 0x1F;
		min = 0x80;
	} else if ((c & 0xF0) == 0xE0) {
		need = 3;
		cp = c & 0x0F;
		min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 4;
		cp = c & 0x07;
		min = 0x10000;
	} else {
		return 0; /* continuation byte, C0/C1 (always overlong), F5-FF */
	}
	if (n < need)
		return 0;
	for (size_t k = 1; k < need; k++) {
		if ((s[k] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[k] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return need;
}

int utf8_valid(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;
	while (i < len) {
		size_t n = utf8_seq_len(u + i, len - i);
		if (n == 0)
			return 0;
		i += n;
	}
	return 1;
}

size_t utf8_length(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xC0) != 0x80;
	return n;
}

static int is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7F;
}

/*
 * Appends ": '<value>'" to reason: the input's first SHOWN_MAX bytes, never splitting a UTF-8
 * sequence. So that a reason is always one line of valid UTF-8, every control character (TAB, CR
 * and LF too), NUL and byte not part of a well-formed UTF-8 sequence is shown as '?'.
 */
static void add_shown_value(struct strbuf *reason, const char *in, size_t len)
{
	const unsigned char *u = (const unsigned char *)in;
	size_t end = len < SHOWN_MAX ? len : SHOWN_MAX;
	size_t i = 0;
	strbuf_adds(reason, ": '");
	while (i < end) {
		size_t n = utf8_seq_len(u + i, len - i);
		if (n == 0 || (n == 1 && is_control(u[i]))) {
			strbuf_addc(reason, '?');
			i++;
		} else if (i + n > end) {
			break;
		} else {
			strbuf_add(reason, in + i, n);
			i += n;
		}
	}
	strbuf_addc(reason, '\'');
}

static int fail(struct strbuf *reason, const char *what, const char *in, size_t len)
{
	strbuf_adds(reason, what);
	add_shown_value(reason, in, len);
	return -1;
}

int msisdn_normalise(const char *in, size_t len, char *out, size_t outlen)
{
	char digits[17]; /* up to "00" + 15 digits */
	size_t nd = 0;
	int plus = 0, seen = 0;
	for (size_t i = 0; i < len; i++) {
		char c = in[i];
		if (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')')
			continue;
		if (c == '+') {
			if (seen)
				return -1; /* '+' only first */
			plus = seen = 1;
			continue;
		}
		if (!is_digit(c) || nd == sizeof digits)
			return -1;
		seen = 1;
		digits[nd++] = c;
	}
	size_t skip = 0;
	if (!plus && nd >= 2 && digits[0] == '0' && digits[1] == '0')
		skip = 2; /* international prefix 00 = '+' */
	nd -= skip;
	if (nd < 8 || nd > 15 || outlen < nd + 2)
		return -1;
	out[0] = '+';
	memcpy(out + 1, digits + skip, nd);
	out[nd + 1] = '\0';
	return 0;
}

/* [+-]?[0-9]+ with at most INTEGER_MAX_DIGITS digits; appends it without a leading '+'. */
static const char *normalise_integer(const char *in, size_t len, struct strbuf *out)
{
	size_t i = (len > 0 && (in[0] == '+' || in[0] == '-')) ? 1 : 0;
	size_t start = (len > 0 && in[0] == '+') ? 1 : 0;
	if (i == len || len - i > INTEGER_MAX_DIGITS)
		return "not an integer";
	for (size_t k = i; k < len; k++)
		if (!is_digit(in[k]))
			return "not an integer";
	strbuf_add(out, in + start, len - start);
	return NULL;
}

/* [+-]?[0-9]+(\.[0-9]+)? ("0.5", not ".5", "12." or "1e5"); appends it without a leading '+'. */
static const char *normalise_number(const char *in, size_t len, struct strbuf *out)
{
	size_t i = (len > 0 && (in[0] == '+' || in[0] == '-')) ? 1 : 0;
	size_t start = (len > 0 && in[0] == '+') ? 1 : 0;
	size_t int_digits = 0, frac_digits = 0;
	while (i < len && is_digit(in[i]))
		i++, int_digits++;
	if (i < len && in[i] == '.') {
		i++;
		while (i < len && is_digit(in[i]))
			i++, frac_digits++;
		if (frac_digits == 0)
			return "not a number";
	}
	if (int_digits == 0 || i != len)
		return "not a number";
	strbuf_add(out, in + start, len - start);
	return NULL;
}

/* Appends the value normalised for its type and format; returns NULL or the reason. */
static const char *normalise_type(const struct layout_field *f, const char *in, size_t len,
				  struct strbuf *out)
{
	char buf[40];
	int64_t us;
	const char *why;
	switch (f->type) {
	case FT_DATETIME:
		if ((why = time_parse_iso8601(in, len, &us)))
			return why;
		time_format_iso8601(us, buf, sizeof buf);
		strbuf_adds(out, buf);
		return NULL;
	case FT_DATE:
		if ((why = time_parse_iso8601(in, len, &us)))
			return why;
		time_format_date(time_us_to_days(us), buf, sizeof buf);
		strbuf_adds(out, buf);
		return NULL;
	case FT_INTEGER:
		return normalise_integer(in, len, out);
	case FT_NUMBER:
		return normalise_number(in, len, out);
	case FT_STRING:
		break;
	}
	if (f->format == FF_MSISDN) {
		if (msisdn_normalise(in, len, buf, sizeof buf) != 0)
			return "invalid MSISDN (8 to 15 digits expected)";
		strbuf_adds(out, buf);
		return NULL;
	}
	strbuf_add(out, in, len);
	return NULL;
}

/* Upper-cases ASCII letters of s in place (enum values are ASCII words). */
static void ascii_upper(char *s)
{
	for (; *s; s++)
		if (*s >= 'a' && *s <= 'z')
			*s = (char)(*s - 'a' + 'A');
}

static int in_enum(const struct layout_field *f, const char *v)
{
	for (size_t k = 0; k < f->n_enum; k++)
		if (strcmp(f->enum_values[k], v) == 0)
			return 1;
	return 0;
}

static void add_enum_reason(const struct layout_field *f, struct strbuf *reason, const char *in,
			    size_t len)
{
	strbuf_adds(reason, "not in enum (");
	for (size_t k = 0; k < f->n_enum; k++) {
		if (k)
			strbuf_addc(reason, '|');
		strbuf_adds(reason, f->enum_values[k]);
	}
	strbuf_addc(reason, ')');
	add_shown_value(reason, in, len);
}

/* Removes what was appended to out since start (a failed value leaves out as it was). */
static int rollback(struct strbuf *out, size_t start)
{
	out->len = start;
	if (out->buf)
		out->buf[start] = '\0';
	return -1;
}

int value_normalise(const struct layout_field *f, const char *in, size_t len, struct strbuf *out,
		    struct strbuf *reason)
{
	/* Most values are printable ASCII: then there is no NUL, no control character, nothing to
	 * check as UTF-8, and the length in characters is the length in bytes. */
	bool ascii = true;
	for (size_t i = 0; i < len && ascii; i++)
		ascii = (unsigned char)in[i] - 0x20u < 0x5Fu;
	if (!ascii) {
		if (memchr(in, '\0', len))
			return fail(reason, "NUL byte", in, len);
		if (!utf8_valid(in, len))
			return fail(reason, "invalid UTF-8", in, len);
		for (size_t i = 0; i < len; i++) {
			unsigned char c = (unsigned char)in[i];
			if (is_control(c) && c != '\t' && c != '\r' && c != '\n')
				return fail(reason, "control character", in, len);
		}
	}

	size_t start = out->len;
	const char *why = normalise_type(f, in, len, out);
	if (why) {
		rollback(out, start);
		return fail(reason, why, in, len);
	}
	char *v = out->buf + start;

	int outside_enum = 0;
	if (f->n_enum > 0) {
		ascii_upper(v);
		if (!in_enum(f, v)) {
			if (!f->enum_warn_only) {
				add_enum_reason(f, reason, in, len);
				return rollback(out, start);
			}
			outside_enum = 1;
		}
	}
	/* An MSISDN's length is the E.164 number's: SPEC §3 removes its separators, and one with many
	 * of them ("+57 - 300 - 123 - 45 - 67 ...") is still valid with 8 to 15 digits. */
	size_t length = f->format == FF_MSISDN ? strlen(v) : ascii ? len : utf8_length(in, len);
	if (f->max_length > 0 && length > f->max_length) {
		strbuf_addf(reason, "longer than maxLength %zu", f->max_length);
		add_shown_value(reason, in, len);
		return rollback(out, start);
	}
	if (f->pattern && regexec(&f->pattern_re, v, 0, NULL, 0) != 0) {
		strbuf_addf(reason, "does not match pattern %s", f->pattern);
		add_shown_value(reason, in, len);
		return rollback(out, start);
	}
	if (outside_enum) {
		add_enum_reason(f, reason, in, len);
		return 1;
	}
	return 0;
}
