/* fuzz_knownhosts.c: the known_hosts reading of transport/knownhosts.c (libssh2's parser behind
 * kh_load) on arbitrary bytes, then the per-host lookups the SFTP connection makes. */
#include <libssh2.h>
#include <stdlib.h>

#include "core/err.h"
#include "core/log.h"
#include "fuzz_util.h"
#include "transport/knownhosts.h"

static LIBSSH2_SESSION *g_session;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init(LOG_TEXT, -1, "fuzz");
	if (libssh2_init(0) != 0 || !(g_session = libssh2_session_init()))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_scratch_write(data, size, ".known_hosts");
	struct kh kh;
	struct err e = { 0 };
	int rc = kh_load(g_session, path, &kh, &e);
	if (rc == 0) {
		unsigned mask = kh_known_kinds(&kh, "127.0.0.1", 22) |
				kh_known_kinds(&kh, "sftp.example.com", 2222) |
				kh_known_kinds(&kh, "[::1]", 22);
		FUZZ_CHECK(mask < (1u << KH_NKINDS));
		char prefs[256];
		kh_hostkey_prefs(mask, prefs, sizeof(prefs));
		FUZZ_CHECK(prefs[0] != '\0');
	} else {
		FUZZ_CHECK(rc == EXIT_CONFIG && e.msg[0] != '\0');
	}
	kh_free(&kh);
	return 0;
}
