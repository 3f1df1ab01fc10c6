/**
 * The latency histogram of `conduit bench`: exact small values, bounded relative error, bounded memory,
 * merging, clamping.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { LatencyHistogram } from '../../src/cli/bench-histogram.js';

/** The sample of rank ceil(q·n) of a sorted copy: what the histogram approximates. */
function exactQuantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!;
}

describe('LatencyHistogram', () => {
  it('counts values below 128 µs exactly', () => {
    const histogram = new LatencyHistogram();
    for (let v = 0; v < 128; v++) histogram.record(v);
    assert.equal(histogram.quantile(0.5), 63);
    assert.equal(histogram.quantile(0.9), 115);
    assert.equal(histogram.quantile(1), 127);
    assert.deepEqual(histogram.buckets().slice(0, 2), [
      { from: 0, to: 0, count: 1 },
      { from: 1, to: 1, count: 1 },
    ]);
  });

  it('reads every quantile within 1/64 of the exact value', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { minLength: 1, maxLength: 300 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (values, q) => {
          const histogram = new LatencyHistogram();
          for (const v of values) histogram.record(v);
          const exact = exactQuantile(values, q);
          const read = histogram.quantile(q);
          assert.ok(read >= exact, `${read} below the exact ${exact}`);
          assert.ok(read - exact <= exact / 64, `${read} too far above ${exact}`);
        },
      ),
    );
  });

  it('keeps a fixed number of buckets whatever it records', () => {
    const histogram = new LatencyHistogram();
    // Every power of two and its neighbours, over the whole range, many times each.
    for (let round = 0; round < 50; round++) {
      for (let bit = 0; bit < 32; bit++) {
        for (const v of [2 ** bit - 1, 2 ** bit, 2 ** bit + 1, 2 ** bit * 1.5]) histogram.record(v);
      }
    }
    const buckets = histogram.buckets();
    assert.ok(buckets.length <= 1728, `${buckets.length} buckets`);
    assert.equal(
      buckets.reduce((sum, b) => sum + b.count, 0),
      histogram.count,
    );
    for (let i = 1; i < buckets.length; i++)
      assert.ok(buckets[i]!.from > buckets[i - 1]!.to, 'ordered, disjoint');
  });

  it('merges into the same result as recording everything in one', () => {
    const values = Array.from({ length: 2000 }, (_, i) => (i * 7919) % 250_000);
    const one = new LatencyHistogram();
    const left = new LatencyHistogram();
    const right = new LatencyHistogram();
    values.forEach((v, i) => {
      one.record(v);
      (i % 2 === 0 ? left : right).record(v);
    });
    left.merge(right);
    assert.deepEqual(left.summary(), one.summary());
    assert.deepEqual(left.buckets(), one.buckets());
  });

  it('summarises, clamps out-of-range values, and reads 0 when empty', () => {
    const empty = new LatencyHistogram();
    assert.deepEqual(empty.summary(), { count: 0, min: 0, mean: 0, max: 0, p50: 0, p90: 0, p99: 0, p999: 0 });
    const histogram = new LatencyHistogram();
    histogram.record(-5);
    histogram.record(2.4);
    histogram.record(1e12);
    const summary = histogram.summary();
    assert.equal(summary.min, 0);
    assert.equal(summary.max, 2 ** 32 - 1);
    assert.equal(summary.p50, 2, 'rounded to whole microseconds');
    assert.equal(summary.count, 3);
  });
});
