/* sftp_conn.c: opening an SFTP connection: key file checks, TCP connect with a timeout, SSH
 * handshake, host key check, public key authentication, SFTP channel. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "core/err.h"
#include "core/log.h"
#include "core/strbuf.h"
#include "transport/knownhosts.h"
#include "transport/sftp.h"
#include "transport/sftp_int.h"

/* A secret file (private key, passphrase) must be ours alone, as OpenSSH insists. */
static int check_secret_file(const char *what, const char *path, struct err *e)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return err_set(e, EXIT_CONFIG, "cannot read %s '%s': %s", what, path,
			       strerror(errno));
	if (!S_ISREG(st.st_mode))
		return err_set(e, EXIT_CONFIG, "%s '%s' is not a regular file", what, path);
	if (st.st_mode & 077) {
		err_set(e, EXIT_CONFIG, "%s '%s' is accessible by group or others (mode %04o): "
			"refused", what, path, (unsigned)(st.st_mode & 07777));
		err_hint(e, "chmod 600 '%s'", path);
		return EXIT_CONFIG;
	}
	if (access(path, R_OK) != 0)
		return err_set(e, EXIT_CONFIG, "cannot read %s '%s': %s", what, path,
			       strerror(errno));
	return 0;
}

/* Reads the passphrase (first line, without its line end) into a buffer the caller wipes. */
static int read_passphrase(const char *path, char *buf, size_t cap, struct err *e)
{
	int rc = check_secret_file("passphrase file", path, e);
	if (rc)
		return rc;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, EXIT_CONFIG, "cannot read passphrase file '%s': %s", path,
			       strerror(errno));
	ssize_t n;
	do
		n = read(fd, buf, cap - 1);
	while (n < 0 && errno == EINTR);
	int saved = errno;
	close(fd);
	if (n < 0)
		return err_set(e, EXIT_CONFIG, "cannot read passphrase file '%s': %s", path,
			       strerror(saved));
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	return 0;
}

static long elapsed_ms(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long)(t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Connects a TCP socket to host:port within timeout_ms (each address in turn); blocking mode. */
static int tcp_connect(const char *host, long port, long timeout_ms, int *out, struct err *e)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	char portstr[16];
	snprintf(portstr, sizeof(portstr), "%ld", port);
	int g = getaddrinfo(host, portstr, &hints, &res);
	if (g != 0)
		return err_set(e, EXIT_UNAVAILABLE, "cannot resolve '%s': %s", host, gai_strerror(g));
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int fd = -1, last = 0;
	for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			    ai->ai_protocol);
		if (fd < 0) {
			last = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		last = errno;
		if (last == EINPROGRESS) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };
			int n;
			do {
				long left = timeout_ms - elapsed_ms(&t0);
				n = left > 0 ? poll(&p, 1, (int)left) : 0;
			} while (n < 0 && errno == EINTR);
			int soerr = ETIMEDOUT;
			socklen_t sl = sizeof(soerr);
			if (n > 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
				soerr = errno;
			if (n > 0 && soerr == 0)
				break;
			last = n < 0 ? errno : soerr;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		if (last == ETIMEDOUT)
			return err_set(e, EXIT_UNAVAILABLE, "cannot connect to %s port %ld: no answer "
				       "within %ld s", host, port, timeout_ms / 1000);
		return err_set(e, EXIT_UNAVAILABLE, "cannot connect to %s port %ld: %s", host, port,
			       strerror(last));
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
		close(fd);
		return err_set(e, EXIT_SOFTWARE, "cannot make a socket blocking: %s", strerror(errno));
	}
	*out = fd;
	return 0;
}

/* libssh2's last error as "message (code)", and whether it is a connection failure. */
static int session_fail(struct sftp_transport *st, int code, const char *what, bool *retryable,
			struct err *e)
{
	char *msg = NULL;
	int rc = libssh2_session_last_error(st->session, &msg, NULL, 0);
	*retryable = sftp_is_connection_error(rc);
	if (rc == LIBSSH2_ERROR_TIMEOUT || rc == LIBSSH2_ERROR_SOCKET_TIMEOUT)
		return err_set(e, code, "%s %s: timed out (the server did not answer)", what,
			       st->where);
	return err_set(e, code, "%s %s: %s", what, st->where, msg && *msg ? msg : "failed");
}

/* A hint for a refused RSA key: libssh2 1.10 signs only with ssh-rsa (SHA-1). */
static bool key_looks_rsa(const char *key_path)
{
	char buf[256] = "";
	struct strbuf pub = STRBUF_INIT;
	strbuf_addf(&pub, "%s.pub", key_path);
	FILE *f = fopen(pub.buf, "r");
	if (!f)
		f = fopen(key_path, "r");
	strbuf_release(&pub);
	if (!f)
		return false;
	bool rsa = fgets(buf, sizeof(buf), f) &&
		   (strncmp(buf, "ssh-rsa ", 8) == 0 || strstr(buf, "BEGIN RSA PRIVATE KEY"));
	fclose(f);
	return rsa;
}

