/* timeutil.h: ISO 8601 parsing and UTC calendar arithmetic (no time zones, no locale). */
#ifndef OTTRECON_TIMEUTIL_H
#define OTTRECON_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

/* Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm). */
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);
void civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);
/* 1 when y-m-d is a real calendar date (2018-02-30 is not). */
int date_is_valid(int64_t y, unsigned m, unsigned d);

/*
 * Parses an ISO 8601 timestamp into microseconds since the epoch, UTC. Accepted, whole string
 * (callers trim first):
 *   YYYY-MM-DD                              midnight UTC
 *   YYYY-MM-DDTHH:MM[:SS[.f{1,9}]]Z         (also 'z', and 't' or ' ' instead of 'T')
 *   YYYY-MM-DDTHH:MM[:SS[.f]]±HH:MM | ±HHMM | ±HH   converted to UTC
 *   YYYY-MM-DDTHH:MM[:SS[.f]]               no zone: taken as UTC
 * Fractions beyond microseconds are truncated. Years 0001-9999, also once converted to UTC
 * (0001-01-01T00:00+01:00 is an impossible date). Hours 00-23, seconds 00-59 (no leap second),
 * offsets up to ±14:00.
 * Does not allocate.
 * Returns NULL on success, else a reason: "not an ISO 8601 timestamp" or "impossible date" or
 * "impossible time" or "impossible UTC offset".
 */
const char *time_parse_iso8601(const char *s, size_t len, int64_t *out_us);

/* Formats microseconds since the epoch as "2018-05-22T15:31:06Z", or with ".ffffff" when the
 * fraction is not zero (trailing zeros dropped: ".5Z"). out needs 40 bytes. */
void time_format_iso8601(int64_t us, char *out, size_t outlen);
/* Formats microseconds as "2018-05-22 15:31:06" (report timestamps: truncated to whole seconds). */
void time_format_report(int64_t us, char *out, size_t outlen);
/* Formats days since the epoch as "YYYY-MM-DD". out needs 16 bytes. */
void time_format_date(int64_t days, char *out, size_t outlen);
/* Parses exactly "YYYY-MM-DD" (command-line dates); returns NULL, "not an ISO date" or
 * "impossible date". */
const char *time_parse_date(const char *s, int64_t *out_days);
/* Floor division of microseconds to days since the epoch (the UTC calendar date). */
int64_t time_us_to_days(int64_t us);
/* Today's UTC date, in days since the epoch. */
int64_t time_today_utc(void);
/* Finds the first run of exactly 8 digits (bounded by non-digits) in a file name that is a valid
 * YYYYMMDD date in years 1900-2999 (as-of from a file name, SPEC §1); returns 0 and sets *days,
 * or -1 when there is none. */
int time_date_from_name(const char *name, int64_t *out_days);

#endif
