/* reader.c: layout-driven CSV reading: scan.c finds records, libcsv splits fields, value.c checks
 * them; every record ends up either in the row callback or in the reject callback. */
#include "layout/reader.h"

#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/err.h"
#include "core/log.h"
#include "core/progress.h"
#include "core/strbuf.h"
#include "layout/scan.h"
#include "layout/value.h"

struct reader {
	const struct layout *l;
	const char *name;
	const struct reader_callbacks *cb;
	void *ctx;
	struct reader_stats *st;
	struct csv_parser csv;

	/* the header: one entry per column of the file */
	size_t n_cols;
	char **col_names;
	int *col_field;        /* layout field index, or -1 for an ignored column */
	int *field_col;        /* per layout field: its column, or -1 when the file lacks it */

	/* fields of the current record, as libcsv hands them over (read them through
	 * strbuf_str(&fbuf): fbuf.buf is still NULL when every field so far was empty) */
	struct strbuf fbuf;
	size_t *foff, *flen;
	size_t nf, fcap;
	bool too_many;         /* more fields than we keep (a runaway record) */

	/* normalised values of the current row */
	struct strbuf vbuf;
	size_t *voff;
	const char **values;
	size_t *vlen;
	struct strbuf reason;
	struct memo *memo;     /* per layout field */

	/* warnings summarised at the end: values kept outside an enum */
	long *enum_kept;
	long *enum_first_line;
	char **enum_first;
};

enum { MAX_FIELDS = 4096 };

/*
 * The last value of a field that value_normalise accepted: its input, its output and the result
 * (0, or 1 for an enum value kept with a warning). Many columns repeat from row to row (country,
 * site, product, telco code), and value_normalise depends on nothing else, so the same input gets
 * the same output without checking it again.
 */
enum { MEMO_MAX = 64 };
struct memo {
	size_t in_len, out_len;
	int rc;
	bool valid;
	char in[MEMO_MAX], out[MEMO_MAX];
};

static void on_field(void *data, size_t len, void *vr)
{
	struct reader *r = vr;
	if (r->nf >= MAX_FIELDS) {
		r->too_many = true;
		return;
	}
	if (r->nf == r->fcap) {
		r->fcap = r->fcap ? 2 * r->fcap : 32;
		r->foff = xrealloc(r->foff, r->fcap * sizeof(*r->foff));
		r->flen = xrealloc(r->flen, r->fcap * sizeof(*r->flen));
	}
	r->foff[r->nf] = r->fbuf.len;
	r->flen[r->nf] = len;
	if (len)
		strbuf_add(&r->fbuf, data, len);
	r->nf++;
}

static void on_row_end(int c, void *vr)
{
	(void)c;
	(void)vr;
}

static bool is_trim_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Trims the field in place (offset/length only). */
static void trim_field(const char *base, size_t *off, size_t *len)
{
	while (*len > 0 && is_trim_space(base[*off])) {
		(*off)++;
		(*len)--;
	}
	while (*len > 0 && is_trim_space(base[*off + *len - 1]))
		(*len)--;
}

static void add_field_span(struct reader *r, size_t off, size_t len)
{
	if (r->nf == r->fcap) {
		r->fcap = r->fcap ? 2 * r->fcap : 32;
		r->foff = xrealloc(r->foff, r->fcap * sizeof(*r->foff));
		r->flen = xrealloc(r->flen, r->fcap * sizeof(*r->flen));
	}
	r->foff[r->nf] = off;
	r->flen[r->nf] = len;
	r->nf++;
}

/*
 * Splits the usual record without libcsv: every field either unquoted (no quote in it, not
 * starting with a space or tab) or quoted with no quote inside and the delimiter or the end right
 * after its closing quote. libcsv gives the same fields for such a record (spaces it would strip
 * are trimmed afterwards anyway). Returns false, having split nothing, for any other record
 * (doubled quotes, spaces before a quote, errors): libcsv decides those.
 */
