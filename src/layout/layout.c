/* layout.c: loads file layouts from schemas/<name>.yaml (a Frictionless Table Schema subset). */
#include "layout/layout.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "config/yamlev.h"
#include "core/err.h"
#include "core/strbuf.h"

#define MAX_EXTENDS_DEPTH 8
#define MAX_NAME_LEN 63

/* "FILE:LINE: KEY: problem" ("FILE:LINE: problem" for the root, whose key is ""). */
__attribute__((format(printf, 5, 6)))
static int lay_err(const struct yamlev *y, int line, const char *key, struct err *e,
		   const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!*key)
		return err_set(e, EXIT_CONFIG, "%s:%d: %s", y->path, line, msg);
	return err_set(e, EXIT_CONFIG, "%s:%d: %s: %s", y->path, line, key, msg);
}

/* Formats a key path into out (cut when too long: keys come from the file). */
__attribute__((format(printf, 3, 4)))
static void keyf(char *out, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out, n, fmt, ap);
	va_end(ap);
}

/* A mapping being read: the keys it allows, those met (and where), its path and start line. */
struct map {
	const char *path;
	const char *const *keys; /* NULL-terminated */
	unsigned seen;
	int lines[16];           /* line of each key met */
	int line;
	char key[256];           /* dotted path of the current key */
};

static int map_open(struct yamlev *y, struct map *m, const char *path, const char *const *keys,
		    struct err *e)
{
	memset(m, 0, sizeof(*m));
	m->path = path;
	m->keys = keys;
	int rc = yamlev_peek(y, NULL, e);
	m->line = yamlev_line(y);
	return rc ? rc : yamlev_expect_mapping(y, path, e);
}

/* Next key: *idx is its index in keys, or -1 at the end. "x-" keys not listed are skipped with
 * their values; other unknown keys and repeated keys are errors. */
static int map_next(struct yamlev *y, struct map *m, int *idx, struct err *e)
{
	char *k;
	int line, rc;
	for (;;) {
		*idx = -1;
		if ((rc = yamlev_next_key(y, &k, &line, e)) || !k)
			return rc;
		keyf(m->key, sizeof(m->key), *m->path ? "%s.%s" : "%s%s", m->path, k);
		for (int i = 0; m->keys[i]; i++)
			if (!strcmp(m->keys[i], k))
				*idx = i;
		bool ext = !strncmp(k, "x-", 2);
		free(k);
		if (*idx < 0 && ext) {
			if ((rc = yamlev_skip(y, e)))
				return rc;
			continue;
		}
		if (*idx < 0)
			return lay_err(y, line, m->key, e, "unknown key");
		if (m->seen & (1u << *idx))
			return lay_err(y, line, m->key, e, "key given twice");
		m->seen |= 1u << *idx;
		m->lines[*idx] = line;
		return 0;
	}
}

static bool valid_layout_name(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && n <= MAX_NAME_LEN && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

static bool valid_field_name(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && n <= MAX_NAME_LEN && !isdigit((unsigned char)s[0]) &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == n;
}

static void free_list(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

/* A field name met before the fields are known (primaryKey, requireOneOf, rename targets). */
struct ref {
	char *name;
	int line;
	const char *key;  /* static key name for messages */
};

/* What a file said, kept until the fields are known. */
struct pending {
	struct ref *refs;      /* in file order; requireOneOf groups and renames each in order */
	size_t n_refs;
	size_t *group_len;     /* requireOneOf group sizes */
	size_t n_groups;
	/* Patterns are compiled once the fields array stops moving (a regex_t is not moved). */
	char **patterns;
	size_t *pattern_field;
	size_t n_patterns;
	char *extends;
};

static void pending_add(struct pending *p, char *name, int line, const char *key)
{
	p->refs = xrealloc(p->refs, (p->n_refs + 1) * sizeof(*p->refs));
	p->refs[p->n_refs++] = (struct ref){ name, line, key };
}

static void pending_free(struct pending *p)
{
	for (size_t i = 0; i < p->n_refs; i++)
		free(p->refs[i].name);
	free(p->refs);
	free(p->group_len);
	free_list(p->patterns, p->n_patterns);
	free(p->pattern_field);
	free(p->extends);
}

enum { F_NAME, F_TYPE, F_FORMAT, F_CONSTRAINTS, F_REQUIRED, F_PATTERN, F_ENUM, F_MAXLENGTH,
       F_TITLE, F_DESCRIPTION, F_WARN_ONLY };
static const char *const field_keys[] = { "name", "type", "format", "constraints", "required",
					  "pattern", "enum", "maxLength", "title", "description",
					  "x-enumWarnOnly", NULL };
static const char *const constraint_keys[] = { "required", "pattern", "enum", "maxLength", NULL };

/* Compiles a layout pattern so that it matches whole values only. */
static int compile_pattern(regex_t *re, const char *pattern)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "^(%s)$", pattern);
	int r = regcomp(re, sb.buf, REG_EXTENDED | REG_NOSUB);
	strbuf_release(&sb);
	return r;
}

