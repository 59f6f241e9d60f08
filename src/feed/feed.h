/* feed.h: the files the telco owes the partner: eligibility (SPEC §3.5) and deactivations (§3.6).
 *
 * A file is computed and recorded in the database first (sql/004_feed.sql), in one transaction
 * for every country of the run; then it is written from what was recorded into SPOOL/outbox
 * (temporary name, fsync, rename), followed by its .ctl file, and marked written. A file recorded
 * but not written (a crash in between) is written by the next run before anything else, byte
 * for byte as it would have been. */
#ifndef OTTRECON_FEED_H
#define OTTRECON_FEED_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>

struct config;
struct err;

enum feed_kind { FEED_ELIGIBILITY, FEED_DEACTIVATIONS };
enum feed_mode { FEED_MODE_AUTO, FEED_MODE_FULL, FEED_MODE_DELTA };

struct feed_opts {
	enum feed_kind kind;
	const char *as_of;   /* YYYY-MM-DD */
	const char *country; /* NULL: every configured country */
	enum feed_mode mode; /* eligibility: AUTO = delta once a file was written, else full */
	bool force;          /* a file for that date was pushed already: write version _2, _3, ... */
	bool skip_pushed;    /* ... or skip that country quietly (nightly re-run of a date done) */
};

/*
 * Records and writes the files of o->kind for the countries asked. A country that cannot have
 * its file (a later file exists, the file of that date was pushed and --force was not given,
 * no subscriber snapshot for eligibility while the partner knows eligible pairs) is logged and
 * skipped, and *worst becomes EXIT_DATA; the other countries go on. Prints "PATH rows=N" on
 * out for every file written. Returns 0, or an error that stopped the run (database, file
 * system; nothing half-recorded is left).
 */
int feed_run(PGconn *conn, const struct config *cfg, const struct feed_opts *o, FILE *out,
	     int *worst, struct err *e);

#endif
