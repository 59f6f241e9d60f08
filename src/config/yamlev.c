/* yamlev.c: libyaml event parser wrapper: peek/next, typed scalars, errors naming file, line, key. */
#include "config/yamlev.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/err.h"
#include "core/strbuf.h"

/* "FILE:LINE: KEY: problem" (or "FILE:LINE: problem" without a key). */
__attribute__((format(printf, 5, 6)))
static int yerr(const struct yamlev *y, int line, const char *key, struct err *e,
		const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (key && *key)
		return err_set(e, y->err_code, "%s:%d: %s: %s", y->path, line, key, msg);
	return err_set(e, y->err_code, "%s:%d: %s", y->path, line, msg);
}

int yamlev_open(struct yamlev *y, const char *path, int err_code, struct err *e)
{
	memset(y, 0, sizeof(*y));
	y->path = path;
	y->err_code = err_code;
	y->fp = fopen(path, "rb");
	if (!y->fp)
		return err_set(e, err_code, "cannot read '%s': %s", path, strerror(errno));
	struct stat st;
	if (fstat(fileno(y->fp), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(y->fp);
		y->fp = NULL;
		return err_set(e, err_code, "cannot read '%s': %s", path, strerror(EISDIR));
	}
	if (!yaml_parser_initialize(&y->parser)) {
		fclose(y->fp);
		y->fp = NULL;
		return err_set(e, EXIT_SOFTWARE, "%s: cannot initialise the YAML parser", path);
	}
	yaml_parser_set_input_file(&y->parser, y->fp);
	return 0;
}

int yamlev_open_mem(struct yamlev *y, const char *buf, size_t len, const char *name, int err_code,
		    struct err *e)
{
	memset(y, 0, sizeof(*y));
	y->path = name;
	y->err_code = err_code;
	if (!yaml_parser_initialize(&y->parser))
		return err_set(e, EXIT_SOFTWARE, "%s: cannot initialise the YAML parser", name);
	yaml_parser_set_input_string(&y->parser, (const unsigned char *)buf, len);
	return 0;
}

/* Safe on a zeroed or failed-to-open y (libyaml's delete functions accept zeroed structs). */
void yamlev_close(struct yamlev *y)
{
	if (y->have_ev)
		yaml_event_delete(&y->ev);
	yaml_parser_delete(&y->parser);
	if (y->fp)
		fclose(y->fp);
	const char *path = y->path;
	int code = y->err_code;
	memset(y, 0, sizeof(*y));
	y->path = path;
	y->err_code = code;
}

static int syntax_error(const struct yamlev *y, struct err *e)
{
	const yaml_parser_t *p = &y->parser;
	const char *problem = p->problem ? p->problem : "YAML syntax error";
	if (p->error == YAML_MEMORY_ERROR)
		return err_set(e, EXIT_SOFTWARE, "%s: out of memory while parsing YAML", y->path);
	/* Reader errors (bad encoding) are found ahead of the parser: they carry a byte offset. */
	if (p->error == YAML_READER_ERROR)
		return err_set(e, y->err_code, "%s: %s at byte offset %zu", y->path, problem,
			       p->problem_offset);
	yaml_mark_t m = p->problem_mark;
	if (p->context)
		return err_set(e, y->err_code, "%s:%lu:%lu: %s (%s at line %lu)", y->path,
			       (unsigned long)m.line + 1, (unsigned long)m.column + 1, problem,
			       p->context, (unsigned long)p->context_mark.line + 1);
	return err_set(e, y->err_code, "%s:%lu:%lu: %s", y->path, (unsigned long)m.line + 1,
		       (unsigned long)m.column + 1, problem);
}

static bool has_anchor(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SCALAR_EVENT: return ev->data.scalar.anchor != NULL;
	case YAML_MAPPING_START_EVENT: return ev->data.mapping_start.anchor != NULL;
	case YAML_SEQUENCE_START_EVENT: return ev->data.sequence_start.anchor != NULL;
	default: return false;
	}
}

int yamlev_peek(struct yamlev *y, yaml_event_type_t *type, struct err *e)
{
	if (type)
		*type = YAML_NO_EVENT;
	if (!y->have_ev) {
		yaml_mark_t last = y->ev.start_mark;
		if (!yaml_parser_parse(&y->parser, &y->ev))
			return syntax_error(y, e);
		if (y->ev.type == YAML_NO_EVENT) {
			/* libyaml hands out empty events after the end or an error. */
			y->ev.start_mark = last;
			return yerr(y, yamlev_line(y), NULL, e, "unexpected end of YAML input");
		}
		y->have_ev = true;
		if (y->ev.type == YAML_ALIAS_EVENT)
			return yerr(y, yamlev_line(y), NULL, e,
				    "YAML aliases (*name) are not supported");
		if (has_anchor(&y->ev))
			return yerr(y, yamlev_line(y), NULL, e,
				    "YAML anchors (&name) are not supported");
	}
	if (type)
		*type = y->ev.type;
	return 0;
}

