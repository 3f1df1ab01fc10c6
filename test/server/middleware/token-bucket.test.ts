/**
 * Token buckets and client-address keys, as units: refill, burst cap, retry times, debt, a clock going
 * backwards, and the memory bound of the keyed buckets under a flood of distinct keys.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ipKey, normalizeIp } from '../../../src/server/middleware/client-ip.js';
import { KeyedTokenBuckets, TokenBucket } from '../../../src/server/middleware/token-bucket.js';

/** A clock the test moves by hand. */
function manualClock(start = 1000): { now(): number; advance(ms: number): void; set(ms: number): void } {
  let time = start;
  return {
    now: () => time,
    advance: (ms) => {
      time += ms;
    },
    set: (ms) => {
      time = ms;
    },
  };
}

describe('TokenBucket', () => {
  test('starts full, refuses when empty, refills at the rate up to the burst', () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ perSecond: 2, burst: 3, clock });
    assert.equal(bucket.take(), true);
    assert.equal(bucket.take(2), true);
    assert.equal(bucket.take(), false);
    clock.advance(499);
    assert.equal(bucket.take(), false);
    clock.advance(1);
    assert.equal(bucket.take(), true);
    clock.advance(60_000);
    assert.equal(bucket.available(), 3, 'refill is capped at the burst');
    assert.equal(bucket.take(3), true);
    assert.equal(bucket.take(), false);
  });

  test('a refused take takes nothing', () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ perSecond: 1, burst: 2, clock });
    assert.equal(bucket.take(3), false);
    assert.equal(bucket.available(), 2);
  });

  test('retryAfterMs says when the next take succeeds', () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ perSecond: 4, burst: 2, clock });
    assert.equal(bucket.retryAfterMs(), 0);
    bucket.take(2);
    assert.equal(bucket.retryAfterMs(), 250);
    assert.equal(bucket.retryAfterMs(2), 500);
    assert.equal(bucket.retryAfterMs(3), Number.POSITIVE_INFINITY, 'more than the burst never fits');
    clock.advance(bucket.retryAfterMs());
    assert.equal(bucket.take(), true);
  });

  test('debit goes into debt that is paid back by waiting', () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ perSecond: 10, burst: 10, clock });
    bucket.debit(30);
    assert.equal(bucket.available(), -20);
    assert.equal(bucket.take(), false);
    assert.equal(bucket.retryAfterMs(), 2100);
    clock.advance(2100);
    assert.equal(bucket.take(), true);
  });

  test('a clock going backwards neither refills nor breaks later refills', () => {
    const clock = manualClock(10_000);
    const bucket = new TokenBucket({ perSecond: 1, burst: 1, clock });
    assert.equal(bucket.take(), true);
    clock.set(0);
    assert.equal(bucket.take(), false);
    clock.set(11_000);
    assert.equal(bucket.take(), true);
  });

  test('burst defaults to perSecond; invalid options throw', () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ perSecond: 5, clock });
    assert.equal(bucket.burst, 5);
    assert.throws(() => new TokenBucket({ perSecond: 0 }), RangeError);
    assert.throws(() => new TokenBucket({ perSecond: Number.NaN }), RangeError);
    assert.throws(() => new TokenBucket({ perSecond: 1, burst: 0.5 }), RangeError);
    assert.throws(() => new TokenBucket({ perSecond: Number.POSITIVE_INFINITY }), RangeError);
  });
});

