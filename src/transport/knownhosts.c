/* knownhosts.c: host key checks with libssh2_knownhost_readfile + libssh2_knownhost_checkp (with
 * key-type bits), SHA256 fingerprints, and accept-new (append an unknown host's key). */
#include "transport/knownhosts.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"
#include "core/strbuf.h"

/* What libssh2 calls each kind: host key type, known_hosts type bits, algorithm name. */
static const struct kind {
	int hostkey_type;  /* LIBSSH2_HOSTKEY_TYPE_* (libssh2_session_hostkey) */
	int kh_bits;       /* LIBSSH2_KNOWNHOST_KEY_* */
	const char *alg;   /* name in known_hosts and in the KEX */
} kinds[KH_NKINDS] = {
	[KH_ED25519] = { LIBSSH2_HOSTKEY_TYPE_ED25519, LIBSSH2_KNOWNHOST_KEY_ED25519, "ssh-ed25519" },
	[KH_ECDSA_256] = { LIBSSH2_HOSTKEY_TYPE_ECDSA_256, LIBSSH2_KNOWNHOST_KEY_ECDSA_256,
			   "ecdsa-sha2-nistp256" },
	[KH_ECDSA_384] = { LIBSSH2_HOSTKEY_TYPE_ECDSA_384, LIBSSH2_KNOWNHOST_KEY_ECDSA_384,
			   "ecdsa-sha2-nistp384" },
	[KH_ECDSA_521] = { LIBSSH2_HOSTKEY_TYPE_ECDSA_521, LIBSSH2_KNOWNHOST_KEY_ECDSA_521,
			   "ecdsa-sha2-nistp521" },
	[KH_RSA] = { LIBSSH2_HOSTKEY_TYPE_RSA, LIBSSH2_KNOWNHOST_KEY_SSHRSA, "ssh-rsa" },
};

void kh_hostkey_prefs(unsigned known_mask, char *out, size_t cap)
{
	size_t o = 0;
	if (cap == 0)
		return;
	out[0] = '\0';
	for (int pass = 0; pass < 2; pass++) {
		for (int k = 0; k < KH_NKINDS; k++) {
			bool known = (known_mask >> k) & 1u;
			if (known != (pass == 0))
				continue;
			int n = snprintf(out + o, cap - o, "%s%s", o ? "," : "", kinds[k].alg);
			if (n < 0 || (size_t)n >= cap - o)
				return;
			o += (size_t)n;
		}
	}
}

void kh_fingerprint_sha256(const unsigned char digest[32], char *out, size_t cap)
{
	unsigned char b64[48];
	int n = EVP_EncodeBlock(b64, digest, 32); /* 44 characters, the last one '=' */
	while (n > 0 && b64[n - 1] == '=')
		n--;
	snprintf(out, cap, "SHA256:%.*s", n, (const char *)b64);
}

int kh_load(LIBSSH2_SESSION *s, const char *path, struct kh *kh, struct err *e)
{
	memset(kh, 0, sizeof(*kh));
	kh->path = path;
	struct stat st;
	if (stat(path, &st) != 0) {
		if (errno != ENOENT)
			return err_set(e, EXIT_CONFIG, "cannot read known_hosts '%s': %s", path,
				       strerror(errno));
		kh->missing = true;
	} else if (access(path, R_OK) != 0) {
		return err_set(e, EXIT_CONFIG, "cannot read known_hosts '%s': %s", path,
			       strerror(errno));
	}
	kh->hosts = libssh2_knownhost_init(s);
	if (!kh->hosts)
		return err_set(e, EXIT_SOFTWARE, "cannot initialise libssh2's known hosts");
	if (kh->missing)
		return 0;
	int n = libssh2_knownhost_readfile(kh->hosts, path, LIBSSH2_KNOWNHOST_FILE_OPENSSH);
	if (n < 0) {
		kh_free(kh);
		err_set(e, EXIT_CONFIG, "cannot parse known_hosts '%s' (libssh2 error %d)", path, n);
		err_hint(e, "each line must be 'HOST[,HOST...] KEYTYPE BASE64KEY [comment]' or a "
			 "hashed '|1|salt|hash KEYTYPE BASE64KEY'");
		return EXIT_CONFIG;
	}
	log_debug("read %d host key(s) from %s", n, path);
	return 0;
}

void kh_free(struct kh *kh)
{
	if (kh->hosts)
		libssh2_knownhost_free(kh->hosts);
	kh->hosts = NULL;
}

/* "HOST" for port 22, "[HOST]:PORT" otherwise: how OpenSSH names a host in known_hosts. */
static void host_pattern(const char *host, long port, char *out, size_t cap)
{
	if (port == 22)
		snprintf(out, cap, "%s", host);
	else
		snprintf(out, cap, "[%s]:%ld", host, port);
}

/*
 * LIBSSH2_KNOWNHOST_CHECK_* for host:port and a key of the given kind. The name is passed as
 * OpenSSH writes it, with port -1: given a port, libssh2 would also accept entries for the plain
 * host name (port 22), which OpenSSH never does for another port. Hashed entries hash this name.
 */
static int check(struct kh *kh, const char *host, long port, const char *key, size_t len,
		 int kind)
{
	char name[300];
	host_pattern(host, port, name, sizeof(name));
	return libssh2_knownhost_checkp(kh->hosts, name, -1, key, len,
					LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW |
						kinds[kind].kh_bits,
					NULL);
}

