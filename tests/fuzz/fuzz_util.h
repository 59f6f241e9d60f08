/* fuzz_util.h: what the libFuzzer harnesses share: a scratch file for APIs that read a path, and
 * a check that turns a broken invariant into a crash libFuzzer records. */
#ifndef OTTRECON_FUZZ_UTIL_H
#define OTTRECON_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Replaces the contents of this process's scratch file (made on first use in $TMPDIR, removed at
 * exit) with data and returns its path. */
const char *fuzz_scratch_write(const uint8_t *data, size_t size, const char *suffix);

/* Aborts with a message when cond is false: an invariant of the code under test was broken. */
#define FUZZ_CHECK(cond) fuzz_check((cond), #cond, __FILE__, __LINE__)
void fuzz_check(int cond, const char *what, const char *file, int line);

/* The libFuzzer entry points each harness defines. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
