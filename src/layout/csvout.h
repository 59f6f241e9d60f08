/* csvout.h: writing CSV rows (RFC 4180, comma, quotes only where needed, LF line ends). */
#ifndef OTTRECON_CSVOUT_H
#define OTTRECON_CSVOUT_H

#include <stddef.h>
#include <stdio.h>

/* Writes one row of n fields; lens[i] == (size_t)-1 means strlen(fields[i]); a NULL field is
 * written empty. Returns 0, or -1 when the stream reports an error. */
int csv_write_row(FILE *fp, const char *const *fields, const size_t *lens, size_t n);

/* The reject row of SPEC §1/§4: [file,]line,column,reason,raw (file omitted when NULL). */
int csv_write_reject(FILE *fp, const char *file, long line, const char *column,
		     const char *reason, const char *raw, size_t raw_len);

#endif
