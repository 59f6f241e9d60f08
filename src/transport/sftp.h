/* sftp.h: the SFTP driver of the transport interface (libssh2): key authentication, strict host
 * keys, timeouts on connect and on every operation. */
#ifndef OTTRECON_SFTP_H
#define OTTRECON_SFTP_H

#include <stdbool.h>

struct err;
struct sftp_config;
struct transport;

struct tp_sftp_opts {
	bool accept_new_hostkey;  /* add an unknown host's key to known_hosts (never a changed one) */
};

/*
 * Connects to c->host:c->port and opens an SFTP session:
 *   - the private key must not be readable by group or others, and the passphrase file (when
 *     given) neither: EXIT_CONFIG; the passphrase is read, used and wiped, never logged;
 *   - TCP connect, SSH handshake and every later operation give up after c->timeout_s:
 *     EXIT_UNAVAILABLE;
 *   - the host key must match known_hosts (see knownhosts.h): EXIT_UNAVAILABLE otherwise;
 *   - key authentication refused: EXIT_UNAVAILABLE.
 * *retryable tells whether trying again later may help (refused or timed-out connections,
 * handshake failures) or not (host key, authentication, configuration).
 */
int tp_sftp_connect(const struct sftp_config *c, const struct tp_sftp_opts *o,
		    struct transport **out, bool *retryable, struct err *e);

#endif
