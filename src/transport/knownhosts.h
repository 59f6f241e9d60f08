/* knownhosts.h: strict host key checking against an OpenSSH known_hosts file (hashed entries and
 * [host]:port included), OpenSSH-style fingerprints, and OpenSSH's accept-new. */
#ifndef OTTRECON_KNOWNHOSTS_H
#define OTTRECON_KNOWNHOSTS_H

#include <libssh2.h>
#include <stdbool.h>
#include <stddef.h>

struct err;

/* Host key kinds libssh2 1.10 can verify, as a bit mask (1 << index into kh_kinds). */
enum { KH_ED25519, KH_ECDSA_256, KH_ECDSA_384, KH_ECDSA_521, KH_RSA, KH_NKINDS };

/*
 * Writes the host key algorithm preference for libssh2_session_method_pref into out: the kinds
 * in known_mask first (so that a host known by one kind is asked for that kind, as OpenSSH does),
 * then the others, each group in the order ed25519, ecdsa 256/384/521, rsa.
 */
void kh_hostkey_prefs(unsigned known_mask, char *out, size_t cap);

/* "SHA256:<base64 without padding>" of a SHA-256 digest (32 bytes), as ssh-keygen -l prints. */
void kh_fingerprint_sha256(const unsigned char digest[32], char *out, size_t cap);

/*
 * The known_hosts file of one connection, read before the handshake. A missing file reads as
 * empty (every key is then unknown); one that cannot be read or parsed is EXIT_CONFIG.
 */
struct kh {
	LIBSSH2_KNOWNHOSTS *hosts;  /* owned */
	const char *path;
	bool missing;
};
int kh_load(LIBSSH2_SESSION *s, const char *path, struct kh *kh, struct err *e);
void kh_free(struct kh *kh);

/* The kinds of key known_hosts holds for host:port (a mask of 1 << KH_*). */
unsigned kh_known_kinds(struct kh *kh, const char *host, long port);

/*
 * Checks the key the server offered in the handshake. A key that matches: 0. An unknown key:
 * EXIT_UNAVAILABLE with its fingerprint, unless accept_new, the host has no key of any kind in
 * known_hosts and the key can be appended to the file (then 0 and a warning). A changed key:
 * EXIT_UNAVAILABLE, always.
 */
int kh_verify(struct kh *kh, LIBSSH2_SESSION *s, const char *host, long port, bool accept_new,
	      struct err *e);

#endif
