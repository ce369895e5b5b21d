/* A log-linear (HDR-style) histogram of nanosecond values: exact below 256,
 * then 128 buckets per power of two, so any percentile it reports is
 * within 0.4% of the true sample. Fixed size, no allocation per value. */
#ifndef TERN_HIST_H
#define TERN_HIST_H

#include <stdint.h>

#define HIST_EXACT 256
#define HIST_SUB 128
#define HIST_BUCKETS (HIST_EXACT + 56 * HIST_SUB)

struct hist {
	uint64_t count, sum, min, max;
	uint64_t bucket[HIST_BUCKETS];
};

void hist_init(struct hist *h);
void hist_add(struct hist *h, uint64_t v);
void hist_merge(struct hist *into, const struct hist *from);
/* The value at percentile p (0..100): the smallest recorded value with at
 * least p% of the samples at or below it, to within a bucket's midpoint. */
uint64_t hist_pct(const struct hist *h, double p);
double hist_mean(const struct hist *h);

#endif
