/* xfer.h: what pull and push share around the transports: choosing the partner, the spool lock,
 * and running a piece of work over an SFTP connection with retries and exponential backoff. */
#ifndef OTTRECON_XFER_H
#define OTTRECON_XFER_H

#include <stdbool.h>

#include "transport/sftp.h"
#include "transport/transport.h"

struct config;
struct err;
struct partner_config;

/*
 * The partner to talk to: the one named (EXIT_USAGE when there is no such partner, EXIT_CONFIG
 * when it has no sftp block), else the only partner with an sftp block (EXIT_CONFIG when there is
 * none, EXIT_USAGE when there are several).
 */
int xfer_partner(const struct config *cfg, const char *name, const struct partner_config **out,
		 struct err *e);

/* Takes SPOOL/.<what>.lock (made when missing) for the life of the process: EXIT_TEMPFAIL when
 * another process holds it. *fd is the lock's descriptor (close it to release). */
int xfer_lock(const char *spool, const char *what, int *fd, struct err *e);

/* "dir/name" without a doubled slash (caller frees). */
char *xfer_join(const char *dir, const char *name);

/* A per-file failure of pull or push: logged, counted in *failed and *worst, and the run goes on
 * (returns 0), unless the connection is gone (returns rc: the attempt ends, to be retried). */
struct transport;
int xfer_file_failed(const struct transport *remote, int rc, long *failed, int *worst,
		     struct err *e);

/*
 * Connects and runs work(remote, arg). When the connection fails or is lost in a way that a new
 * one may cure (see tp_sftp_connect, struct transport.lost), waits (1 s, 2 s, 4 s, ... at most
 * 60 s) and tries again, at most c->retries more times; work must therefore be safe to run
 * again (skip what is done, resume what is half done). work returns 0 or an exit code; when it
 * sets e, the error has not been logged yet. Logs every failure; returns the last exit code.
 */
typedef int xfer_work_fn(struct transport *remote, void *arg, struct err *e);
int xfer_run(const struct sftp_config *c, const struct tp_sftp_opts *o, xfer_work_fn *work,
	     void *arg);

#endif
