/**
 * Token buckets: a single bucket for one connection's limits, and a memory-bounded keyed set of buckets
 * for per-IP limits. Both read time from an injectable clock so that tests drive time instead of sleeping.
 * @module
 */
import { performance } from 'node:perf_hooks';

/** A source of time in milliseconds; only differences matter, so a monotonic clock is best. */
export interface Clock {
  now(): number;
}

/** The default clock: `performance.now()`, monotonic (wall-clock jumps do not refill or drain buckets). */
export const monotonicClock: Clock = { now: () => performance.now() };

/** Rate and size of a token bucket. */
export interface TokenBucketOptions {
  /** Tokens added per second. Must be > 0. */
  perSecond: number;
  /** Capacity: the most tokens a bucket holds, hence the largest burst. Must be >= 1. Default `perSecond`. */
  burst?: number;
  /** Time source in ms. Default {@link monotonicClock}. */
  clock?: Clock;
}

interface BucketParams {
  /** Tokens per millisecond. */
  readonly rate: number;
  readonly burst: number;
  readonly clock: Clock;
}

function bucketParams(options: TokenBucketOptions): BucketParams {
  const { perSecond } = options;
  if (typeof perSecond !== 'number' || !(perSecond > 0) || perSecond === Number.POSITIVE_INFINITY) {
    throw new RangeError('perSecond must be a finite number > 0');
  }
  const burst = options.burst ?? perSecond;
  if (typeof burst !== 'number' || !(burst >= 1) || burst === Number.POSITIVE_INFINITY) {
    throw new RangeError('burst must be a finite number >= 1');
  }
  return { rate: perSecond / 1000, burst, clock: options.clock ?? monotonicClock };
}

/**
 * Slack in token comparisons: refills accumulate in floating point (0.0005 tokens per ms is not exact),
 * and a take that is due must not be refused for a rounding error.
 */
const EPSILON = 1e-9;

/** Tokens after refilling from `last` to `now`, capped at the burst; a clock going backwards adds nothing. */
function refilled(params: BucketParams, tokens: number, last: number, now: number): number {
  const elapsed = now - last;
  if (!(elapsed > 0)) return tokens;
  return Math.min(params.burst, tokens + elapsed * params.rate);
}

/** Milliseconds until `tokens` grows to `n`: 0 when already there, Infinity when `n` exceeds the burst. */
function waitFor(params: BucketParams, tokens: number, n: number): number {
  if (n > params.burst) return Number.POSITIVE_INFINITY;
  if (tokens + EPSILON >= n) return 0;
  return Math.ceil((n - tokens) / params.rate);
}

/**
 * One token bucket: `take(n)` succeeds while tokens remain, and tokens come back at `perSecond` up to
 * `burst`. Starts full. State is two numbers; refilling is computed lazily on each call, no timers.
 */
export class TokenBucket {
  private readonly params: BucketParams;
  private tokens: number;
  private last: number;

  constructor(options: TokenBucketOptions) {
    this.params = bucketParams(options);
    this.tokens = this.params.burst;
    this.last = this.params.clock.now();
  }

  /** The capacity of the bucket. */
  get burst(): number {
    return this.params.burst;
  }

  /** Tokens available now (may be negative after {@link TokenBucket.debit}). */
  available(): number {
    this.refill();
    return this.tokens;
  }

  /** Takes `n` tokens if that many are available; returns false (taking nothing) otherwise. */
  take(n = 1): boolean {
    this.refill();
    if (this.tokens + EPSILON < n) return false;
    this.tokens -= n;
    return true;
  }

  /**
   * Removes `n` tokens unconditionally, possibly going below zero: a cost larger than the burst is
   * then paid back by waiting, rather than being impossible to ever pay.
   */
  debit(n: number): void {
    this.refill();
    this.tokens -= n;
  }

  /** Milliseconds until `take(n)` can succeed: 0 when it can now, Infinity when `n` exceeds the burst. */
  retryAfterMs(n = 1): number {
    this.refill();
    return waitFor(this.params, this.tokens, n);
  }

  private refill(): void {
    const now = this.params.clock.now();
    this.tokens = refilled(this.params, this.tokens, this.last, now);
    if (now > this.last) this.last = now;
  }
}

/** Options of {@link KeyedTokenBuckets}. */
export interface KeyedTokenBucketsOptions extends TokenBucketOptions {
  /** Most keys tracked at once; the least recently used key is dropped beyond it. Default 100_000. */
  maxKeys?: number;
}

/** State of one key: tokens at the time of the last access. */
interface KeyState {
  tokens: number;
  last: number;
}

/**
 * One token bucket per key (typically per client IP), with bounded memory. Keys live in a Map kept in
 * least-recently-used order: each access moves its key to the end. Because a missing key is the same as
 * a full bucket, keys idle long enough to have refilled are dropped from the front as calls arrive, and
 * at most `maxKeys` keys are kept: a flood of distinct keys evicts the least recently used ones instead
 * of growing the map.
 */
export class KeyedTokenBuckets {
  private readonly params: BucketParams;
  private readonly maxKeys: number;
  /** Idle time after which any bucket is full again, whatever its level was. */
  private readonly refillMs: number;
  private readonly states = new Map<string, KeyState>();

  constructor(options: KeyedTokenBucketsOptions) {
    this.params = bucketParams(options);
    const maxKeys = options.maxKeys ?? 100_000;
    if (!Number.isInteger(maxKeys) || maxKeys < 1) throw new RangeError('maxKeys must be an integer >= 1');
    this.maxKeys = maxKeys;
    this.refillMs = this.params.burst / this.params.rate;
  }

  /** Number of keys currently tracked (at most `maxKeys`). */
  get size(): number {
    return this.states.size;
  }

  /** Takes `n` tokens from `key`'s bucket if available; returns false (taking nothing) otherwise. */
  take(key: string, n = 1): boolean {
    const state = this.touch(key);
    if (state.tokens + EPSILON < n) return false;
    state.tokens -= n;
    return true;
  }

  /** Milliseconds until `take(key, n)` can succeed (0: now; Infinity: `n` exceeds the burst). */
  retryAfterMs(key: string, n = 1): number {
    const state = this.states.get(key);
    if (state === undefined) return waitFor(this.params, this.params.burst, n);
    const now = this.params.clock.now();
    return waitFor(this.params, refilled(this.params, state.tokens, state.last, now), n);
  }

  /** Forgets `key` (its bucket is full again). */
  delete(key: string): void {
    this.states.delete(key);
  }

  /** Forgets every key. */
  clear(): void {
    this.states.clear();
  }

  /** Refills `key`'s state and moves it to the most-recently-used end, creating it full if absent. */
  private touch(key: string): KeyState {
    const now = this.params.clock.now();
    this.sweep(now);
    let state = this.states.get(key);
    if (state === undefined) {
      if (this.states.size >= this.maxKeys) this.evictOldest();
      state = { tokens: this.params.burst, last: now };
    } else {
      this.states.delete(key);
      state.tokens = refilled(this.params, state.tokens, state.last, now);
      if (now > state.last) state.last = now;
    }
    this.states.set(key, state);
    return state;
  }

  /**
   * Drops keys idle for at least the full refill time. The map is in access order, so idle keys sit at
   * the front and the walk stops at the first recent one: amortized O(1) per call.
   */
  private sweep(now: number): void {
    for (const [key, state] of this.states) {
      if (now - state.last < this.refillMs) return;
      this.states.delete(key);
    }
  }

  private evictOldest(): void {
    const oldest = this.states.keys().next();
    if (!oldest.done) this.states.delete(oldest.value);
  }
}