int yamlev_next(struct yamlev *y, struct err *e)
{
	if (!y->have_ev) {
		int rc = yamlev_peek(y, NULL, e);
		if (rc)
			return rc;
	}
	/* Keep the consumed event's position so yamlev_line() can still name it. */
	yaml_mark_t m = y->ev.start_mark;
	yaml_event_delete(&y->ev);
	y->ev.start_mark = m;
	y->have_ev = false;
	return 0;
}

int yamlev_line(const struct yamlev *y)
{
	return (int)y->ev.start_mark.line + 1;
}

int yamlev_begin_document(struct yamlev *y, struct err *e)
{
	yaml_event_type_t t;
	int rc = yamlev_peek(y, &t, e);
	if (rc)
		return rc;
	if (t == YAML_STREAM_START_EVENT) {
		if ((rc = yamlev_next(y, e)) || (rc = yamlev_peek(y, &t, e)))
			return rc;
	}
	if (t == YAML_STREAM_END_EVENT)
		return err_set(e, y->err_code, "%s: empty document", y->path);
	if (t != YAML_DOCUMENT_START_EVENT)
		return yerr(y, yamlev_line(y), NULL, e, "expected a YAML document");
	return yamlev_next(y, e);
}

static const char *node_kind(yaml_event_type_t t)
{
	switch (t) {
	case YAML_MAPPING_START_EVENT: return "a mapping";
	case YAML_SEQUENCE_START_EVENT: return "a list";
	case YAML_SCALAR_EVENT: return "a single value";
	default: return "the end of a block";
	}
}

static int expect_start(struct yamlev *y, const char *key, yaml_event_type_t want,
			struct err *e)
{
	yaml_event_type_t t;
	int rc = yamlev_peek(y, &t, e);
	if (rc)
		return rc;
	if (t != want)
		return yerr(y, yamlev_line(y), key, e, "expected %s, got %s", node_kind(want),
			    node_kind(t));
	return yamlev_next(y, e);
}

int yamlev_expect_mapping(struct yamlev *y, const char *key, struct err *e)
{
	return expect_start(y, key, YAML_MAPPING_START_EVENT, e);
}

int yamlev_expect_sequence(struct yamlev *y, const char *key, struct err *e)
{
	return expect_start(y, key, YAML_SEQUENCE_START_EVENT, e);
}

int yamlev_next_key(struct yamlev *y, char **out, int *line, struct err *e)
{
	yaml_event_type_t t;
	*out = NULL;
	int rc = yamlev_peek(y, &t, e);
	if (rc)
		return rc;
	if (line)
		*line = yamlev_line(y);
	if (t == YAML_MAPPING_END_EVENT)
		return yamlev_next(y, e);
	if (t != YAML_SCALAR_EVENT)
		return yerr(y, yamlev_line(y), NULL, e, "mapping keys must be single values, got %s",
			    node_kind(t));
	*out = xstrndup((const char *)y->ev.data.scalar.value, y->ev.data.scalar.length);
	return yamlev_next(y, e);
}

int yamlev_seq_has_next(struct yamlev *y, int *more, struct err *e)
{
	yaml_event_type_t t;
	int rc = yamlev_peek(y, &t, e);
	if (rc)
		return rc;
	*more = t != YAML_SEQUENCE_END_EVENT;
	return *more ? 0 : yamlev_next(y, e);
}

static bool scalar_is_null(const yaml_event_t *ev)
{
	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	const char *v = (const char *)ev->data.scalar.value;
	return ev->data.scalar.length == 0 || !strcmp(v, "~") || !strcmp(v, "null") ||
	       !strcmp(v, "Null") || !strcmp(v, "NULL");
}

int yamlev_scalar(struct yamlev *y, const char *key, char **out, bool *is_null, struct err *e)
{
	yaml_event_type_t t;
	*out = NULL;
	if (is_null)
		*is_null = false;
	int rc = yamlev_peek(y, &t, e);
	if (rc)
		return rc;
	if (t != YAML_SCALAR_EVENT)
		return yerr(y, yamlev_line(y), key, e, "expected a single value, got %s",
			    node_kind(t));
	const char *v = (const char *)y->ev.data.scalar.value;
	size_t len = y->ev.data.scalar.length;
	if (memchr(v, '\0', len))
		return yerr(y, yamlev_line(y), key, e, "value contains a NUL character");
	if (is_null)
		*is_null = scalar_is_null(&y->ev);
	*out = xstrndup(v, len);
	return yamlev_next(y, e);
}

