/* dupkeys.c: an open-addressing table of key hashes -> (winning line, rank); losers in a list. */
#include "layout/dupkeys.h"

#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"

struct slot {
	uint64_t hash;  /* 0 = empty (a real hash of 0 is stored as 1) */
	uint64_t line_rank; /* line << 3 | rank */
};

struct dupkeys {
	struct slot *slots;
	size_t cap, used;
	long *losers;
	size_t n_losers, cap_losers;
	int sorted;
};

static uint64_t hash_key(const char *s, size_t len)
{
	/* 8 bytes at a time (multiply and xor-shift each word in), then a splitmix64 finish. */
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ len, w;
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		memcpy(&w, s + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, s + i, len - i);
	h ^= w;
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h ? h : 1;
}

struct dupkeys *dupkeys_new(void)
{
	struct dupkeys *d = xcalloc(1, sizeof(*d));
	d->cap = 1024;
	d->slots = xcalloc(d->cap, sizeof(*d->slots));
	return d;
}

void dupkeys_free(struct dupkeys *d)
{
	if (!d)
		return;
	free(d->slots);
	free(d->losers);
	free(d);
}

static struct slot *find(struct slot *slots, size_t cap, uint64_t h)
{
	size_t i = (size_t)h & (cap - 1);
	while (slots[i].hash && slots[i].hash != h)
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

static void grow(struct dupkeys *d)
{
	size_t cap = d->cap * 2;
	struct slot *slots = xcalloc(cap, sizeof(*slots));
	for (size_t i = 0; i < d->cap; i++)
		if (d->slots[i].hash)
			*find(slots, cap, d->slots[i].hash) = d->slots[i];
	free(d->slots);
	d->slots = slots;
	d->cap = cap;
}

static void add_loser(struct dupkeys *d, long line)
{
	if (d->n_losers == d->cap_losers) {
		d->cap_losers = d->cap_losers ? 2 * d->cap_losers : 16;
		d->losers = xrealloc(d->losers, d->cap_losers * sizeof(long));
	}
	d->losers[d->n_losers++] = line;
	d->sorted = 0;
}

void dupkeys_add(struct dupkeys *d, const char *key, size_t len, long line, int rank)
{
	if ((d->used + 1) * 10 > d->cap * 7)
		grow(d);
	uint64_t h = hash_key(key, len);
	uint64_t lr = ((uint64_t)line << 3) | (uint64_t)(rank & 7);
	struct slot *s = find(d->slots, d->cap, h);
	if (!s->hash) {
		s->hash = h;
		s->line_rank = lr;
		d->used++;
		return;
	}
	int old_rank = (int)(s->line_rank & 7);
	long old_line = (long)(s->line_rank >> 3);
	/* Rows come in line order, so on equal rank the new (later) line wins. */
	if (rank >= old_rank) {
		add_loser(d, old_line);
		s->line_rank = lr;
	} else {
		add_loser(d, line);
	}
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	return (x > y) - (x < y);
}

const long *dupkeys_losers(struct dupkeys *d, size_t *n)
{
	if (!d->sorted && d->n_losers)
		qsort(d->losers, d->n_losers, sizeof(long), cmp_long);
	d->sorted = 1;
	*n = d->n_losers;
	return d->losers;
}

struct keyfilter {
	uint64_t *words;
	uint64_t mask; /* number of words - 1 (a power of two) */
};

struct keyfilter *keyfilter_new(size_t expected_keys)
{
	uint64_t nbits = 1 << 16;
	while (nbits < (uint64_t)expected_keys * 16 && nbits < ((uint64_t)1 << 28))
		nbits <<= 1;
	struct keyfilter *f = xcalloc(1, sizeof(*f));
	f->words = xcalloc(nbits / 64, sizeof(uint64_t));
	f->mask = nbits / 64 - 1;
	return f;
}

uint64_t keyfilter_prepare(struct keyfilter *f, const char *key, size_t len)
{
	uint64_t h = hash_key(key, len);
	__builtin_prefetch(&f->words[(h >> 18) & f->mask], 1);
	return h;
}

int keyfilter_add_prepared(struct keyfilter *f, uint64_t h)
{
	/* A blocked filter: a key's three bits lie in one 64-bit word, so that a key costs one
	 * cache miss, not one per bit (the filter is larger than the caches). */
	uint64_t *w = &f->words[(h >> 18) & f->mask];
	uint64_t m = (uint64_t)1 << (h & 63) | (uint64_t)1 << (h >> 6 & 63) |
		     (uint64_t)1 << (h >> 12 & 63);
	int seen = (*w & m) == m;
	*w |= m;
	return seen;
}

int keyfilter_add(struct keyfilter *f, const char *key, size_t len)
{
	return keyfilter_add_prepared(f, hash_key(key, len));
}

void keyfilter_free(struct keyfilter *f)
{
	if (!f)
		return;
	free(f->words);
	free(f);
}
