#include "histogram.h"

#include <string.h>

#define SUB (1u << HIST_SUB_BITS)

void hist_reset(struct histogram *h) { memset(h, 0, sizeof *h); }

/* Values below 2*SUB get one bucket each; above, bucket b (>= 1) halves the resolution again. */
static unsigned bucket_of(uint64_t v) {
  if (v < 2 * SUB) return (unsigned)v;
  unsigned msb = 63u - (unsigned)__builtin_clzll(v);
  unsigned shift = msb - HIST_SUB_BITS;
  unsigned index = shift * SUB + (unsigned)(v >> shift);
  return index < HIST_BUCKETS ? index : HIST_BUCKETS - 1;
}

static double midpoint_of(unsigned index) {
  if (index < 2 * SUB) return (double)index;
  unsigned shift = index / SUB - 1;
  uint64_t low = (uint64_t)(index - shift * SUB) << shift;
  return (double)low + (double)((uint64_t)1 << shift) / 2.0;
}

void hist_record(struct histogram *h, uint64_t value_ns) {
  h->counts[bucket_of(value_ns)]++;
  h->count++;
}

double hist_quantile(const struct histogram *h, double quantile) {
  if (h->count == 0) return 0.0;
  uint64_t rank = (uint64_t)(quantile * (double)h->count);
  if (rank >= h->count) rank = h->count - 1;
  uint64_t seen = 0;
  for (unsigned i = 0; i < HIST_BUCKETS; i++) {
    seen += h->counts[i];
    if (seen > rank) return midpoint_of(i);
  }
  return midpoint_of(HIST_BUCKETS - 1);
}