/* Reads a scalar that must not be null; "what" names the expected type for messages. */
static int scalar_nonnull(struct yamlev *y, const char *key, const char *what, char **out,
			  struct err *e)
{
	bool is_null;
	int rc = yamlev_scalar(y, key, out, &is_null, e);
	if (rc)
		return rc;
	if (is_null) {
		free(*out);
		*out = NULL;
		return yerr(y, yamlev_line(y), key, e, "expected %s, got nothing", what);
	}
	return 0;
}

int yamlev_int(struct yamlev *y, const char *key, long min, long max, long *out, struct err *e)
{
	char *s, *end;
	int rc = scalar_nonnull(y, key, "an integer", &s, e);
	if (rc)
		return rc;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (end == s || *end || errno || *s == ' ' || *s == '\t') {
		rc = yerr(y, yamlev_line(y), key, e, "expected an integer, got '%.60s'", s);
	} else if (v < min || v > max) {
		if (max == LONG_MAX)
			rc = yerr(y, yamlev_line(y), key, e, "must be at least %ld, got %ld", min, v);
		else
			rc = yerr(y, yamlev_line(y), key, e, "must be between %ld and %ld, got %ld",
				  min, max, v);
	} else {
		*out = v;
	}
	free(s);
	return rc;
}

int yamlev_double(struct yamlev *y, const char *key, double min, double max, double *out,
		  struct err *e)
{
	char *s, *end;
	int rc = scalar_nonnull(y, key, "a number", &s, e);
	if (rc)
		return rc;
	/* Plain decimal notation only: no hex floats, nan or inf. */
	bool ok = strspn(s, "0123456789.eE+-") == strlen(s) && strpbrk(s, "0123456789");
	errno = 0;
	double v = ok ? strtod(s, &end) : 0;
	if (!ok || end == s || *end || errno || !isfinite(v))
		rc = yerr(y, yamlev_line(y), key, e, "expected a number, got '%.60s'", s);
	else if (v < min || v > max)
		rc = yerr(y, yamlev_line(y), key, e, "must be between %g and %g, got %.60s", min,
			  max, s);
	else
		*out = v;
	free(s);
	return rc;
}

int yamlev_bool(struct yamlev *y, const char *key, bool *out, struct err *e)
{
	static const char *const yes[] = { "true", "yes", "on" };
	static const char *const no[] = { "false", "no", "off" };
	char *s;
	int rc = scalar_nonnull(y, key, "true or false", &s, e);
	if (rc)
		return rc;
	rc = -1;
	for (size_t i = 0; i < 3 && rc; i++) {
		if (!strcasecmp(s, yes[i]))
			*out = true, rc = 0;
		else if (!strcasecmp(s, no[i]))
			*out = false, rc = 0;
	}
	if (rc)
		rc = yerr(y, yamlev_line(y), key, e, "expected true or false, got '%.60s'", s);
	free(s);
	return rc;
}

int yamlev_string_list(struct yamlev *y, const char *key, char ***out, size_t *n, struct err *e)
{
	char **list = NULL;
	size_t count = 0;
	int more = 1;
	int rc = yamlev_expect_sequence(y, key, e);
	while (!rc && !(rc = yamlev_seq_has_next(y, &more, e)) && more) {
		char item_key[256], *s;
		snprintf(item_key, sizeof(item_key), "%s[%zu]", key, count);
		if ((rc = scalar_nonnull(y, item_key, "a value", &s, e)))
			break;
		list = xrealloc(list, (count + 1) * sizeof(*list));
		list[count++] = s;
	}
	if (rc) {
		for (size_t i = 0; i < count; i++)
			free(list[i]);
		free(list);
		return rc;
	}
	*out = list;
	*n = count;
	return 0;
}

int yamlev_skip(struct yamlev *y, struct err *e)
{
	int depth = 0;
	do {
		yaml_event_type_t t;
		int rc = yamlev_peek(y, &t, e);
		if (rc)
			return rc;
		if (t == YAML_MAPPING_START_EVENT || t == YAML_SEQUENCE_START_EVENT)
			depth++;
		else if ((t == YAML_MAPPING_END_EVENT || t == YAML_SEQUENCE_END_EVENT) && depth > 0)
			depth--;
		else if (t != YAML_SCALAR_EVENT)
			return yerr(y, yamlev_line(y), NULL, e, "expected a YAML node, got %s",
				    node_kind(t));
		if ((rc = yamlev_next(y, e)))
			return rc;
	} while (depth > 0);
	return 0;
}