static int authenticate(struct sftp_transport *st, const struct sftp_config *c, bool *retryable,
			struct err *e)
{
	char pass[1024] = "";
	int rc = 0;
	*retryable = false;
	if (c->passphrase_file && (rc = read_passphrase(c->passphrase_file, pass, sizeof(pass), e)))
		return rc;
	int r = libssh2_userauth_publickey_fromfile_ex(st->session, c->user,
						       (unsigned)strlen(c->user), NULL,
						       c->private_key,
						       c->passphrase_file ? pass : NULL);
	explicit_bzero(pass, sizeof(pass));
	if (r == 0 && libssh2_userauth_authenticated(st->session))
		return 0;
	if (r == LIBSSH2_ERROR_FILE) {
		err_set(e, EXIT_CONFIG, "cannot use private key '%s'", c->private_key);
		err_hint(e, "a wrong or missing passphrase (passphrase_file), or a key format "
			 "libssh2 cannot read");
		return EXIT_CONFIG;
	}
	if (r == LIBSSH2_ERROR_AUTHENTICATION_FAILED || r == LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED ||
	    r == 0) {
		err_set(e, EXIT_UNAVAILABLE, "%s refused key '%s' for user '%s'", st->where,
			c->private_key, c->user);
		if (key_looks_rsa(c->private_key))
			err_hint(e, "libssh2 1.10 signs RSA keys with ssh-rsa (SHA-1), which OpenSSH "
				 "8.8 and later refuse by default: use an ed25519 or ECDSA key");
		else
			err_hint(e, "is the public key in the server's authorized_keys for '%s'?",
				 c->user);
		return EXIT_UNAVAILABLE;
	}
	return session_fail(st, EXIT_UNAVAILABLE, "cannot authenticate to", retryable, e);
}

/* Handshake, host key, authentication, SFTP channel on a connected socket. */
static int open_session(struct sftp_transport *st, const struct sftp_config *c,
			const struct tp_sftp_opts *o, bool *retryable, struct err *e)
{
	struct kh kh;
	int rc = kh_load(st->session, c->known_hosts, &kh, e);
	if (rc) {
		*retryable = false;
		return rc;
	}
	char prefs[256];
	kh_hostkey_prefs(kh_known_kinds(&kh, c->host, c->port), prefs, sizeof(prefs));
	if (libssh2_session_method_pref(st->session, LIBSSH2_METHOD_HOSTKEY, prefs) != 0)
		log_debug("libssh2 rejected the host key preference '%s'", prefs);
	rc = tcp_connect(c->host, c->port, c->timeout_s * 1000, &st->sock, e);
	if (rc == 0 && libssh2_session_handshake(st->session, st->sock) != 0)
		rc = session_fail(st, EXIT_UNAVAILABLE, "SSH handshake with", retryable, e);
	if (rc == 0) {
		*retryable = false;
		rc = kh_verify(&kh, st->session, c->host, c->port, o->accept_new_hostkey, e);
	}
	kh_free(&kh);
	if (rc == 0)
		rc = authenticate(st, c, retryable, e);
	if (rc == 0) {
		st->sftp = libssh2_sftp_init(st->session);
		if (!st->sftp)
			rc = session_fail(st, EXIT_UNAVAILABLE, "cannot start SFTP on", retryable, e);
	}
	return rc;
}

int tp_sftp_connect(const struct sftp_config *c, const struct tp_sftp_opts *o,
		    struct transport **out, bool *retryable, struct err *e)
{
	static bool initialised;
	*out = NULL;
	*retryable = false;
	int rc = check_secret_file("private key", c->private_key, e);
	if (rc)
		return rc;
	if (!initialised) {
		if (libssh2_init(0) != 0)
			return err_set(e, EXIT_SOFTWARE, "cannot initialise libssh2");
		signal(SIGPIPE, SIG_IGN); /* a dead server must give an error, not kill us */
		initialised = true;
	}
	struct sftp_transport *st = xcalloc(1, sizeof(*st));
	st->base.ops = &sftp_ops;
	st->sock = -1;
	snprintf(st->where, sizeof(st->where), "%s@%s:%ld", c->user, c->host, c->port);
	st->session = libssh2_session_init();
	if (!st->session) {
		free(st);
		return err_set(e, EXIT_SOFTWARE, "cannot create an SSH session");
	}
	libssh2_session_set_blocking(st->session, 1);
	/* Every blocking libssh2 call (handshake, read, write, close) gives up after this. */
	libssh2_session_set_timeout(st->session, c->timeout_s * 1000);
	*retryable = true;
	rc = open_session(st, c, o, retryable, e);
	if (rc) {
		st->base.lost = true; /* no polite goodbye on a failed connection */
		sftp_transport_close(st);
		return rc;
	}
	log_debug("connected to %s (cipher %s, mac %s, host key %s)", st->where,
		  libssh2_session_methods(st->session, LIBSSH2_METHOD_CRYPT_SC),
		  libssh2_session_methods(st->session, LIBSSH2_METHOD_MAC_SC),
		  libssh2_session_methods(st->session, LIBSSH2_METHOD_HOSTKEY));
	*out = &st->base;
	return 0;
}
