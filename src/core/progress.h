/* progress.h: a progress line on stderr (rows, MB/s, ETA) for long work, shown only when stderr is
 * a terminal and not quiet (SPEC §1); silent otherwise. */
#ifndef OTTRECON_PROGRESS_H
#define OTTRECON_PROGRESS_H

#include <stdbool.h>

struct progress {
	bool on;
	const char *what;          /* "activations_20261203.csv" */
	unsigned long long total;  /* bytes expected, 0 when unknown */
	double start, last;        /* monotonic seconds */
	bool shown;
};

void progress_start(struct progress *p, const char *what, unsigned long long total_bytes);
/* Cheap to call often: redraws at most 4 times a second. */
void progress_update(struct progress *p, unsigned long long rows, unsigned long long bytes);
/* Clears the line if one was drawn. */
void progress_end(struct progress *p);

#endif