/* Reads and checks a pattern now (errors name its line); it is compiled for keeps later. */
static int read_pattern(struct yamlev *y, const char *key, size_t field, struct pending *p,
			struct err *e)
{
	char *pattern;
	bool is_null;
	regex_t re;
	int rc = yamlev_scalar(y, key, &pattern, &is_null, e);
	if (rc)
		return rc;
	int r = is_null ? REG_BADPAT : compile_pattern(&re, pattern);
	if (r) {
		char why[256] = "empty pattern";
		if (!is_null)
			regerror(r, NULL, why, sizeof(why));
		rc = lay_err(y, yamlev_line(y), key, e, "invalid regular expression '%.100s': %s",
			     pattern, why);
		free(pattern);
		return rc;
	}
	regfree(&re);
	p->patterns = xrealloc(p->patterns, (p->n_patterns + 1) * sizeof(char *));
	p->pattern_field = xrealloc(p->pattern_field, (p->n_patterns + 1) * sizeof(size_t));
	p->patterns[p->n_patterns] = pattern;
	p->pattern_field[p->n_patterns++] = field;
	return 0;
}

/* Compiles the patterns read into the final fields; f->pattern is set once f->pattern_re is. */
static int compile_patterns(const struct yamlev *y, struct layout *l, struct pending *p,
			    struct err *e)
{
	for (size_t i = 0; i < p->n_patterns; i++) {
		struct layout_field *f = &l->fields[p->pattern_field[i]];
		if (compile_pattern(&f->pattern_re, p->patterns[i]))
			return err_set(e, EXIT_SOFTWARE, "%s: cannot compile the pattern of field '%s'",
				       y->path, f->name);
		f->pattern = p->patterns[i];
		p->patterns[i] = NULL;
	}
	return 0;
}

static int read_enum(struct yamlev *y, const char *key, struct layout_field *f, struct err *e)
{
	int rc = yamlev_string_list(y, key, &f->enum_values, &f->n_enum, e);
	if (rc)
		return rc;
	if (f->n_enum == 0)
		return lay_err(y, yamlev_line(y), key, e, "an enum needs at least one value");
	for (size_t i = 0; i < f->n_enum; i++) {
		for (char *c = f->enum_values[i]; *c; c++)
			*c = (char)toupper((unsigned char)*c);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(f->enum_values[i], f->enum_values[j]))
				return lay_err(y, yamlev_line(y), key, e, "value '%.60s' given twice",
					       f->enum_values[i]);
	}
	return 0;
}

