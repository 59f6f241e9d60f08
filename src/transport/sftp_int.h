/* sftp_int.h: what the SFTP driver's two files share: the connection struct and error mapping. */
#ifndef OTTRECON_SFTP_INT_H
#define OTTRECON_SFTP_INT_H

#include <libssh2.h>
#include <libssh2_sftp.h>

#include "transport/transport.h"

struct err;

/* The one owner of the socket, the SSH session and the SFTP channel of a connection. */
struct sftp_transport {
	struct transport base;
	int sock;                 /* -1 when closed */
	LIBSSH2_SESSION *session;
	LIBSSH2_SFTP *sftp;
	char where[320];          /* "user@host:port", for messages */
};

/* The driver's operations (sftp.c). */
extern const struct tp_ops sftp_ops;

/* Frees everything st holds: SFTP channel, session (with a polite disconnect unless the
 * connection is lost), socket, and st itself. */
void sftp_transport_close(struct sftp_transport *st);

/* True when a libssh2 error code means the connection itself failed (socket, timeout,
 * protocol): worth a new connection. */
bool sftp_is_connection_error(int libssh2_rc);

/* Text for an SFTP status code (LIBSSH2_FX_*): "no such file", "permission denied"... */
const char *sftp_status_text(unsigned long status);

#endif
