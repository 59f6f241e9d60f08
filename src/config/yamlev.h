/* yamlev.h: a thin wrapper over libyaml's event parser: peek/next with line numbers, and helpers
 * that read scalars, mappings and sequences with errors naming file, line and key. */
#ifndef OTTRECON_YAMLEV_H
#define OTTRECON_YAMLEV_H

#include <stdbool.h>
#include <stdio.h>
#include <yaml.h>

struct err;

struct yamlev {
	yaml_parser_t parser;
	yaml_event_t ev;     /* the current (peeked) event */
	bool have_ev;
	FILE *fp;
	const char *path;    /* for messages */
	int err_code;        /* exit code used for errors (EXIT_CONFIG) */
};

/* Opens path; a missing file is an error naming it (code err_code). Returns 0 or the code. */
int yamlev_open(struct yamlev *y, const char *path, int err_code, struct err *e);
/* Parses from memory (tests, fuzzing); buf must outlive y. */
int yamlev_open_mem(struct yamlev *y, const char *buf, size_t len, const char *name, int err_code,
		    struct err *e);
void yamlev_close(struct yamlev *y);

/* Peeks the next event without consuming it. Syntax errors: "FILE:LINE:COL: <problem>". */
int yamlev_peek(struct yamlev *y, yaml_event_type_t *type, struct err *e);
/* Consumes the current event. */
int yamlev_next(struct yamlev *y, struct err *e);
/* 1-based line of the current event. */
int yamlev_line(const struct yamlev *y);

/* Skips to the first event of the document's root node (after STREAM_START/DOCUMENT_START). An
 * empty file is an error "FILE: empty document". */
int yamlev_begin_document(struct yamlev *y, struct err *e);
/* Expects MAPPING_START (consumed); key names the mapping in errors ("partners.docomo"). */
int yamlev_expect_mapping(struct yamlev *y, const char *key, struct err *e);
int yamlev_expect_sequence(struct yamlev *y, const char *key, struct err *e);
/* Within a mapping: reads the next key into *out (malloc'd) or sets *out NULL at MAPPING_END
 * (consumed). *line gets the key's line. */
int yamlev_next_key(struct yamlev *y, char **out, int *line, struct err *e);
/* Within a sequence: 1 when another item follows, 0 at SEQUENCE_END (consumed). */
int yamlev_seq_has_next(struct yamlev *y, int *more, struct err *e);
/* Reads a scalar value (malloc'd); a mapping or sequence is a type error naming key. *is_null is
 * set for ~, null or an empty plain scalar. */
int yamlev_scalar(struct yamlev *y, const char *key, char **out, bool *is_null, struct err *e);
/* Typed scalars; errors: "FILE:LINE: KEY: expected an integer, got 'x'". */
int yamlev_int(struct yamlev *y, const char *key, long min, long max, long *out, struct err *e);
int yamlev_double(struct yamlev *y, const char *key, double min, double max, double *out,
		  struct err *e);
int yamlev_bool(struct yamlev *y, const char *key, bool *out, struct err *e);
/* A sequence of scalars (flow [a, b] or block). */
int yamlev_string_list(struct yamlev *y, const char *key, char ***out, size_t *n, struct err *e);
/* Skips one whole node (scalar, mapping or sequence). */
int yamlev_skip(struct yamlev *y, struct err *e);

#endif