/* One key of a field (idx in field_keys), flat or under constraints. */
static int read_field_key(struct yamlev *y, const char *key, int idx, struct layout *l,
			  struct map *fm, struct pending *p, struct err *e)
{
	static const char *const types[] = { "string", "integer", "number", "date", "datetime",
					     NULL };
	struct layout_field *f = &l->fields[l->n_fields - 1];
	char *s = NULL;
	bool is_null;
	long n;
	int rc = 0;
	switch (idx) {
	case F_NAME:
		if (!(rc = yamlev_scalar(y, key, &f->name, &is_null, e)) && !valid_field_name(f->name))
			rc = lay_err(y, yamlev_line(y), key, e,
				     "a field name is a letter or '_' then letters, digits or '_'");
		return rc;
	case F_TYPE:
	case F_FORMAT:
		if ((rc = yamlev_scalar(y, key, &s, &is_null, e)))
			return rc;
		rc = -1;
		for (int i = 0; idx == F_TYPE && types[i]; i++)
			if (!strcasecmp(s, types[i]))
				f->type = (enum field_type)i, rc = 0;
		if (idx == F_FORMAT && (!strcasecmp(s, "default") || !strcasecmp(s, "msisdn")))
			f->format = strcasecmp(s, "msisdn") ? FF_DEFAULT : FF_MSISDN, rc = 0;
		if (rc && idx == F_TYPE)
			rc = lay_err(y, yamlev_line(y), key, e, "unknown type '%.60s' "
				     "(expected string, integer, number, date or datetime)", s);
		else if (rc)
			rc = lay_err(y, yamlev_line(y), key, e,
				     "unknown format '%.60s' (expected default or msisdn)", s);
		free(s);
		return rc;
	case F_CONSTRAINTS: {
		struct map cm;
		int ci;
		rc = map_open(y, &cm, key, constraint_keys, e);
		while (!rc && !(rc = map_next(y, &cm, &ci, e)) && ci >= 0) {
			int fi = F_REQUIRED + ci;  /* constraint_keys follow field_keys' order */
			if (fm->seen & (1u << fi))
				return lay_err(y, cm.lines[ci], cm.key, e,
					       "given both on the field and under constraints");
			fm->seen |= 1u << fi;
			rc = read_field_key(y, cm.key, fi, l, fm, p, e);
		}
		return rc;
	}
	case F_REQUIRED:
		return yamlev_bool(y, key, &f->required, e);
	case F_PATTERN:
		return read_pattern(y, key, l->n_fields - 1, p, e);
	case F_ENUM:
		return read_enum(y, key, f, e);
	case F_MAXLENGTH:
		if (!(rc = yamlev_int(y, key, 1, 1000000, &n, e)))
			f->max_length = (size_t)n;
		return rc;
	case F_WARN_ONLY:
		return yamlev_bool(y, key, &f->enum_warn_only, e);
	default: /* title, description */
		return yamlev_skip(y, e);
	}
}

static int read_field(struct yamlev *y, const char *path, struct layout *l, struct pending *p,
		      struct err *e)
{
	struct map fm;
	int idx, rc;
	l->fields = xrealloc(l->fields, (l->n_fields + 1) * sizeof(*l->fields));
	struct layout_field *f = &l->fields[l->n_fields++];
	memset(f, 0, sizeof(*f));
	rc = map_open(y, &fm, path, field_keys, e);
	while (!rc && !(rc = map_next(y, &fm, &idx, e)) && idx >= 0)
		rc = read_field_key(y, fm.key, idx, l, &fm, p, e);
	if (rc)
		return rc;
	char key[256];
	if (!f->name) {
		keyf(key, sizeof(key), "%s.name", path);
		return lay_err(y, fm.line, key, e, "missing required key");
	}
	keyf(key, sizeof(key), "%s.format", path);
	if (f->format == FF_MSISDN && f->type != FT_STRING)
		return lay_err(y, fm.lines[F_FORMAT], key, e, "format msisdn needs type string");
	keyf(key, sizeof(key), "%s.x-enumWarnOnly", path);
	if (f->enum_warn_only && !f->n_enum)
		return lay_err(y, fm.lines[F_WARN_ONLY], key, e, "needs an enum");
	for (size_t i = 0; i + 1 < l->n_fields; i++) {
		if (!strcasecmp(l->fields[i].name, f->name)) {
			keyf(key, sizeof(key), "%s.name", path);
			return lay_err(y, fm.lines[F_NAME], key, e, "field '%s' defined twice",
				       f->name);
		}
	}
	return 0;
}

