/* value.h: checking and normalising one field value against its layout field (SPEC §3 rules). */
#ifndef OTTRECON_VALUE_H
#define OTTRECON_VALUE_H

#include <stddef.h>

#include "core/strbuf.h"
#include "layout/layout.h"

/*
 * Checks one value (already trimmed, not missing) against field f.
 * On success returns 0 and appends the normalised value to out:
 *   datetime -> "2018-05-22T15:31:06Z" (UTC; fraction kept to microseconds),
 *   date -> "2018-05-22", enum -> upper case, msisdn -> "+573001234567", number and integer as
 *   given (leading '+' dropped), string as given.
 * On failure returns -1 and appends to reason a short text that the reject file shows, always of
 * the form "<what is wrong>: '<value>'" (value cut to 60 bytes), one of:
 *   "invalid UTF-8", "NUL byte", "control character" (a byte below 0x20 other than TAB, CR and
 *   LF, or 0x7F), "longer than maxLength N",
 *   "not an ISO 8601 timestamp", "impossible date", "impossible time", "impossible UTC offset"
 *   (datetime, and date, which accepts any timestamp and keeps its UTC calendar date),
 *   "invalid MSISDN (8 to 15 digits expected)", "not an integer" (more than 18 digits too),
 *   "not a number" ("12", "-3.1", "0.5"; not ".5", "12.", "1e5", "1,50"),
 *   "not in enum (A|B|C)", "does not match pattern P".
 * Checked in this order: NUL, UTF-8, control characters, type, enum, maxLength (code points of
 * the input), pattern (on the normalised value). In the shown value, control characters and
 * bytes that are not valid UTF-8 appear as '?'. out is left as it was on failure.
 * A value outside an enum with enum_warn_only is accepted (upper-cased) and returns 1 instead,
 * with the "not in enum" text appended to reason for the warning.
 */
int value_normalise(const struct layout_field *f, const char *in, size_t len, struct strbuf *out,
		    struct strbuf *reason);

/*
 * MSISDN normalisation (SPEC §3, §8): removes spaces, dashes, dots and parentheses; a leading
 * "00" becomes "+"; a number without '+' is taken to include its country code; 8 to 15 digits must
 * remain. Writes "+digits" into out (at least 17 bytes) and returns 0, or returns -1.
 */
int msisdn_normalise(const char *in, size_t len, char *out, size_t outlen);

/* 1 when s[0..len) is valid UTF-8 (no overlongs, no surrogates, max U+10FFFF). */
int utf8_valid(const char *s, size_t len);
/* Number of code points in valid UTF-8. */
size_t utf8_length(const char *s, size_t len);

#endif