unsigned kh_known_kinds(struct kh *kh, const char *host, long port)
{
	/* A key that matches nothing: MISMATCH means "this host has a key of this kind". */
	static const char probe[] = "ottrecon-probe";
	unsigned mask = 0;
	for (int k = 0; k < KH_NKINDS; k++)
		if (kh->hosts && check(kh, host, port, probe, sizeof(probe) - 1, k) ==
					 LIBSSH2_KNOWNHOST_CHECK_MISMATCH)
			mask |= 1u << k;
	return mask;
}

/* Appends the offered key to the known_hosts file (made 0644 when missing), fsynced. */
static int append_key(struct kh *kh, const char *host, long port, const char *key, size_t len,
		      int kind, struct err *e)
{
	char name[300], line[8192];
	struct libssh2_knownhost *entry = NULL;
	size_t outlen = 0;
	host_pattern(host, port, name, sizeof(name));
	if (libssh2_knownhost_addc(kh->hosts, name, NULL, key, len, NULL, 0,
				   LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW |
					   kinds[kind].kh_bits,
				   &entry) != 0 ||
	    libssh2_knownhost_writeline(kh->hosts, entry, line, sizeof(line), &outlen,
					LIBSSH2_KNOWNHOST_FILE_OPENSSH) != 0)
		return err_set(e, EXIT_SOFTWARE, "cannot format a known_hosts line for %s", name);
	int fd = open(kh->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return err_set(e, EXIT_CONFIG, "cannot add the host key to '%s': %s", kh->path,
			       strerror(errno));
	int rc = 0;
	/* A file whose last line has no newline would glue ours to it. */
	struct stat st;
	char last = '\n';
	if (fstat(fd, &st) == 0 && st.st_size > 0 && pread(fd, &last, 1, st.st_size - 1) != 1)
		last = '\n';
	if ((last != '\n' && write(fd, "\n", 1) != 1) ||
	    write(fd, line, outlen) != (ssize_t)outlen || fsync(fd) != 0)
		rc = err_set(e, EXIT_CONFIG, "cannot add the host key to '%s': %s", kh->path,
			     strerror(errno));
	if (close(fd) != 0 && rc == 0)
		rc = err_set(e, EXIT_CONFIG, "cannot add the host key to '%s': %s", kh->path,
			     strerror(errno));
	return rc;
}

int kh_verify(struct kh *kh, LIBSSH2_SESSION *s, const char *host, long port, bool accept_new,
	      struct err *e)
{
	size_t len = 0;
	int type = 0;
	const char *key = libssh2_session_hostkey(s, &len, &type);
	const unsigned char *digest =
		(const unsigned char *)libssh2_hostkey_hash(s, LIBSSH2_HOSTKEY_HASH_SHA256);
	if (!key || !digest)
		return err_set(e, EXIT_UNAVAILABLE, "%s port %ld sent no host key", host, port);
	int kind = -1;
	for (int k = 0; k < KH_NKINDS; k++)
		if (kinds[k].hostkey_type == type)
			kind = k;
	char fp[64], name[300];
	kh_fingerprint_sha256(digest, fp, sizeof(fp));
	host_pattern(host, port, name, sizeof(name));
	if (kind < 0)
		return err_set(e, EXIT_UNAVAILABLE,
			       "%s offered a host key of a type ottrecon cannot check (type %d, %s)",
			       name, type, fp);

	int r = check(kh, host, port, key, len, kind);
	if (r == LIBSSH2_KNOWNHOST_CHECK_MATCH) {
		log_debug("host key of %s matches known_hosts: %s %s", name, kinds[kind].alg, fp);
		return 0;
	}
	if (r == LIBSSH2_KNOWNHOST_CHECK_MISMATCH) {
		err_set(e, EXIT_UNAVAILABLE,
			"host key of %s has CHANGED: it offered %s %s, which does not match the key "
			"in known_hosts '%s'; refusing to connect", name, kinds[kind].alg, fp,
			kh->path);
		err_hint(e, "someone may be intercepting the connection, or the partner replaced "
			 "its key: confirm %s with the partner before editing known_hosts", fp);
		return EXIT_UNAVAILABLE;
	}
	if (r != LIBSSH2_KNOWNHOST_CHECK_NOTFOUND)
		return err_set(e, EXIT_SOFTWARE, "cannot check the host key of %s (libssh2 error)",
			       name);

	unsigned known = kh_known_kinds(kh, host, port);
	if (accept_new && known == 0) {
		int rc = append_key(kh, host, port, key, len, kind, e);
		if (rc)
			return rc;
		log_warn("added the host key of %s to %s: %s %s (--accept-new-hostkey)", name,
			 kh->path, kinds[kind].alg, fp);
		return 0;
	}
	err_set(e, EXIT_UNAVAILABLE,
		"host key of %s is not known: it offered %s %s, which is not in known_hosts '%s'%s; "
		"refusing to connect", name, kinds[kind].alg, fp, kh->path,
		kh->missing ? " (the file does not exist)" : "");
	if (known == 1u << KH_RSA)
		err_hint(e, "known_hosts has only an RSA key for %s: libssh2 1.10 checks RSA host "
			 "keys only with ssh-rsa (SHA-1) signatures, which OpenSSH 8.8 and later no "
			 "longer offer; add the server's ed25519 or ECDSA key (confirm %s with the "
			 "partner)", name, fp);
	else if (known)
		err_hint(e, "known_hosts has keys of other types for %s: the server no longer "
			 "offers them; confirm %s with the partner", name, fp);
	else
		err_hint(e, "confirm %s with the partner, then add the key to %s (or run once with "
			 "--accept-new-hostkey)", fp, kh->path);
	return EXIT_UNAVAILABLE;
}
