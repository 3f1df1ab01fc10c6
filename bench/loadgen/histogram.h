/*
 * Latency histogram with log-linear buckets: 128 linear sub-buckets per power of two, so every
 * recorded value lands in a bucket less than 1 % wide, from 1 ns to about 9 hours, in 40 KB.
 */
#ifndef LOADGEN_HISTOGRAM_H
#define LOADGEN_HISTOGRAM_H

#include <stdint.h>

#define HIST_SUB_BITS 7
#define HIST_BUCKETS ((45 - HIST_SUB_BITS + 1) * (1 << HIST_SUB_BITS) + (1 << HIST_SUB_BITS))

struct histogram {
  uint64_t count;
  uint64_t counts[HIST_BUCKETS];
};

void hist_reset(struct histogram *h);
void hist_record(struct histogram *h, uint64_t value_ns);
/* The value (in ns, bucket midpoint) below which `quantile` (0..1) of the recorded values lie. */
double hist_quantile(const struct histogram *h, double quantile);

#endif
