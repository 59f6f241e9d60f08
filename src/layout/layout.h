/* layout.h: file layouts, loaded from schemas/<name>.yaml (a subset of Frictionless Table Schema). */
#ifndef OTTRECON_LAYOUT_H
#define OTTRECON_LAYOUT_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

struct err;

enum field_type {
	FT_STRING,   /* text; format "msisdn" normalises to E.164 */
	FT_INTEGER,  /* optional sign and digits */
	FT_NUMBER,   /* decimal: [-]digits[.digits], '.' as the point */
	FT_DATE,     /* ISO date, or a timestamp converted to its UTC date; stored YYYY-MM-DD */
	FT_DATETIME, /* ISO 8601 timestamp stored in UTC as YYYY-MM-DDTHH:MM:SS[.ffffff]Z */
};

enum field_format {
	FF_DEFAULT,
	FF_MSISDN, /* SPEC §3 and §8: E.164 with '+' */
};

struct layout_field {
	char *name;            /* canonical name, as in SPEC §3 */
	enum field_type type;
	enum field_format format;
	bool required;         /* constraints.required */
	size_t max_length;     /* constraints.maxLength in characters (UTF-8 code points); 0 = none */
	char *pattern;         /* constraints.pattern: whole-value POSIX ERE; NULL = none */
	regex_t pattern_re;
	char **enum_values;    /* constraints.enum, stored in upper case; matched case-insensitively */
	size_t n_enum;
	bool enum_warn_only;   /* x-enumWarnOnly: other values are kept (in upper case) and warned about */
};

struct layout {
	char *name;            /* "docomo_activations" */
	char *base;            /* the layout at the root of its `extends:` chain (its own name when
				* it extends none): what the file holds, whatever its columns are called */
	char *path;            /* the YAML file it came from */
	struct layout_field *fields;
	size_t n_fields;
	size_t *primary_key;   /* field indexes */
	size_t n_primary_key;
	char **missing_values; /* values that mean missing (after trimming); default [""] */
	size_t n_missing_values;
	/* requireOneOf: groups of fields of which at least one must be present in each row */
	size_t **one_of;
	size_t *one_of_len;
	size_t n_one_of;
	/* rename: header names in the file -> canonical field names (a country's Siebel export) */
	char **rename_from;
	char **rename_to;
	size_t n_rename;
	/* dialect */
	char delimiter;        /* default ',' */
	char quote;            /* default '"' */
	bool header;           /* default true; false: columns in the order of fields */
};

/*
 * Loads schemas_dir/<name>.yaml. A layout may say `extends: OTHER` to start from another
 * layout and add `rename:` entries (a country whose export names its columns differently).
 * Errors (exit 78 code) name the file, line and key; an unknown layout name is EXIT_USAGE and
 * lists the ones available.
 */
int layout_load(const char *schemas_dir, const char *name, struct layout **out, struct err *e);
/* Loads a layout from an explicit YAML file path (tests, fuzzing). */
int layout_load_file(const char *path, const char *schemas_dir, struct layout **out,
		     struct err *e);
void layout_free(struct layout *l);
/* Index of the field called name (canonical), or -1. */
int layout_field_index(const struct layout *l, const char *name);
/* Canonical field index for a header name: renames applied, matched case-sensitively after
 * trimming, then case-insensitively; -1 when the column is not in the layout. */
int layout_header_index(const struct layout *l, const char *header);

#endif
