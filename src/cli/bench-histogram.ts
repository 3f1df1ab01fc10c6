/**
 * A log-bucketed latency histogram in the manner of HdrHistogram: values (integer microseconds) below
 * 128 are counted exactly, larger ones in buckets 1/64 of their power of two wide, so every reading
 * is within 1.6 % of the truth. The bucket array has a fixed size (a few KiB) whatever the number of
 * samples or the length of the run, which is what lets `conduit bench` run for hours.
 * @module
 */

/** Bits of exact resolution: values below 2^7 get a bucket each. */
const PRECISION_BITS = 7;
const EXACT = 1 << PRECISION_BITS;
const HALF = EXACT >> 1;
/** Largest recordable value: 2^32 - 1 µs (about 71 minutes); larger ones are clamped to it. */
const MAX_VALUE = 0xffff_ffff;
/** Exact buckets, then HALF buckets for each further power of two up to 2^32. */
const BUCKETS = EXACT + (32 - PRECISION_BITS) * HALF;

/** One non-empty bucket: the values it covers (inclusive) and how many were recorded. */
export interface HistogramBucket {
  readonly from: number;
  readonly to: number;
  readonly count: number;
}

/** Summary statistics of a {@link LatencyHistogram}, in microseconds. */
export interface HistogramSummary {
  count: number;
  min: number;
  mean: number;
  max: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
}

function bitLength(value: number): number {
  return 32 - Math.clz32(value);
}

/** The bucket of a value in 0..MAX_VALUE. */
function bucketOf(value: number): number {
  if (value < EXACT) return value;
  const shift = bitLength(value) - PRECISION_BITS;
  // After the shift the value keeps its top PRECISION_BITS bits: HALF..EXACT-1.
  const top = value >>> shift;
  return EXACT + (shift - 1) * HALF + (top - HALF);
}

/** The lowest value of a bucket. */
function lowestOf(bucket: number): number {
  if (bucket < EXACT) return bucket;
  const shift = Math.floor((bucket - EXACT) / HALF) + 1;
  const top = ((bucket - EXACT) % HALF) + HALF;
  return top * 2 ** shift;
}

/** The highest value of a bucket. */
function highestOf(bucket: number): number {
  return bucket + 1 < BUCKETS ? lowestOf(bucket + 1) - 1 : MAX_VALUE;
}

/** A latency histogram with bounded memory: {@link record} microseconds, read percentiles. */
export class LatencyHistogram {
  /** Float64 counts: a long run at 100k/s passes 2^32 samples. */
  readonly #counts = new Float64Array(BUCKETS);
  #count = 0;
  #sum = 0;
  #min = Number.POSITIVE_INFINITY;
  #max = 0;

  /** Samples recorded. */
  get count(): number {
    return this.#count;
  }

  /** Records one value in microseconds (rounded; negative values count as 0, huge ones are clamped). */
  record(micros: number): void {
    const value = micros <= 0 ? 0 : micros >= MAX_VALUE ? MAX_VALUE : Math.round(micros);
    this.#counts[bucketOf(value)]! += 1;
    this.#count += 1;
    this.#sum += value;
    if (value < this.#min) this.#min = value;
    if (value > this.#max) this.#max = value;
  }

  /** Adds every sample of `other` to this histogram. */
  merge(other: LatencyHistogram): void {
    const counts = other.#counts;
    for (let i = 0; i < BUCKETS; i++) this.#counts[i]! += counts[i]!;
    this.#count += other.#count;
    this.#sum += other.#sum;
    this.#min = Math.min(this.#min, other.#min);
    this.#max = Math.max(this.#max, other.#max);
  }

  /**
   * The value at quantile `q` (0..1): the highest value of the bucket holding the sample of that rank,
   * capped by the largest value seen (so p100 is the exact maximum). 0 when empty.
   */
  quantile(q: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.#count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) return Math.max(this.#min, Math.min(highestOf(i), this.#max));
    }
    return this.#max;
  }

  /** Count, min, mean, max and the usual percentiles, in microseconds. */
  summary(): HistogramSummary {
    const empty = this.#count === 0;
    return {
      count: this.#count,
      min: empty ? 0 : this.#min,
      mean: empty ? 0 : this.#sum / this.#count,
      max: this.#max,
      p50: this.quantile(0.5),
      p90: this.quantile(0.9),
      p99: this.quantile(0.99),
      p999: this.quantile(0.999),
    };
  }

  /** The non-empty buckets, lowest values first. */
  buckets(): HistogramBucket[] {
    const found: HistogramBucket[] = [];
    for (let i = 0; i < BUCKETS; i++) {
      const count = this.#counts[i]!;
      if (count > 0) found.push({ from: lowestOf(i), to: highestOf(i), count });
    }
    return found;
  }
}
