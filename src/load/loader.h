/* loader.h: loading one file into PostgreSQL (SPEC §4): recorded in the manifest, loaded whole in
 * one transaction or not at all, every row loaded or in spool/reject/<file>.rejects.csv, never
 * twice, through COPY. */
#ifndef OTTRECON_LOADER_H
#define OTTRECON_LOADER_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

struct config;
struct partner_config;
struct layout;
struct err;

struct load_opts {
	bool have_as_of;     /* --as-of given */
	int64_t as_of;       /* its date, days since the epoch */
	bool force;          /* load even when another file of the same name was loaded */
	const char *reject_dir; /* where <file>.rejects.csv goes (made when missing) */
	const char *reject_name; /* <reject_name>.rejects.csv; NULL: the file's own name */
	const struct partner_config *partner; /* activations: whose file; NULL: see config.h */
};

enum load_outcome { LOAD_LOADED, LOAD_ALREADY, LOAD_REFUSED };

struct load_result {
	enum load_outcome outcome;
	long long file_id;
	long read, loaded, rejected, duplicates;
	char reject_path[4096]; /* set when a reject file was written */
};

/*
 * Loads one file of layout l. Returns 0 for LOAD_LOADED and LOAD_ALREADY; EXIT_DATA when the file
 * is refused (res->outcome LOAD_REFUSED, recorded in the manifest unless the refusal came before
 * anything was read); EXIT_NOINPUT when it cannot be opened; EXIT_UNAVAILABLE when the database
 * went away; other codes for internal errors. e names the file.
 */
int load_file(PGconn *conn, const struct config *cfg, const struct layout *l, const char *path,
	      const struct load_opts *o, struct load_result *res, struct err *e);

/* True when l is one of the layouts load knows (the four input layouts of SPEC §3). */
bool load_layout_supported(const struct layout *l);

#endif
