/* migrate.h: numbered SQL migrations from sql/NNN_name.sql, each applied in its own transaction
 * and recorded in ottrecon_schema_migrations. */
#ifndef OTTRECON_MIGRATE_H
#define OTTRECON_MIGRATE_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>

struct err;

struct migration {
	int version;        /* NNN */
	char *name;         /* "001_init.sql" */
	char *path;
	char *sha256;       /* of the file's content */
	bool applied;
	char *applied_at;   /* when applied (text from the database) or NULL */
	bool changed;       /* applied, but the file's checksum differs from the recorded one */
};

/* Lists sql_dir's migrations in version order; a file name not of the form NNN_name.sql is
 * ignored; two files with one version are an error. */
int migrate_list(const char *sql_dir, struct migration **out, size_t *n, struct err *e);
void migrate_free(struct migration *m, size_t n);
/* Fills applied/applied_at/changed from the database (a database never migrated has none). */
int migrate_read_state(PGconn *conn, struct migration *m, size_t n, struct err *e);
/* Applies every pending migration in order, each in its own transaction, under an advisory lock
 * so two migrators cannot race. *applied gets how many were applied. */
int migrate_apply(PGconn *conn, const char *sql_dir, int *applied, struct err *e);
/* 0 when every migration is applied; else EXIT_CONFIG with a message naming
 * `ottrecon db migrate` (commands that need the schema call this first). */
int migrate_check_current(PGconn *conn, const char *sql_dir, struct err *e);

#endif
