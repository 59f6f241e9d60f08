/* csvout.c: CSV rows for reject files, validate's output and reports. */
#include "layout/csvout.h"

#include <string.h>

#include "core/strbuf.h"

int csv_write_row(FILE *fp, const char *const *fields, const size_t *lens, size_t n)
{
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < n; i++) {
		if (i)
			strbuf_addc(&sb, ',');
		if (!fields[i])
			continue;
		size_t len = (!lens || lens[i] == (size_t)-1) ? strlen(fields[i]) : lens[i];
		strbuf_add_csv_field(&sb, fields[i], len);
	}
	strbuf_addc(&sb, '\n');
	int rc = fwrite(sb.buf, 1, sb.len, fp) == sb.len ? 0 : -1;
	strbuf_release(&sb);
	return rc;
}

int csv_write_reject(FILE *fp, const char *file, long line, const char *column,
		     const char *reason, const char *raw, size_t raw_len)
{
	char lbuf[32];
	snprintf(lbuf, sizeof(lbuf), "%ld", line);
	const char *f[5] = { file, lbuf, column, reason, raw };
	size_t l[5] = { (size_t)-1, (size_t)-1, (size_t)-1, (size_t)-1, raw_len };
	if (file)
		return csv_write_row(fp, f, l, 5);
	return csv_write_row(fp, f + 1, l + 1, 4);
}
