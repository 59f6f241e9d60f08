/* timeutil.c: ISO 8601 parsing and UTC calendar arithmetic in pure integer math (no TZ, no locale). */
#include "core/timeutil.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define US_PER_SEC INT64_C(1000000)
#define SEC_PER_DAY INT64_C(86400)
#define US_PER_DAY (US_PER_SEC * SEC_PER_DAY)

static const char NOT_ISO[] = "not an ISO 8601 timestamp";
static const char BAD_DATE[] = "impossible date";
static const char BAD_TIME[] = "impossible time";
static const char BAD_OFFSET[] = "impossible UTC offset";
static const char NOT_DATE[] = "not an ISO date";

/* Floor division and its non-negative remainder, for negative epochs too. */
static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = floor_div(y, 400);
	int64_t yoe = y - era * 400;                                       /* [0, 399] */
	int64_t mp = m > 2 ? (int64_t)m - 3 : (int64_t)m + 9;              /* March = 0 */
	int64_t doy = (153 * mp + 2) / 5 + (int64_t)d - 1;                  /* [0, 365] */
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;               /* [0, 146096] */
	return era * 146097 + doe - 719468;
}

void civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t z = days + 719468;
	int64_t era = floor_div(z, 146097);
	int64_t doe = z - era * 146097;                                     /* [0, 146096] */
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);              /* [0, 365] */
	int64_t mp = (5 * doy + 2) / 153;                                   /* [0, 11] */
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int date_is_valid(int64_t y, unsigned m, unsigned d)
{
	static const unsigned mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (m < 1 || m > 12 || d < 1)
		return 0;
	unsigned max = mdays[m - 1] + (m == 2 && is_leap(y));
	return d <= max;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Reads exactly n digits at s[*i]; returns -1 when there are fewer. */
static int64_t read_digits(const char *s, size_t len, size_t *i, unsigned n)
{
	int64_t v = 0;
	for (unsigned k = 0; k < n; k++) {
		if (*i >= len || !is_digit(s[*i]))
			return -1;
		v = v * 10 + (s[*i] - '0');
		(*i)++;
	}
	return v;
}

/* Parses "YYYY-MM-DD" at s[*i]; syntax errors return NOT_ISO, a bad calendar date BAD_DATE. */
static const char *parse_date_part(const char *s, size_t len, size_t *i, int64_t *days)
{
	int64_t y = read_digits(s, len, i, 4);
	if (y < 0 || *i >= len || s[(*i)++] != '-')
		return NOT_ISO;
	int64_t m = read_digits(s, len, i, 2);
	if (m < 0 || *i >= len || s[(*i)++] != '-')
		return NOT_ISO;
	int64_t d = read_digits(s, len, i, 2);
	if (d < 0)
		return NOT_ISO;
	if (y < 1 || !date_is_valid(y, (unsigned)m, (unsigned)d))
		return BAD_DATE;
	*days = days_from_civil(y, (unsigned)m, (unsigned)d);
	return NULL;
}

/* Parses the zone designator at s[i..len): Z, ±HH:MM, ±HHMM, ±HH, or nothing (UTC). */
static const char *parse_zone(const char *s, size_t len, size_t i, int64_t *offset_sec)
{
	*offset_sec = 0;
	if (i == len)
		return NULL;
	if (s[i] == 'Z' || s[i] == 'z')
		return i + 1 == len ? NULL : NOT_ISO;
	if (s[i] != '+' && s[i] != '-')
		return NOT_ISO;
	int sign = s[i++] == '-' ? -1 : 1;
	int64_t oh = read_digits(s, len, &i, 2);
	int64_t om = 0;
	if (oh < 0)
		return NOT_ISO;
	if (i < len) {
		if (s[i] == ':')
			i++;
		om = read_digits(s, len, &i, 2);
		if (om < 0 || i != len)
			return NOT_ISO;
	}
	if (om >= 60 || oh * 60 + om > 14 * 60)
		return BAD_OFFSET;
	*offset_sec = sign * (oh * 3600 + om * 60);
	return NULL;
}

/*
 * Leap seconds are not accepted: second 60 is "impossible time" (no system we read from emits
 * them, and accepting one would need a rule for what it means in microseconds). Hour 24 (ISO's
 * "end of day") is rejected likewise. Lower-case 't' is accepted as RFC 3339 allows, like 'z'.
 */
const char *time_parse_iso8601(const char *s, size_t len, int64_t *out_us)
{
	size_t i = 0;
	int64_t days = 0;
	const char *why = parse_date_part(s, len, &i, &days);
	if (why == NOT_ISO)
		return why;
	if (i == len) {
		if (why)
			return why;
		*out_us = days * US_PER_DAY;
		return NULL;
	}
	if (s[i] != 'T' && s[i] != 't' && s[i] != ' ')
		return NOT_ISO;
	i++;
	int64_t hh = read_digits(s, len, &i, 2);
	if (hh < 0 || i >= len || s[i++] != ':')
		return NOT_ISO;
	int64_t mi = read_digits(s, len, &i, 2);
	if (mi < 0)
		return NOT_ISO;
	int64_t ss = 0, frac_us = 0;
	if (i < len && s[i] == ':') {
		i++;
		ss = read_digits(s, len, &i, 2);
		if (ss < 0)
			return NOT_ISO;
		if (i < len && s[i] == '.') {
			i++;
			unsigned nd = 0;
			while (i < len && is_digit(s[i])) {
				if (nd < 6)
					frac_us = frac_us * 10 + (s[i] - '0');
				nd++;
				i++;
			}
			if (nd == 0 || nd > 9)
				return NOT_ISO;
			for (unsigned k = nd; k < 6; k++)
				frac_us *= 10;
		}
	}
	int64_t offset_sec;
	const char *zone_why = parse_zone(s, len, i, &offset_sec);
	if (zone_why == NOT_ISO)
		return zone_why;
	/* The whole string is well-formed; report the first impossible part, left to right. */
	if (why)
		return why;
	if (hh > 23 || mi > 59 || ss > 59)
		return BAD_TIME;
	if (zone_why)
		return zone_why;
	int64_t secs = days * SEC_PER_DAY + hh * 3600 + mi * 60 + ss - offset_sec;
	/* The offset may carry the instant out of years 0001-9999 (0001-01-01T00:00+01:00 is year 0
	 * in UTC): such a value could not be written back as we read it, and PostgreSQL refuses
	 * year 0, which would fail a whole load for one row. */
	if (secs < days_from_civil(1, 1, 1) * SEC_PER_DAY ||
	    secs >= days_from_civil(10000, 1, 1) * SEC_PER_DAY)
		return BAD_DATE;
	*out_us = secs * US_PER_SEC + frac_us;
	return NULL;
}

int64_t time_us_to_days(int64_t us)
{
	return floor_div(us, US_PER_DAY);
}

/* Writes n decimal digits of v, zero-padded. The loader formats every timestamp of every row, so
 * this avoids snprintf on the hot path. */
static char *put_digits(char *p, int64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + n;
}

void time_format_iso8601(int64_t us, char *out, size_t outlen)
{
	int64_t days = time_us_to_days(us);
	int64_t rem = us - days * US_PER_DAY; /* [0, US_PER_DAY) */
	int64_t y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	int64_t secs = rem / US_PER_SEC;
	int64_t frac = rem % US_PER_SEC;
	if (y < 0 || y > 9999 || outlen < 40) { /* outside the fast path's 4-digit years */
		char fbuf[8] = "";
		if (frac != 0) {
			int digits = 6;
			while (frac % 10 == 0) {
				frac /= 10;
				digits--;
			}
			snprintf(fbuf, sizeof fbuf, ".%0*" PRId64, digits, frac);
		}
		snprintf(out, outlen, "%04" PRId64 "-%02u-%02uT%02d:%02d:%02d%sZ", y, m, d,
			 (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60), fbuf);
		return;
	}
	char *p = out;
	p = put_digits(p, y, 4);
	*p++ = '-';
	p = put_digits(p, m, 2);
	*p++ = '-';
	p = put_digits(p, d, 2);
	*p++ = 'T';
	p = put_digits(p, secs / 3600, 2);
	*p++ = ':';
	p = put_digits(p, secs / 60 % 60, 2);
	*p++ = ':';
	p = put_digits(p, secs % 60, 2);
	if (frac != 0) {
		int digits = 6;
		while (frac % 10 == 0) {
			frac /= 10;
			digits--;
		}
		*p++ = '.';
		p = put_digits(p, frac, digits);
	}
	*p++ = 'Z';
	*p = '\0';
}

void time_format_report(int64_t us, char *out, size_t outlen)
{
	int64_t days = time_us_to_days(us);
	int64_t secs = (us - days * US_PER_DAY) / US_PER_SEC;
	int64_t y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	snprintf(out, outlen, "%04" PRId64 "-%02u-%02u %02d:%02d:%02d", y, m, d, (int)(secs / 3600),
		 (int)(secs / 60 % 60), (int)(secs % 60));
}

void time_format_date(int64_t days, char *out, size_t outlen)
{
	int64_t y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	snprintf(out, outlen, "%04" PRId64 "-%02u-%02u", y, m, d);
}

const char *time_parse_date(const char *s, int64_t *out_days)
{
	size_t len = strlen(s), i = 0;
	const char *why = parse_date_part(s, len, &i, out_days);
	if (why == NOT_ISO || i != len)
		return NOT_DATE;
	return why;
}

int64_t time_today_utc(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		ts.tv_sec = time(NULL);
	return floor_div((int64_t)ts.tv_sec, SEC_PER_DAY);
}

int time_date_from_name(const char *name, int64_t *out_days)
{
	size_t i = 0, len = strlen(name);
	while (i < len) {
		if (!is_digit(name[i])) {
			i++;
			continue;
		}
		size_t start = i;
		while (i < len && is_digit(name[i]))
			i++;
		if (i - start != 8)
			continue;
		size_t j = start;
		int64_t y = read_digits(name, len, &j, 4);
		int64_t m = read_digits(name, len, &j, 2);
		int64_t d = read_digits(name, len, &j, 2);
		if (y >= 1900 && y <= 2999 && date_is_valid(y, (unsigned)m, (unsigned)d)) {
			*out_days = days_from_civil(y, (unsigned)m, (unsigned)d);
			return 0;
		}
	}
	return -1;
}
