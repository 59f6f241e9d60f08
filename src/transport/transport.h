/* transport.h: a file source / file sink: one small interface (struct tp_ops), two drivers (local
 * disk, SFTP), and the generic copy between any two of them that pull and push share. */
#ifndef OTTRECON_TRANSPORT_H
#define OTTRECON_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct err;

/* What a transport knows about a file. mtime is in whole seconds (SFTP v3 has no more). */
struct tp_stat {
	uint64_t size;
	int64_t mtime;
	bool is_reg;  /* a regular file (symbolic links are not followed by list) */
	bool is_dir;
};

/* One directory entry: the name exactly as the server sent it (may hold any byte but NUL). */
struct tp_entry {
	char *name;   /* NUL-terminated copy; len is the length as sent */
	size_t len;
	struct tp_stat st;
};

struct tp_list {
	struct tp_entry *v;
	size_t n;
};

struct transport;

/* An open file of a transport; drivers embed it as their first member. */
struct tp_file {
	struct transport *t;
};

/*
 * The driver interface. Every int function returns 0 or an exit code (SPEC §1) with e set and
 * naming the path: EXIT_UNAVAILABLE when the server cannot be reached or refused the operation
 * (for SFTP, t->lost tells whether the connection itself is gone), EXIT_IOERR for a local I/O
 * error. Paths are the transport's own (absolute remote paths for SFTP).
 */
struct tp_ops {
	const char *kind; /* "local", "sftp" */
	/* The entries of dir, without "." and ".." only if the server leaves them out. */
	int (*list)(struct transport *t, const char *dir, struct tp_list *out, struct err *e);
	/* *found=false (and 0 returned) when path does not exist. */
	int (*stat)(struct transport *t, const char *path, struct tp_stat *st, bool *found,
		    struct err *e);
	/* Opens for reading from offset. */
	int (*open_read)(struct transport *t, const char *path, uint64_t offset, struct tp_file **f,
			 struct err *e);
	/* Creates path (mode) or opens it, cuts it to offset bytes and writes from there. */
	int (*open_write)(struct transport *t, const char *path, uint64_t offset, mode_t mode,
			  struct tp_file **f, struct err *e);
	/* Reads up to cap bytes; *got = 0 at the end of the file. Short reads are normal. */
	int (*read)(struct tp_file *f, void *buf, size_t cap, size_t *got, struct err *e);
	/* Writes all n bytes. */
	int (*write)(struct tp_file *f, const void *buf, size_t n, struct err *e);
	/* Makes what was written durable (fsync; fsync@openssh.com when the server has it). */
	int (*sync)(struct tp_file *f, struct err *e);
	/* Sets the file's modification time (whole seconds); NULL when the driver cannot. */
	int (*set_mtime)(struct tp_file *f, int64_t mtime, struct err *e);
	/* Closes and frees f, on every path; an error on close is still reported. */
	int (*close)(struct tp_file *f, struct err *e);
	/* Renames from to to; to must not exist (drivers that can replace atomically do). */
	int (*rename)(struct transport *t, const char *from, const char *to, struct err *e);
	int (*remove)(struct transport *t, const char *path, struct err *e);
	/* Frees the transport and everything it holds (connections included). */
	void (*free)(struct transport *t);
};

/* A transport: its driver's ops; drivers embed it as their first member. */
struct transport {
	const struct tp_ops *ops;
	bool lost; /* the connection is gone: stop and (maybe) try again with a new one */
};

/* The local-disk driver (plain POSIX paths). Never fails. */
struct transport *tp_local_new(void);

/* Calls t->ops->free (NULL is fine). */
void tp_free(struct transport *t);
void tp_list_free(struct tp_list *l);
/* Sorts a list by name (bytewise). */
void tp_list_sort(struct tp_list *l);

/* How tp_copy copies. */
struct tp_copy_opts {
	uint64_t offset;        /* start here in both files (resume); 0 for a fresh copy */
	uint64_t expect;        /* the size the source should have: stop early once past it */
	int64_t mark_mtime;     /* >= 0: set the destination's mtime to this after every chunk */
	mode_t mode;            /* of a created destination */
	const char *label;      /* for the progress line ("activations_20261203.csv") */
};

/*
 * Copies src_path (of src) to dst_path (of dst) from o->offset to the end of the source, or until
 * more than o->expect bytes were seen (a file still growing: no point reading on). On success the
 * destination is synced and closed and *total is the destination's size (offset + bytes copied);
 * the caller compares it with what it expected. Shows a progress line on a terminal.
 */
int tp_copy(struct transport *src, const char *src_path, struct transport *dst,
	    const char *dst_path, const struct tp_copy_opts *o, uint64_t *total, struct err *e);

/*
 * Checks a name met in a directory listing before any path is made from it (SPEC §7). Returns
 * NULL when it is a plain file name, else why not: empty, ".", "..", holds '/' or "..", holds a
 * control character (bytes 0x01-0x1f, 0x7f) or a NUL, longer than 200 bytes, or ends in ".part"
 * (the temporary names of our own downloads). len is the name's length as sent (a NUL inside
 * counts).
 */
const char *tp_name_problem(const char *name, size_t len);

/* Writes name into out (cap bytes, always terminated) with control characters, backslashes and
 * bytes >= 0x80 escaped as \xNN, \n, \t, \\: safe to print on one log line. */
void tp_name_printable(const char *name, size_t len, char *out, size_t cap);

/* Milliseconds to wait before retry number attempt (1, 2, ...): base_ms doubling each time,
 * never more than cap_ms. */
long tp_backoff_ms(int attempt, long base_ms, long cap_ms);

/* Sleeps ms milliseconds (restarting after signals). */
void tp_sleep_ms(long ms);

/* Push order: data files by name, then control files (".ctl") by name, so that a control file
 * never reaches the partner before its data file. A qsort comparator of char * pointers. */
int tp_push_order_cmp(const void *a, const void *b);
/* True when name ends in ".ctl". */
bool tp_is_ctl(const char *name);

#endif
