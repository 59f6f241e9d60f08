/* dupkeys.h: finding repeated primary keys in one file without a database (validate), by SPEC
 * §3.1's rule: of the rows sharing a key, the most advanced status wins, on a tie the later line.
 *
 * Keeps 16 bytes per distinct key (a 64-bit hash, the winning line and its rank), not the keys:
 * about 25 MB per million rows. Two different keys with the same 64-bit hash would be taken for
 * one (odds about n^2 / 2^65: 3e-6 for ten million rows); `load` decides in the database, exactly.
 */
#ifndef OTTRECON_DUPKEYS_H
#define OTTRECON_DUPKEYS_H

#include <stddef.h>
#include <stdint.h>

struct dupkeys;

struct dupkeys *dupkeys_new(void);
void dupkeys_free(struct dupkeys *d);
/* Records a row's key; rank orders rows with the same key (higher wins, then the later line). */
void dupkeys_add(struct dupkeys *d, const char *key, size_t len, long line, int rank);
/* The lines of the rows that lost to another row with their key, sorted ascending (owned by d). */
const long *dupkeys_losers(struct dupkeys *d, size_t *n);


/*
 * A Bloom filter of keys (three bits in one 64-bit word per key), to tell cheaply which keys may
 * repeat in a file: keyfilter_add returns 1 when the key may have been added before (always so
 * for a real repeat; sometimes for a new key), 0 when it surely was not. Sized for the expected number of keys at
 * 16 bits a key, between 8 KiB and 32 MiB, so memory does not grow with the file beyond that
 * (the loader asks for the largest for every large file).
 */
struct keyfilter;
struct keyfilter *keyfilter_new(size_t expected_keys);
int keyfilter_add(struct keyfilter *f, const char *key, size_t len);
/* keyfilter_add in two steps, to overlap the memory access with other work: prepare hashes the
 * key and starts loading its word; add_prepared(its result) then does what keyfilter_add does. */
uint64_t keyfilter_prepare(struct keyfilter *f, const char *key, size_t len);
int keyfilter_add_prepared(struct keyfilter *f, uint64_t prepared);
void keyfilter_free(struct keyfilter *f);

#endif