static int read_dialect(struct yamlev *y, const char *path, struct layout *l, struct err *e)
{
	static const char *const keys[] = { "delimiter", "quoteChar", "header", NULL };
	struct map m;
	int idx, rc = map_open(y, &m, path, keys, e);
	while (!rc && !(rc = map_next(y, &m, &idx, e)) && idx >= 0) {
		char *s;
		bool is_null;
		if (idx == 2) {
			rc = yamlev_bool(y, m.key, &l->header, e);
			continue;
		}
		if ((rc = yamlev_scalar(y, m.key, &s, &is_null, e)))
			break;
		if (strlen(s) != 1 || strchr("\r\n", s[0]))
			rc = lay_err(y, yamlev_line(y), m.key, e, "expected one character");
		else if (idx == 0)
			l->delimiter = s[0];
		else
			l->quote = s[0];
		free(s);
	}
	if (!rc && l->delimiter == l->quote)
		rc = lay_err(y, m.line, m.path, e, "delimiter and quoteChar must differ");
	return rc;
}

/* A list of field names, or one name (primaryKey: code). */
static int read_names(struct yamlev *y, const char *key, struct pending *p, const char *what,
		      struct err *e)
{
	yaml_event_type_t t;
	char **names;
	size_t n;
	int line, rc = yamlev_peek(y, &t, e);
	line = yamlev_line(y);
	if (!rc && t == YAML_SCALAR_EVENT) {
		names = xmalloc(sizeof(*names));
		bool is_null;
		n = 1;
		rc = yamlev_scalar(y, key, &names[0], &is_null, e);
	} else if (!rc) {
		rc = yamlev_string_list(y, key, &names, &n, e);
	}
	if (rc)
		return rc;
	if (n == 0) {
		free(names);
		return lay_err(y, line, key, e, "needs at least one field name");
	}
	for (size_t i = 0; i < n; i++)
		pending_add(p, names[i], line, what);
	free(names);
	return 0;
}

static int read_one_of(struct yamlev *y, const char *key, struct pending *p, struct err *e)
{
	int more, rc = yamlev_expect_sequence(y, key, e);
	while (!rc && !(rc = yamlev_seq_has_next(y, &more, e)) && more) {
		char item[256];
		size_t n;
		keyf(item, sizeof(item), "%s[%zu]", key, p->n_groups);
		p->group_len = xrealloc(p->group_len, (p->n_groups + 1) * sizeof(*p->group_len));
		p->group_len[p->n_groups] = 0;
		if ((rc = yamlev_expect_sequence(y, item, e)))
			break;
		int line = yamlev_line(y), in_more;
		for (n = 0; !(rc = yamlev_seq_has_next(y, &in_more, e)) && in_more; n++) {
			char *s;
			bool is_null;
			if ((rc = yamlev_scalar(y, item, &s, &is_null, e)))
				break;
			pending_add(p, s, line, "requireOneOf");
		}
		if (!rc && n == 0)
			rc = lay_err(y, line, item, e, "needs at least one field name");
		p->group_len[p->n_groups++] = n;
	}
	return rc;
}

static int read_rename(struct yamlev *y, const char *key, struct layout *l, struct pending *p,
		       struct err *e)
{
	struct map m = { 0 };
	char *from, *to;
	bool is_null;
	int line, rc = map_open(y, &m, key, NULL, e);
	while (!rc && !(rc = yamlev_next_key(y, &from, &line, e)) && from) {
		keyf(m.key, sizeof(m.key), "%s.%s", key, from);
		l->rename_from = xrealloc(l->rename_from, (l->n_rename + 1) * sizeof(char *));
		l->rename_to = xrealloc(l->rename_to, (l->n_rename + 1) * sizeof(char *));
		l->rename_from[l->n_rename] = from;
		l->rename_to[l->n_rename++] = NULL;
		if ((rc = yamlev_scalar(y, m.key, &to, &is_null, e)))
			break;
		pending_add(p, to, line, "rename");
		if (!*from || is_null || !*to)
			rc = lay_err(y, line, m.key, e, "a rename needs a header and a field name");
		for (size_t i = 0; !rc && i + 1 < l->n_rename; i++)
			if (!strcmp(l->rename_from[i], from))
				rc = lay_err(y, line, m.key, e, "key given twice");
	}
	return rc;
}

static int load_file(const char *path, const char *schemas_dir, int depth, struct layout **out,
		     struct err *e);

enum { K_NAME, K_TITLE, K_DESCRIPTION, K_EXTENDS, K_DIALECT, K_MISSING, K_PK, K_ONE_OF, K_FIELDS,
       K_RENAME };