static bool split_simple(struct reader *r, const char *data, size_t len)
{
	const char d = r->l->delimiter, q = r->l->quote;
	if (len == 0)
		return false;
	r->nf = 0;
	size_t i = 0;
	for (;;) {
		if (r->nf >= MAX_FIELDS)
			return false;
		if (i < len && data[i] == q) {
			const char *close = memchr(data + i + 1, q, len - i - 1);
			if (!close)
				return false;
			size_t c = (size_t)(close - data);
			if (c + 1 < len && data[c + 1] != d)
				return false;
			add_field_span(r, i + 1, c - i - 1);
			i = c + 1;
		} else {
			if (i < len && (data[i] == ' ' || data[i] == '\t'))
				return false;
			size_t j = i;
			for (; j < len && data[j] != d; j++)
				if (data[j] == q)
					return false;
			add_field_span(r, i, j - i);
			i = j;
		}
		if (i >= len)
			break;
		i++; /* the delimiter; one after the last byte still opens an (empty) field */
	}
	strbuf_reset(&r->fbuf);
	strbuf_add(&r->fbuf, data, len);
	return true;
}

/* Splits one record into trimmed fields (libcsv when it is not a simple one); returns 0, or -1 on
 * malformed quoting. */
static int split_record(struct reader *r, const char *data, size_t len)
{
	r->too_many = false;
	if (split_simple(r, data, len)) {
		for (size_t i = 0; i < r->nf; i++)
			trim_field(r->fbuf.buf, &r->foff[i], &r->flen[i]);
		return 0;
	}
	strbuf_reset(&r->fbuf);
	r->nf = 0;
	size_t n = csv_parse(&r->csv, data, len, on_field, on_row_end, r);
	int bad = n != len;
	if (!bad && csv_fini(&r->csv, on_field, on_row_end, r) != 0)
		bad = 1;
	if (bad) {
		/* The parser is in an error state: start a fresh one for the next record. */
		csv_free(&r->csv);
		csv_init(&r->csv, CSV_STRICT | CSV_STRICT_FINI);
		csv_set_delim(&r->csv, (unsigned char)r->l->delimiter);
		csv_set_quote(&r->csv, (unsigned char)r->l->quote);
		return -1;
	}
	for (size_t i = 0; i < r->nf; i++)
		trim_field(strbuf_str(&r->fbuf), &r->foff[i], &r->flen[i]);
	return 0;
}

static bool is_missing(const struct layout *l, const char *s, size_t len)
{
	for (size_t i = 0; i < l->n_missing_values; i++)
		if (strlen(l->missing_values[i]) == len && memcmp(l->missing_values[i], s, len) == 0)
			return true;
	return false;
}

static int reject(struct reader *r, const struct scan_record *rec, const char *column,
		  const char *reason)
{
	struct reader_reject rej = {
		.line = rec->line, .column = column ? column : "", .reason = reason,
		.raw = rec->data, .raw_len = rec->len,
	};
	r->st->rejected++;
	return r->cb->reject ? r->cb->reject(r->ctx, &rej) : 0;
}

