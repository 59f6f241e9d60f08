/* err.h: error values that carry a sysexits code and a message (SPEC §1 exit codes). */
#ifndef OTTRECON_ERR_H
#define OTTRECON_ERR_H

#include <sysexits.h>

/* Exit codes used throughout (sysexits.h); EXIT_DISCREPANCY is --fail-on's 1. */
enum {
	EXIT_OK = 0,
	EXIT_DISCREPANCY = 1,
	EXIT_USAGE = EX_USAGE,          /* 64 */
	EXIT_DATA = EX_DATAERR,         /* 65: a file refused as a whole */
	EXIT_NOINPUT = EX_NOINPUT,      /* 66: a file cannot be opened */
	EXIT_UNAVAILABLE = EX_UNAVAILABLE, /* 69: SFTP or database unreachable */
	EXIT_SOFTWARE = EX_SOFTWARE,    /* 70: internal error */
	EXIT_IOERR = EX_IOERR,          /* 74 */
	EXIT_TEMPFAIL = EX_TEMPFAIL,    /* 75: another run holds the lock */
	EXIT_CONFIG = EX_CONFIG,        /* 78 */
};

/*
 * An error: a code (one of the exit codes above, 0 = no error) and a message that names the
 * object first-hand ("cannot open 'x.csv': No such file or directory"), and an optional hint.
 */
struct err {
	int code;
	char msg[2048];
	char hint[512];
};

/* Sets e (when not NULL) and returns code, so callers can write `return err_set(e, ...)`. */
int err_set(struct err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Adds a hint line to an error already set. */
void err_hint(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prefixes the message of an error already set: "PREFIX: old message". */
void err_prefix(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void err_clear(struct err *e);

/* Returns the more serious of two exit codes (SPEC §8: 66 over 65 over 0, and so on). */
int exit_worst(int a, int b);

#endif