static const char *const layout_keys[] = { "name", "title", "description", "extends", "dialect",
					   "missingValues", "primaryKey", "requireOneOf", "fields",
					   "rename", NULL };

static int read_top(struct yamlev *y, struct map *m, struct layout *l, struct pending *p,
		    struct err *e)
{
	int idx, more, rc = map_open(y, m, "", layout_keys, e);
	while (!rc && !(rc = map_next(y, m, &idx, e)) && idx >= 0) {
		bool is_null;
		switch (idx) {
		case K_NAME:
		case K_EXTENDS:
			free(idx == K_NAME ? l->name : p->extends);
			rc = yamlev_scalar(y, m->key, idx == K_NAME ? &l->name : &p->extends, &is_null,
					   e);
			if (!rc && !valid_layout_name(idx == K_NAME ? l->name : p->extends))
				rc = lay_err(y, m->lines[idx], m->key, e,
					     "a layout name is made of a-z, 0-9 and '_'");
			break;
		case K_DIALECT:
			rc = read_dialect(y, m->key, l, e);
			break;
		case K_MISSING:
			free_list(l->missing_values, l->n_missing_values);
			l->missing_values = NULL;
			l->n_missing_values = 0;
			rc = yamlev_string_list(y, m->key, &l->missing_values, &l->n_missing_values, e);
			break;
		case K_PK:
			rc = read_names(y, m->key, p, "primaryKey", e);
			break;
		case K_ONE_OF:
			rc = read_one_of(y, m->key, p, e);
			break;
		case K_FIELDS:
			rc = yamlev_expect_sequence(y, m->key, e);
			while (!rc && !(rc = yamlev_seq_has_next(y, &more, e)) && more) {
				char item[64];
				keyf(item, sizeof(item), "fields[%zu]", l->n_fields);
				rc = read_field(y, item, l, p, e);
			}
			break;
		case K_RENAME:
			rc = read_rename(y, m->key, l, p, e);
			break;
		default:
			rc = yamlev_skip(y, e);
			break;
		}
	}
	return rc;
}

/* Resolves the names met in the file to field indexes, and checks rename targets. */
static int resolve(const struct yamlev *y, struct layout *l, const struct pending *p,
		   size_t first_rename, struct err *e)
{
	size_t r = 0, g = 0, in_group = 0;
	for (; r < p->n_refs; r++) {
		const struct ref *ref = &p->refs[r];
		char key[256];
		bool is_rename = !strcmp(ref->key, "rename");
		keyf(key, sizeof(key), is_rename ? "rename.%s" : "%s",
		     is_rename ? l->rename_from[first_rename] : ref->key);
		int fi = layout_field_index(l, ref->name);
		if (fi < 0)
			return lay_err(y, ref->line, key, e, "unknown field '%.60s'", ref->name);
		if (!strcmp(ref->key, "primaryKey")) {
			for (size_t i = 0; i < l->n_primary_key; i++)
				if (l->primary_key[i] == (size_t)fi)
					return lay_err(y, ref->line, ref->key, e,
						       "field '%s' given twice", ref->name);
			size_t n = l->n_primary_key + 1;
			l->primary_key = xrealloc(l->primary_key, n * sizeof(size_t));
			l->primary_key[l->n_primary_key++] = (size_t)fi;
		} else if (!strcmp(ref->key, "requireOneOf")) {
			if (in_group == 0) {
				size_t n = l->n_one_of + 1;
				l->one_of = xrealloc(l->one_of, n * sizeof(*l->one_of));
				l->one_of_len = xrealloc(l->one_of_len, n * sizeof(size_t));
				l->one_of[l->n_one_of] = xcalloc(p->group_len[g], sizeof(size_t));
				l->one_of_len[l->n_one_of++] = 0;
			}
			l->one_of[l->n_one_of - 1][l->one_of_len[l->n_one_of - 1]++] = (size_t)fi;
			if (++in_group == p->group_len[g])
				in_group = 0, g++;
		} else {
			/* Renames, in order: two headers naming the same field is an error. */
			size_t k = first_rename++;
			free(l->rename_to[k]);
			l->rename_to[k] = xstrdup(l->fields[fi].name);
			for (size_t i = 0; i < k; i++)
				if (!strcmp(l->rename_to[i], l->rename_to[k]))
					return lay_err(y, ref->line, key, e,
						       "'%s' and '%s' both rename to field '%s'",
						       l->rename_from[i], l->rename_from[k],
						       l->rename_to[k]);
		}
	}
	return 0;
}