/* Reads the header record: maps columns to fields; returns 0 or EXIT_DATA (e set). */
static int read_header(struct reader *r, const struct scan_record *rec, struct err *e)
{
	const struct layout *l = r->l;
	if (rec->unterminated || rec->bare_cr || rec->too_long || split_record(r, rec->data, rec->len))
		return err_set(e, EXIT_DATA, "%s:%ld: unreadable header row (%s)", r->name, rec->line,
			       rec->unterminated ? "unterminated quoted field" :
			       rec->bare_cr ? "bare CR outside quotes" :
			       rec->too_long ? "too long" : "malformed quoting");
	if (r->too_many)
		return err_set(e, EXIT_DATA, "%s:%ld: header has more than %d columns", r->name,
			       rec->line, MAX_FIELDS);

	r->n_cols = r->nf;
	r->col_names = xcalloc(r->n_cols, sizeof(char *));
	r->col_field = xcalloc(r->n_cols, sizeof(int));
	for (size_t c = 0; c < r->n_cols; c++) {
		r->col_names[c] = xstrndup(strbuf_str(&r->fbuf) + r->foff[c], r->flen[c]);
		bool repeated = false;
		for (size_t d = 0; d < c; d++)
			repeated = repeated || strcmp(r->col_names[d], r->col_names[c]) == 0;
		int f = layout_header_index(l, r->col_names[c]);
		r->col_field[c] = f;
		if (f < 0) {
			/* SPEC §3: unknown columns are ignored, even repeated ones (an export's
			 * trailing ",," gives two columns named '') */
			if (!repeated)
				log_warn("%s:%ld: unknown column '%s' ignored", r->name, rec->line,
					 r->col_names[c]);
			continue;
		}
		if (repeated)
			return err_set(e, EXIT_DATA, "%s:%ld: duplicate column '%s' in header",
				       r->name, rec->line, r->col_names[c]);
		if (r->field_col[f] >= 0)
			return err_set(e, EXIT_DATA, "%s:%ld: columns '%s' and '%s' both give field '%s'",
				       r->name, rec->line, r->col_names[r->field_col[f]],
				       r->col_names[c], l->fields[f].name);
		r->field_col[f] = (int)c;
	}
	for (size_t f = 0; f < l->n_fields; f++)
		if (l->fields[f].required && r->field_col[f] < 0)
			return err_set(e, EXIT_DATA, "%s:%ld: missing required column '%s'", r->name,
				       rec->line, l->fields[f].name);
	for (size_t g = 0; g < l->n_one_of; g++) {
		bool any = false;
		for (size_t k = 0; k < l->one_of_len[g]; k++)
			any = any || r->field_col[l->one_of[g][k]] >= 0;
		if (!any)
			return err_set(e, EXIT_DATA, "%s:%ld: missing column '%s' (one of %zu required)",
				       r->name, rec->line, l->fields[l->one_of[g][0]].name,
				       l->one_of_len[g]);
	}
	return 0;
}

/* Without a header row, columns are the layout's fields in order. */
static void positional_header(struct reader *r)
{
	r->n_cols = r->l->n_fields;
	r->col_names = xcalloc(r->n_cols, sizeof(char *));
	r->col_field = xcalloc(r->n_cols, sizeof(int));
	for (size_t c = 0; c < r->n_cols; c++) {
		r->col_names[c] = xstrdup(r->l->fields[c].name);
		r->col_field[c] = (int)c;
		r->field_col[c] = (int)c;
	}
}

static const char *record_problem(const struct scan_record *rec)
{
	if (rec->too_long)
		return "record longer than 1048576 bytes";
	if (rec->unterminated)
		return "unterminated quoted field at end of file";
	if (rec->bare_cr)
		return "bare CR (carriage return without line feed) outside quotes";
	return NULL;
}

