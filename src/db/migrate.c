/* migrate.c: apply sql/NNN_name.sql in order, one transaction each, recorded and under a lock. */
#include "db/migrate.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "core/err.h"
#include "core/log.h"
#include "core/strbuf.h"
#include "db/db.h"

#define RECORD_TABLE "public.ottrecon_schema_migrations"
/* The advisory lock key is derived from this name (see migrate_lock_key). */
#define LOCK_NAME "ottrecon.migrate"

/* SHA-256 of data into md (32 bytes) with OpenSSL's EVP API. */
static int sha256(const void *data, size_t len, unsigned char md[32], struct err *e)
{
	unsigned char buf[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (!EVP_Digest(data, len, buf, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
		return err_set(e, EXIT_SOFTWARE, "cannot compute SHA-256: OpenSSL EVP_Digest failed");
	memcpy(md, buf, 32);
	return 0;
}

/* Lowercase hex SHA-256 of data (65 bytes with the NUL). */
static int sha256_hex(const void *data, size_t len, char hex[65], struct err *e)
{
	unsigned char md[32];
	int rc = sha256(data, len, md, e);
	for (int i = 0; !rc && i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return rc;
}

/* Reads a whole migration file; it must be text that PQexec can take (no NUL byte). */
static int read_file(const char *path, struct strbuf *sb, struct err *e)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return err_set(e, EXIT_SOFTWARE, "cannot open migration '%s': %s", path, strerror(errno));
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		strbuf_add(sb, chunk, n);
	int read_errno = ferror(fp) ? errno : 0;
	if (fclose(fp) != 0 && !read_errno)
		read_errno = errno;
	if (read_errno)
		return err_set(e, EXIT_SOFTWARE, "cannot read migration '%s': %s", path, strerror(read_errno));
	strbuf_grow(sb, 0); /* so that sb->buf is never NULL, even for an empty file */
	if (memchr(sb->buf, '\0', sb->len))
		return err_set(e, EXIT_SOFTWARE, "cannot read migration '%s': it holds a NUL byte", path);
	return 0;
}

/* "NNN_name.sql" (3 or more digits, an underscore, a name, ".sql") -> version; else false. */
static bool parse_name(const char *name, int *version)
{
	size_t digits = 0, len = strlen(name);
	while (isdigit((unsigned char)name[digits]))
		digits++;
	if (digits < 3 || name[digits] != '_' || len < digits + 1 + 1 + 4 ||
	    strcmp(name + len - 4, ".sql") != 0)
		return false;
	errno = 0;
	long v = strtol(name, NULL, 10);
	if (errno || v > INT_MAX)
		return false;
	*version = (int)v;
	return true;
}

static int by_version(const void *a, const void *b)
{
	const struct migration *x = a, *y = b;
	return (x->version > y->version) - (x->version < y->version);
}

int migrate_list(const char *sql_dir, struct migration **out, size_t *n, struct err *e)
{
	*out = NULL;
	*n = 0;
	DIR *dir = opendir(sql_dir);
	if (!dir) {
		err_set(e, EXIT_SOFTWARE, "cannot open migrations directory '%s': %s", sql_dir,
			strerror(errno));
		err_hint(e, "set OTTRECON_DATADIR to the directory that holds sql/ and schemas/");
		return EXIT_SOFTWARE;
	}
	struct migration *m = NULL;
	size_t count = 0, alloc = 0;
	int rc = 0;
	struct dirent *de;
	errno = 0;
	while ((de = readdir(dir)) != NULL) {
		int version;
		if (!parse_name(de->d_name, &version)) {
			errno = 0;
			continue;
		}
		if (count == alloc) {
			alloc = alloc ? 2 * alloc : 16;
			m = xrealloc(m, alloc * sizeof(*m));
		}
		struct migration *it = &m[count++];
		memset(it, 0, sizeof(*it));
		it->version = version;
		it->name = xstrdup(de->d_name);
		struct strbuf path = STRBUF_INIT;
		strbuf_addf(&path, "%s/%s", sql_dir, de->d_name);
		it->path = strbuf_detach(&path);
		errno = 0;
	}
	if (errno)
		rc = err_set(e, EXIT_SOFTWARE, "cannot read migrations directory '%s': %s", sql_dir,
			     strerror(errno));
	closedir(dir);
	if (!rc && count)
		qsort(m, count, sizeof(*m), by_version);
	for (size_t i = 1; !rc && i < count; i++)
		if (m[i].version == m[i - 1].version)
			rc = err_set(e, EXIT_SOFTWARE, "two migrations have version %d in '%s': %s and %s",
				     m[i].version, sql_dir, m[i - 1].name, m[i].name);
	for (size_t i = 0; !rc && i < count; i++) {
		struct strbuf content = STRBUF_INIT;
		char hex[65];
		rc = read_file(m[i].path, &content, e);
		if (!rc)
			rc = sha256_hex(content.buf, content.len, hex, e);
		if (!rc)
			m[i].sha256 = xstrdup(hex);
		strbuf_release(&content);
	}
	if (rc) {
		migrate_free(m, count);
		return rc;
	}
	*out = m;
	*n = count;
	return 0;
}

void migrate_free(struct migration *m, size_t n)
{
	for (size_t i = 0; m && i < n; i++) {
		free(m[i].name);
		free(m[i].path);
		free(m[i].sha256);
		free(m[i].applied_at);
	}
	free(m);
}

static int record_table_exists(PGconn *conn, bool *exists, struct err *e)
{
	PGresult *r;
	int rc = db_exec(conn, "cannot look for the migrations table",
			 "select to_regclass('" RECORD_TABLE "') is not null", 0, NULL, &r, e);
	if (rc)
		return rc;
	*exists = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	return 0;
}

int migrate_read_state(PGconn *conn, struct migration *m, size_t n, struct err *e)
{
	for (size_t i = 0; i < n; i++) {
		m[i].applied = m[i].changed = false;
		free(m[i].applied_at);
		m[i].applied_at = NULL;
	}
	bool exists;
	int rc = record_table_exists(conn, &exists, e);
	if (rc || !exists)
		return rc;
	PGresult *r;
	rc = db_exec(conn, "cannot read the applied migrations",
		     "select version, name, sha256,"
		     " to_char(applied_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS')"
		     " from " RECORD_TABLE " order by version", 0, NULL, &r, e);
	if (rc)
		return rc;
	for (int row = 0; row < PQntuples(r); row++) {
		long version = strtol(PQgetvalue(r, row, 0), NULL, 10);
		struct migration *it = NULL;
		for (size_t i = 0; i < n && !it; i++)
			if (m[i].version == version)
				it = &m[i];
		if (!it) {
			log_warn("migration %s is applied in the database but is not among the files "
				 "(was it applied by a newer ottrecon?)", PQgetvalue(r, row, 1));
			continue;
		}
		it->applied = true;
		it->applied_at = xstrdup(PQgetvalue(r, row, 3));
		it->changed = strcmp(it->sha256, PQgetvalue(r, row, 2)) != 0;
	}
	PQclear(r);
	return 0;
}

/* The advisory lock key, as decimal text: the first 8 bytes of SHA-256(LOCK_NAME) read as a
 * big-endian signed bigint (-5137697776821154120). In SQL:
 *   ('x' || left(encode(sha256('ottrecon.migrate'), 'hex'), 16))::bit(64)::bigint */
static int migrate_lock_key(char key[32], struct err *e)
{
	unsigned char md[32];
	int rc = sha256(LOCK_NAME, strlen(LOCK_NAME), md, e);
	if (rc)
		return rc;
	uint64_t u = 0;
	for (int i = 0; i < 8; i++)
		u = (u << 8) | md[i];
	snprintf(key, 32, "%lld", (long long)(int64_t)u);
	return 0;
}

/* Takes the migration lock, waiting (and saying so) while another migrator holds it. */
static int lock_migrations(PGconn *conn, const char *key, struct err *e)
{
	const char *params[1] = { key };
	PGresult *r;
	int rc = db_exec(conn, "cannot take the migration lock", "select pg_try_advisory_lock($1::bigint)",
			 1, params, &r, e);
	if (rc)
		return rc;
	bool got = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	if (got)
		return 0;
	log_info("another migration is running; waiting for its lock (advisory lock %s)", key);
	return db_exec(conn, "cannot take the migration lock", "select pg_advisory_lock($1::bigint)",
		       1, params, NULL, e);
}

static void unlock_migrations(PGconn *conn, const char *key)
{
	const char *params[1] = { key };
	struct err e = { 0 };
	if (PQstatus(conn) == CONNECTION_OK &&
	    db_exec(conn, "cannot release the migration lock", "select pg_advisory_unlock($1::bigint)",
		    1, params, NULL, &e))
		log_warn("%s", e.msg);
}

static int create_record_table(PGconn *conn, struct err *e)
{
	bool exists;
	int rc = record_table_exists(conn, &exists, e);
	if (rc || exists)
		return rc;
	log_info("creating " RECORD_TABLE);
	return db_exec(conn, "cannot create " RECORD_TABLE,
		       "create table " RECORD_TABLE " ("
		       " version int primary key,"
		       " name text not null,"
		       " sha256 text not null,"
		       " applied_at timestamptz not null default now())",
		       0, NULL, NULL, e);
}

/* One migration: BEGIN; the file; its record; COMMIT. A failure leaves nothing of it. */
static int apply_one(PGconn *conn, const struct migration *m, struct err *e)
{
	struct strbuf sql = STRBUF_INIT;
	char hex[65], version[16];
	int rc = read_file(m->path, &sql, e);
	if (!rc)
		rc = sha256_hex(sql.buf, sql.len, hex, e);
	if (!rc)
		rc = db_begin(conn, e);
	if (rc) {
		strbuf_release(&sql);
		return rc;
	}
	char what[1200];
	snprintf(what, sizeof(what), "cannot apply migration '%s'", m->path);
	/* Sent alone, so that PostgreSQL's "LINE n" is the line in the file. */
	rc = db_exec_script(conn, what, sql.buf, e);
	strbuf_release(&sql);
	if (!rc && PQtransactionStatus(conn) != PQTRANS_INTRANS)
		rc = err_set(e, EXIT_SOFTWARE, "%s: it ended its own transaction, so what it did up "
			     "to there may be committed but is not recorded (a migration must not hold "
			     "BEGIN, COMMIT or ROLLBACK)", what);
	snprintf(version, sizeof(version), "%d", m->version);
	const char *params[3] = { version, m->name, hex };
	if (!rc)
		rc = db_exec(conn, "cannot record the migration",
			     "insert into " RECORD_TABLE " (version, name, sha256) values ($1::int, $2, $3)",
			     3, params, NULL, e);
	if (!rc)
		rc = db_commit(conn, e);
	if (rc)
		db_rollback(conn);
	return rc;
}

int migrate_apply(PGconn *conn, const char *sql_dir, int *applied, struct err *e)
{
	struct migration *m;
	size_t n;
	char key[32];
	*applied = 0;
	int rc = migrate_list(sql_dir, &m, &n, e);
	if (rc)
		return rc;
	rc = migrate_lock_key(key, e);
	if (!rc)
		rc = lock_migrations(conn, key, e);
	if (rc) {
		migrate_free(m, n);
		return rc;
	}
	rc = create_record_table(conn, e);
	if (!rc)
		rc = migrate_read_state(conn, m, n, e);
	int last_applied = -1;
	for (size_t i = 0; !rc && i < n; i++) {
		if (m[i].changed)
			log_warn("migration %s has changed since it was applied on %s (its SHA-256 "
				 "differs); it is not applied again", m[i].name, m[i].applied_at);
		if (m[i].applied)
			last_applied = m[i].version;
	}
	for (size_t i = 0; !rc && i < n; i++) {
		if (m[i].applied)
			continue;
		if (m[i].version < last_applied)
			log_warn("migration %s is older than migration %d, already applied; applying it "
				 "now", m[i].name, last_applied);
		log_info("applying %s", m[i].name);
		rc = apply_one(conn, &m[i], e);
		if (!rc) {
			(*applied)++;
			log_info("applied %s", m[i].name);
		}
	}
	unlock_migrations(conn, key);
	migrate_free(m, n);
	return rc;
}

int migrate_check_current(PGconn *conn, const char *sql_dir, struct err *e)
{
	struct migration *m;
	size_t n, pending = 0;
	int rc = migrate_list(sql_dir, &m, &n, e);
	if (rc)
		return rc;
	rc = migrate_read_state(conn, m, n, e);
	for (size_t i = 0; !rc && i < n; i++) {
		if (!m[i].applied)
			pending++;
		else if (m[i].changed)
			log_warn("migration %s has changed since it was applied on %s (its SHA-256 "
				 "differs)", m[i].name, m[i].applied_at);
	}
	migrate_free(m, n);
	if (!rc && pending) {
		err_set(e, EXIT_CONFIG, "database schema is not up to date (%zu pending migrations)",
			pending);
		err_hint(e, "run: ottrecon db migrate");
		rc = EXIT_CONFIG;
	}
	return rc;
}