/* Applies the file's own keys on top of its base (an `extends:` layout): only name and rename. */
static int extend(const struct yamlev *y, const struct map *m, struct layout *own,
		  const char *schemas_dir, int depth, struct pending *p, struct layout **out,
		  struct err *e)
{
	for (int k = K_DIALECT; k <= K_FIELDS; k++)
		if (m->seen & (1u << k))
			return lay_err(y, m->lines[k], layout_keys[k], e, "not allowed in a layout "
				       "that extends another (only name and rename)");
	if (depth >= MAX_EXTENDS_DEPTH)
		return lay_err(y, m->lines[K_EXTENDS], "extends", e,
			       "layouts extend each other more than %d deep (a loop?)", depth);
	char *base_path;
	struct strbuf sb = STRBUF_INIT;
	struct stat st;
	strbuf_addf(&sb, "%s/%s.yaml", schemas_dir, p->extends);
	base_path = strbuf_detach(&sb);
	if (stat(base_path, &st) || !S_ISREG(st.st_mode)) {
		free(base_path);
		return lay_err(y, m->lines[K_EXTENDS], "extends", e, "unknown layout '%s' in %s",
			       p->extends, schemas_dir);
	}
	struct layout *base;
	int rc = load_file(base_path, schemas_dir, depth + 1, &base, e);
	free(base_path);
	if (rc)
		return rc;
	/* The base keeps its fields (and its root, base->base); this file adds its renames and may
	 * rename the layout. */
	size_t first = base->n_rename;
	base->rename_from = xrealloc(base->rename_from, (first + own->n_rename) * sizeof(char *));
	base->rename_to = xrealloc(base->rename_to, (first + own->n_rename) * sizeof(char *));
	for (size_t i = 0; i < own->n_rename; i++) {
		base->rename_from[first + i] = own->rename_from[i];
		base->rename_to[first + i] = NULL;
		for (size_t j = 0; j < first; j++)
			if (!strcmp(base->rename_from[j], own->rename_from[i]))
				rc = lay_err(y, m->lines[K_RENAME], "rename", e,
					     "header '%s' is already renamed by %s", own->rename_from[i],
					     base->path);
	}
	base->n_rename += own->n_rename;
	own->n_rename = 0;
	if (!rc && own->name) {
		free(base->name);
		base->name = own->name;
		own->name = NULL;
	}
	free(base->path);
	base->path = xstrdup(own->path);
	if (!rc)
		rc = resolve(y, base, p, first, e);
	if (rc) {
		layout_free(base);
		return rc;
	}
	*out = base;
	return 0;
}

/* The layout's default name: the file name without directory and .yaml. */
static char *name_from_path(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t n = strlen(base);
	if (n > 5 && !strcmp(base + n - 5, ".yaml"))
		n -= 5;
	return xstrndup(base, n);
}

static int load_file(const char *path, const char *schemas_dir, int depth, struct layout **out,
		     struct err *e)
{
	struct yamlev y;
	struct map m;
	struct pending p = { 0 };
	struct layout *l = xcalloc(1, sizeof(*l));
	l->path = xstrdup(path);
	l->delimiter = ',';
	l->quote = '"';
	l->header = true;
	*out = NULL;
	int rc = yamlev_open(&y, path, EXIT_CONFIG, e);
	if (!rc && !(rc = yamlev_begin_document(&y, e)))
		rc = read_top(&y, &m, l, &p, e);
	if (!rc) {
		if (p.extends) {
			rc = extend(&y, &m, l, schemas_dir, depth, &p, out, e);
		} else if (!l->n_fields) {
			bool given = m.seen & (1u << K_FIELDS);
			rc = lay_err(&y, given ? m.lines[K_FIELDS] : m.line, "fields", e,
				     given ? "needs at least one field" : "missing required key");
		} else if (!(rc = compile_patterns(&y, l, &p, e)) &&
			   !(rc = resolve(&y, l, &p, 0, e))) {
			if (!l->name)
				l->name = name_from_path(path);
			l->base = xstrdup(l->name);
			if (!l->missing_values) {
				l->missing_values = xmalloc(sizeof(char *));
				l->missing_values[0] = xstrdup("");
				l->n_missing_values = 1;
			}
			*out = l;
			l = NULL;
		}
	}
	yamlev_close(&y);
	pending_free(&p);
	layout_free(l);
	return rc;
}