/* Checks one data record; hands it to the row or the reject callback. */
static int read_row(struct reader *r, const struct scan_record *rec)
{
	const struct layout *l = r->l;
	const char *problem = record_problem(rec);
	if (problem)
		return reject(r, rec, NULL, problem);
	if (split_record(r, rec->data, rec->len) != 0)
		return reject(r, rec, NULL, "malformed quoting (a quote inside an unquoted field, "
					    "or text after a closing quote)");
	if (r->nf != r->n_cols || r->too_many) {
		strbuf_reset(&r->reason);
		strbuf_addf(&r->reason, "wrong number of fields: expected %zu, got %s%zu", r->n_cols,
			    r->too_many ? "more than " : "", r->nf);
		return reject(r, rec, NULL, r->reason.buf);
	}

	strbuf_reset(&r->vbuf);
	for (size_t f = 0; f < l->n_fields; f++) {
		int c = r->field_col[f];
		r->voff[f] = (size_t)-1;
		if (c < 0)
			continue;
		const char *v = strbuf_str(&r->fbuf) + r->foff[c];
		size_t vlen = r->flen[c];
		const struct layout_field *fd = &l->fields[f];
		if (is_missing(l, v, vlen)) {
			if (fd->required)
				return reject(r, rec, r->col_names[c], "missing required value");
			continue;
		}
		r->voff[f] = r->vbuf.len;
		struct memo *m = &r->memo[f];
		int rc;
		if (m->valid && m->in_len == vlen && memcmp(m->in, v, vlen) == 0) {
			strbuf_add(&r->vbuf, m->out, m->out_len);
			rc = m->rc;
		} else {
			strbuf_reset(&r->reason);
			rc = value_normalise(fd, v, vlen, &r->vbuf, &r->reason);
			if (rc < 0)
				return reject(r, rec, r->col_names[c], r->reason.buf);
			size_t out_len = r->vbuf.len - r->voff[f];
			m->valid = vlen <= MEMO_MAX && out_len <= MEMO_MAX;
			if (m->valid) {
				memcpy(m->in, v, vlen);
				memcpy(m->out, r->vbuf.buf + r->voff[f], out_len);
				m->in_len = vlen;
				m->out_len = out_len;
				m->rc = rc;
			}
		}
		r->vlen[f] = r->vbuf.len - r->voff[f];
		if (rc > 0) {
			if (r->enum_kept[f]++ == 0) {
				r->enum_first_line[f] = rec->line;
				r->enum_first[f] = xstrndup(v, vlen > 60 ? 60 : vlen);
			}
		}
		strbuf_addc(&r->vbuf, '\0');
	}
	for (size_t g = 0; g < l->n_one_of; g++) {
		bool any = false;
		for (size_t k = 0; k < l->one_of_len[g]; k++)
			any = any || r->voff[l->one_of[g][k]] != (size_t)-1;
		if (!any) {
			strbuf_reset(&r->reason);
			strbuf_adds(&r->reason, "missing value: one of ");
			for (size_t k = 0; k < l->one_of_len[g]; k++)
				strbuf_addf(&r->reason, "%s%s", k ? ", " : "",
					    l->fields[l->one_of[g][k]].name);
			strbuf_adds(&r->reason, " is required");
			return reject(r, rec, NULL, r->reason.buf);
		}
	}
	for (size_t f = 0; f < l->n_fields; f++) {
		bool missing = r->voff[f] == (size_t)-1;
		r->values[f] = missing ? NULL : r->vbuf.buf + r->voff[f];
		r->vlen[f] = missing ? 0 : r->vlen[f];
	}

	struct reader_row row = {
		.line = rec->line, .raw = rec->data, .raw_len = rec->len,
		.values = r->values, .lens = r->vlen, .n_values = l->n_fields,
	};
	r->st->loaded++;
	return r->cb->row ? r->cb->row(r->ctx, &row) : 0;
}

static void reader_free(struct reader *r)
{
	csv_free(&r->csv);
	for (size_t c = 0; c < r->n_cols; c++)
		free(r->col_names[c]);
	free(r->col_names);
	free(r->col_field);
	free(r->field_col);
	strbuf_release(&r->fbuf);
	free(r->foff);
	free(r->flen);
	strbuf_release(&r->vbuf);
	free(r->voff);
	free(r->values);
	free(r->vlen);
	free(r->memo);
	strbuf_release(&r->reason);
	for (size_t f = 0; f < r->l->n_fields; f++)
		free(r->enum_first[f]);
	free(r->enum_kept);
	free(r->enum_first_line);
	free(r->enum_first);
}

static int read_all(struct reader *r, struct csv_scanner *sc, unsigned long long size,
		    struct err *e)
{
	const struct layout *l = r->l;
	struct scan_record rec;
	bool have_header = !l->header;
	int rc;
	struct progress pg;
	progress_start(&pg, r->name, size);

	if (!l->header)
		positional_header(r);
	while ((rc = scanner_next(sc, &rec, e)) == 1) {
		if (rec.blank && !rec.unterminated) {
			r->st->blank++;
			continue;
		}
		if (!have_header) {
			if ((rc = read_header(r, &rec, e)) != 0)
				return rc;
			have_header = true;
			continue;
		}
		r->st->read++;
		if ((rc = read_row(r, &rec)) != 0) {
			progress_end(&pg);
			if (!e->code)
				err_set(e, rc, "%s:%ld: reading stopped", r->name, rec.line);
			return rc;
		}
		if ((r->st->read & 0x3fff) == 0)
			progress_update(&pg, (unsigned long long)r->st->read, sc->bytes_read);
	}
	progress_end(&pg);
	r->st->bytes = sc->bytes_read;
	if (rc != 0)
		return rc;
	if (!have_header)
		return err_set(e, EXIT_DATA, "%s: empty file: no header row", r->name);
	for (size_t f = 0; f < l->n_fields; f++)
		if (r->enum_kept[f])
			log_warn("%s: %ld row(s) with %s outside its list kept (first on line %ld: '%s')",
				 r->name, r->enum_kept[f], l->fields[f].name, r->enum_first_line[f],
				 r->enum_first[f]);
	return 0;
}

