/* progress.c: one self-overwriting line on a terminal's stderr. */
#include "core/progress.h"

#include <stdio.h>
#include <time.h>

#include "core/log.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void progress_start(struct progress *p, const char *what, unsigned long long total_bytes)
{
	p->on = log_progress_enabled();
	p->what = what;
	p->total = total_bytes;
	p->start = p->last = now_s();
	p->shown = false;
}

void progress_update(struct progress *p, unsigned long long rows, unsigned long long bytes)
{
	if (!p->on)
		return;
	double t = now_s();
	if (t - p->last < 0.25)
		return;
	p->last = t;
	double el = t - p->start;
	double mbs = el > 0 ? (double)bytes / 1e6 / el : 0;
	char eta[32] = "";
	if (p->total > bytes && bytes > 0 && el > 0.5)
		snprintf(eta, sizeof(eta), ", ETA %.0fs",
			 el * (double)(p->total - bytes) / (double)bytes);
	fprintf(stderr, "\r%s: %llu rows, %.1f MB/s%s\033[K", p->what, rows, mbs, eta);
	fflush(stderr);
	p->shown = true;
}

void progress_end(struct progress *p)
{
	if (p->on && p->shown) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	p->shown = false;
}