describe('KeyedTokenBuckets', () => {
  test('keys have independent buckets', () => {
    const clock = manualClock();
    const buckets = new KeyedTokenBuckets({ perSecond: 1, burst: 2, clock });
    assert.equal(buckets.take('a'), true);
    assert.equal(buckets.take('a'), true);
    assert.equal(buckets.take('a'), false);
    assert.equal(buckets.take('b'), true);
    assert.equal(buckets.retryAfterMs('a'), 1000);
    assert.equal(buckets.retryAfterMs('unknown'), 0);
    clock.advance(1000);
    assert.equal(buckets.take('a'), true);
    assert.equal(buckets.take('a'), false);
  });

  test('a flood of distinct keys never holds more than maxKeys', () => {
    const clock = manualClock();
    const buckets = new KeyedTokenBuckets({ perSecond: 1, burst: 5, clock, maxKeys: 1000 });
    let largest = 0;
    for (let i = 0; i < 200_000; i++) {
      buckets.take(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
      if (buckets.size > largest) largest = buckets.size;
    }
    assert.equal(largest, 1000);
  });

  test('the default bound is 100 000 keys', () => {
    const clock = manualClock();
    const buckets = new KeyedTokenBuckets({ perSecond: 1, clock });
    for (let i = 0; i < 100_050; i++) buckets.take(`k${i}`);
    assert.equal(buckets.size, 100_000);
  });

  test('eviction drops the least recently used key', () => {
    const clock = manualClock();
    const buckets = new KeyedTokenBuckets({ perSecond: 1, burst: 1, clock, maxKeys: 2 });
    buckets.take('a');
    buckets.take('b');
    buckets.take('a'); // refused, but 'a' is now the most recently used
    buckets.take('c'); // evicts 'b'
    assert.equal(buckets.size, 2);
    assert.equal(buckets.take('a'), false, "'a' kept its empty bucket");
    assert.equal(buckets.take('b'), true, "'b' was forgotten, so it starts full");
  });

  test('keys idle long enough to be full again are swept', () => {
    const clock = manualClock();
    const buckets = new KeyedTokenBuckets({ perSecond: 10, burst: 20, clock });
    for (let i = 0; i < 500; i++) buckets.take(`idle-${i}`);
    assert.equal(buckets.size, 500);
    clock.advance(1999);
    buckets.take('fresh');
    assert.equal(buckets.size, 501, 'not yet refilled: kept');
    clock.advance(1);
    buckets.take('fresh');
    assert.equal(buckets.size, 1, 'only the recent key remains');
  });

  test('delete and clear forget keys', () => {
    const clock = manualClock();
    const buckets = new KeyedTokenBuckets({ perSecond: 1, burst: 1, clock });
    buckets.take('a');
    buckets.delete('a');
    assert.equal(buckets.take('a'), true);
    buckets.take('b');
    buckets.clear();
    assert.equal(buckets.size, 0);
    assert.throws(() => new KeyedTokenBuckets({ perSecond: 1, maxKeys: 0 }), RangeError);
  });
});

describe('client address keys', () => {
  test('normalizeIp folds IPv4-mapped IPv6 to IPv4 and drops zones', () => {
    assert.equal(normalizeIp('::ffff:127.0.0.1'), '127.0.0.1');
    assert.equal(normalizeIp('::FFFF:10.1.2.3'), '10.1.2.3');
    assert.equal(normalizeIp('fe80::1%eth0'), 'fe80::1');
    assert.equal(normalizeIp('2001:DB8::1'), '2001:db8::1');
    assert.equal(normalizeIp('10.0.0.1'), '10.0.0.1');
  });

  test('ipKey groups IPv6 by prefix and keeps IPv4 whole', () => {
    assert.equal(ipKey('10.0.0.1'), '10.0.0.1');
    assert.equal(ipKey('::ffff:10.0.0.1'), '10.0.0.1');
    assert.equal(ipKey('2001:db8:0:1::1'), '2001:db8:0:1:0:0:0:0/64');
    assert.equal(ipKey('2001:db8:0:1:ffff:ffff:ffff:ffff'), ipKey('2001:db8:0:1::2'));
    assert.notEqual(ipKey('2001:db8:0:1::1'), ipKey('2001:db8:0:2::1'));
    assert.equal(ipKey('2001:db8::1', 128), '2001:db8:0:0:0:0:0:1/128');
    assert.equal(ipKey('2001:db8:abcd::', 40), '2001:db8:ab00:0:0:0:0:0/40');
    assert.equal(ipKey('::1.2.3.4', 128), '0:0:0:0:0:0:102:304/128');
    assert.equal(ipKey('not an address'), 'not an address');
    assert.throws(() => ipKey('::1', 129), RangeError);
  });
});
