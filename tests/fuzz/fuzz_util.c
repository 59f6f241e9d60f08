/* fuzz_util.c: the scratch file and invariant check of fuzz_util.h. */
#include "fuzz_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char g_path[512];
static int g_fd = -1;
static int g_err_fd = 2;

/* libFuzzer's -close_fd_mask=2 (tools/fuzz: the code under test logs warnings) discards stderr
 * once it starts: keep a copy of it, made before main, for the invariant messages. */
__attribute__((constructor)) static void keep_stderr(void)
{
	int fd = dup(2);
	if (fd >= 0)
		g_err_fd = fd;
}

static void scratch_remove(void)
{
	if (g_fd >= 0) {
		close(g_fd);
		unlink(g_path);
	}
}

const char *fuzz_scratch_write(const uint8_t *data, size_t size, const char *suffix)
{
	if (g_fd < 0) {
		const char *dir = getenv("TMPDIR");
		snprintf(g_path, sizeof(g_path), "%s/ottrecon-fuzz-XXXXXX%s", dir && *dir ? dir : "/tmp",
			 suffix);
		g_fd = mkstemps(g_path, (int)strlen(suffix));
		if (g_fd < 0) {
			perror("fuzz: cannot create a scratch file");
			abort();
		}
		atexit(scratch_remove);
	}
	if (ftruncate(g_fd, 0) != 0 || pwrite(g_fd, data, size, 0) != (ssize_t)size) {
		perror("fuzz: cannot write the scratch file");
		abort();
	}
	return g_path;
}

void fuzz_check(int cond, const char *what, const char *file, int line)
{
	if (cond)
		return;
	char msg[512];
	int n = snprintf(msg, sizeof(msg), "%s:%d: invariant broken: %s\n", file, line, what);
	if (n > 0 && write(g_err_fd, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1) < 0)
		n = 0; /* nothing more to do: abort anyway */
	abort();
}
