/* fsutil.h: file helpers: atomic writes (temp + fsync + rename), directories, hashing. */
#ifndef OTTRECON_FSUTIL_H
#define OTTRECON_FSUTIL_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

struct err;
struct strbuf;

/* mkdir -p with mode; existing directories are fine. */
int fs_mkdirs(const char *path, mode_t mode, struct err *e);

/*
 * An atomic output file: written to "<dir>/.<name>.tmp.<pid>", then fsynced, renamed over the
 * final name and the directory fsynced. Until commit the final name is untouched; abort removes
 * the temporary file.
 */
struct atomic_file {
	FILE *fp;
	char *final_path;
	char *tmp_path;
};
int atomic_open(struct atomic_file *af, const char *path, mode_t mode, struct err *e);
int atomic_commit(struct atomic_file *af, struct err *e);
void atomic_abort(struct atomic_file *af);

/* fsync a directory (after a rename in it). */
int fs_fsync_dir(const char *dir, struct err *e);

/* Lowercase hex SHA-256 of a file (65 bytes out). */
int fs_sha256_file(const char *path, char *hex, struct err *e);

/* The regular files in dir/sub whose names do not start with '.' (those are writers' temporary
 * files); 0 when the directory does not exist. */
long fs_count_files(const char *dir, const char *sub);

/* Sets out to path when nothing is there, else to the first of "path.1", "path.2", ... that
 * does not exist: a name under which a file replaces nothing. */
void fs_free_name(const char *path, struct strbuf *out);

/* Keeps an earlier file at path that something is about to replace or remove: renames it to
 * the first free "path.1", "path.2", ... unless it has the same bytes as same_as (when not
 * NULL: the replacement, whose rename then loses nothing). Nothing to do when path does not
 * exist. Logs where it went. */
int fs_keep_earlier(const char *path, const char *same_as, struct err *e);

/* The last path component (points into path). */
const char *fs_basename(const char *path);

#endif