static int reader_run(const struct layout *l, struct csv_scanner *sc, unsigned long long size,
		      const char *name, const struct reader_callbacks *cb, void *ctx,
		      struct reader_stats *st, struct err *e)
{
	struct reader r = { .l = l, .name = name, .cb = cb, .ctx = ctx, .st = st };
	memset(st, 0, sizeof(*st));
	csv_init(&r.csv, CSV_STRICT | CSV_STRICT_FINI);
	csv_set_delim(&r.csv, (unsigned char)l->delimiter);
	csv_set_quote(&r.csv, (unsigned char)l->quote);
	r.field_col = xmalloc((l->n_fields ? l->n_fields : 1) * sizeof(int));
	for (size_t f = 0; f < l->n_fields; f++)
		r.field_col[f] = -1;
	r.voff = xcalloc(l->n_fields, sizeof(size_t));
	r.values = xcalloc(l->n_fields, sizeof(char *));
	r.vlen = xcalloc(l->n_fields ? l->n_fields : 1, sizeof(size_t));
	r.memo = xcalloc(l->n_fields ? l->n_fields : 1, sizeof(struct memo));
	r.enum_kept = xcalloc(l->n_fields, sizeof(long));
	r.enum_first_line = xcalloc(l->n_fields, sizeof(long));
	r.enum_first = xcalloc(l->n_fields, sizeof(char *));

	int rc = read_all(&r, sc, size, e);
	reader_free(&r);
	return rc;
}

int reader_read_fd(const struct layout *l, int fd, const char *name,
		   const struct reader_callbacks *cb, void *ctx, struct reader_stats *st,
		   struct err *e)
{
	struct csv_scanner sc;
	struct stat fst;
	unsigned long long size = fstat(fd, &fst) == 0 ? (unsigned long long)fst.st_size : 0;
	scanner_init(&sc, fd, name, l->delimiter, l->quote, READER_MAX_RECORD);
	int rc = reader_run(l, &sc, size, name, cb, ctx, st, e);
	scanner_free(&sc);
	return rc;
}

int reader_read_mem(const struct layout *l, const char *buf, size_t len, const char *name,
		    const struct reader_callbacks *cb, void *ctx, struct reader_stats *st,
		    struct err *e)
{
	struct csv_scanner sc;
	scanner_init_mem(&sc, buf, len, name, l->delimiter, l->quote, READER_MAX_RECORD);
	int rc = reader_run(l, &sc, 0, name, cb, ctx, st, e);
	scanner_free(&sc);
	return rc;
}

int reader_rescan(const struct layout *l, const char *path, const char *name, const long *lines,
		  size_t n, int (*cb)(void *ctx, long line, const char *raw, size_t raw_len),
		  void *ctx, struct err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, EXIT_NOINPUT, "cannot open '%s': %s", path, strerror(errno));
	struct csv_scanner sc;
	struct scan_record rec;
	scanner_init(&sc, fd, name, l->delimiter, l->quote, READER_MAX_RECORD);
	size_t i = 0;
	int rc = 0;
	while (i < n && (rc = scanner_next(&sc, &rec, e)) == 1) {
		rc = 0;
		while (i < n && lines[i] < rec.line)
			i++;
		if (i < n && lines[i] == rec.line) {
			if ((rc = cb(ctx, rec.line, rec.data, rec.len)) != 0)
				break;
			i++;
		}
	}
	scanner_free(&sc);
	close(fd);
	if (rc != 0)
		return rc;
	if (i < n)
		return err_set(e, EXIT_SOFTWARE, "%s: line %ld not found again (file changed?)", name,
			       lines[i]);
	return 0;
}

bool reader_over_reject_ratio(long read, long rejected, long duplicates, double max_ratio)
{
	long counted = rejected - duplicates;
	if (counted <= 0 || read <= 0)
		return false;
	/* The share itself, not counted > max_ratio * read: 0.29 * 100 rounds to 28.999..., which
	 * would refuse 29 rejects of 100 at a ratio of 0.29. A quotient and a ratio that are the
	 * same decimal round to the same double. */
	return (double)counted / (double)read > max_ratio;
}
