/* err.c: error values with exit codes. */
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int err_set(struct err *e, int code, const char *fmt, ...)
{
	if (e) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
		e->code = code;
		e->hint[0] = '\0';
	}
	return code;
}

void err_hint(struct err *e, const char *fmt, ...)
{
	if (!e)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->hint, sizeof(e->hint), fmt, ap);
	va_end(ap);
}

void err_prefix(struct err *e, const char *fmt, ...)
{
	if (!e)
		return;
	char pre[1024], old[sizeof(e->msg)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof(old));
	snprintf(e->msg, sizeof(e->msg), "%s: %s", pre, old);
}

void err_clear(struct err *e)
{
	if (e) {
		e->code = 0;
		e->msg[0] = e->hint[0] = '\0';
	}
}

/* Severity order: internal > config > lock > unavailable > noinput > data > usage > 1 > 0. */
static int severity(int code)
{
	switch (code) {
	case EXIT_OK: return 0;
	case EXIT_DISCREPANCY: return 1;
	case EXIT_USAGE: return 2;
	case EXIT_DATA: return 3;
	case EXIT_NOINPUT: return 4;
	case EXIT_IOERR: return 5;
	case EXIT_UNAVAILABLE: return 6;
	case EXIT_TEMPFAIL: return 7;
	case EXIT_CONFIG: return 8;
	default: return 9;
	}
}

int exit_worst(int a, int b)
{
	return severity(a) >= severity(b) ? a : b;
}