int layout_load_file(const char *path, const char *schemas_dir, struct layout **out,
		     struct err *e)
{
	return load_file(path, schemas_dir, 0, out, e);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* EXIT_USAGE naming the layouts available in schemas_dir. */
static int unknown_layout(const char *schemas_dir, const char *name, struct err *e)
{
	DIR *d = opendir(schemas_dir);
	if (!d)
		return err_set(e, EXIT_CONFIG, "cannot read schemas directory '%s': %s", schemas_dir,
			       strerror(errno));
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		char *stem = name_from_path(de->d_name);
		if (strlen(stem) + 5 == strlen(de->d_name) && valid_layout_name(stem)) {
			names = xrealloc(names, (n + 1) * sizeof(*names));
			names[n++] = stem;
		} else {
			free(stem);
		}
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_str);
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < n; i++)
		strbuf_addf(&sb, "%s%s", i ? ", " : "", names[i]);
	err_set(e, EXIT_USAGE, "unknown layout '%.60s' (available: %s)", name,
		n ? strbuf_str(&sb) : "none");
	strbuf_release(&sb);
	free_list(names, n);
	return EXIT_USAGE;
}

int layout_load(const char *schemas_dir, const char *name, struct layout **out, struct err *e)
{
	struct stat st;
	*out = NULL;
	if (!valid_layout_name(name))
		return unknown_layout(schemas_dir, name, e);
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "%s/%s.yaml", schemas_dir, name);
	int rc = stat(sb.buf, &st) || !S_ISREG(st.st_mode)
			 ? unknown_layout(schemas_dir, name, e)
			 : layout_load_file(sb.buf, schemas_dir, out, e);
	strbuf_release(&sb);
	return rc;
}

void layout_free(struct layout *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n_fields; i++) {
		struct layout_field *f = &l->fields[i];
		free(f->name);
		if (f->pattern)
			regfree(&f->pattern_re);
		free(f->pattern);
		free_list(f->enum_values, f->n_enum);
	}
	free(l->fields);
	for (size_t i = 0; i < l->n_one_of; i++)
		free(l->one_of[i]);
	free(l->one_of);
	free(l->one_of_len);
	free(l->primary_key);
	free_list(l->missing_values, l->n_missing_values);
	free_list(l->rename_from, l->n_rename);
	free_list(l->rename_to, l->n_rename);
	free(l->name);
	free(l->base);
	free(l->path);
	free(l);
}

int layout_field_index(const struct layout *l, const char *name)
{
	for (size_t i = 0; i < l->n_fields; i++)
		if (!strcmp(l->fields[i].name, name))
			return (int)i;
	return -1;
}

/* Index of the field a header names: pass 0 exact, pass 1 case-insensitive; renames first. */
int layout_header_index(const struct layout *l, const char *header)
{
	while (*header == ' ' || *header == '\t')
		header++;
	size_t n = strlen(header);
	while (n && strchr(" \t\r\n", header[n - 1]))
		n--;
	for (int pass = 0; pass < 2; pass++) {
		int (*cmp)(const char *, const char *, size_t) = pass ? strncasecmp : strncmp;
		for (size_t i = 0; i < l->n_rename; i++)
			if (strlen(l->rename_from[i]) == n && !cmp(l->rename_from[i], header, n))
				return layout_field_index(l, l->rename_to[i]);
		for (size_t i = 0; i < l->n_fields; i++)
			if (strlen(l->fields[i].name) == n && !cmp(l->fields[i].name, header, n))
				return (int)i;
	}
	return -1;
}
