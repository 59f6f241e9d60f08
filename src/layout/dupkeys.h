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

#endif
