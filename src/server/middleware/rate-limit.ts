/**
 * Rate limits: per-client handshake rate (an upgrade hook answering 429), and per-connection message
 * and byte rates with a grace rule that tells the caller when to stop warning and close.
 * @module
 */
import type { UpgradeHook } from '../options.js';
import type { UpgradeRequest } from '../upgrade-request.js';
import { ipKey } from './client-ip.js';
import { type Clock, KeyedTokenBuckets, monotonicClock, TokenBucket } from './token-bucket.js';

/** Options of {@link upgradeRateLimit}. */
export interface UpgradeRateLimitOptions {
  /** Handshakes per second each key regains. */
  perSecond: number;
  /** Handshakes a key may make at once. Default `perSecond`. */
  burst?: number;
  /**
   * The key a request is counted under. Default: the peer address, with IPv4-mapped IPv6 folded to IPv4
   * and IPv6 grouped by /64 ({@link ipKey}). Behind a proxy, derive it from a header the proxy sets.
   */
  key?: (request: UpgradeRequest) => string;
  /** Most keys tracked at once (memory bound). Default 100_000. */
  maxKeys?: number;
  /** Time source in ms (tests). Default: `performance.now()`. */
  clock?: Clock;
}

/** Seconds for `Retry-After` (RFC 9110 §10.2.3): a whole number, at least 1. */
function retryAfterSeconds(ms: number): number {
  return Number.isFinite(ms) ? Math.max(1, Math.ceil(ms / 1000)) : 60;
}

/**
 * An upgrade hook limiting how fast each client may open connections: when the client's bucket is
 * empty the handshake is refused with 429 and a `Retry-After` header (whole seconds, >= 1).
 */
export function upgradeRateLimit(options: UpgradeRateLimitOptions): UpgradeHook {
  const buckets = new KeyedTokenBuckets(options);
  const keyOf = options.key ?? ((request: UpgradeRequest) => ipKey(request.remoteAddress));
  return (request) => {
    const key = keyOf(request);
    if (buckets.take(key)) return undefined;
    return {
      status: 429,
      message: 'Too many connection attempts',
      headers: { 'Retry-After': String(retryAfterSeconds(buckets.retryAfterMs(key))) },
    };
  };
}

/** What {@link MessageRateLimiter.allow} decides for one message. */
export type MessageVerdict = 'ok' | 'limited' | 'exceeded';

/** Per-connection message limiter; see {@link createMessageRateLimiter}. */
export interface MessageRateLimiter {
  /**
   * Counts one received message of `bytes` bytes. `'ok'`: process it. `'limited'`: drop it and tell
   * the client (the connection stays open). `'exceeded'`: the client ignored the warnings; close the
   * connection with 1008 (policy violation). Once `'exceeded'`, every later call answers `'exceeded'`.
   */
  allow(bytes: number): MessageVerdict;
}

/** Options of {@link createMessageRateLimiter}. */
export interface MessageRateLimitOptions {
  /** Messages per second regained. */
  messagesPerSecond: number;
  /** Messages accepted at once. Default `messagesPerSecond`. */
  burst?: number;
  /** Payload bytes per second regained. Default: no byte limit. */
  bytesPerSecond?: number;
  /**
   * Bytes accepted at once. Default `bytesPerSecond`. A message larger than this is accepted when the
   * byte bucket is full and leaves it in debt, so big messages are slowed down rather than impossible.
   */
  burstBytes?: number;
  /** Refusals tolerated within `violationWindowMs`; one more answers `'exceeded'`. Default 10. */
  maxViolations?: number;
  /** Length of the window refusals are counted in, in ms, starting at the first refusal. Default 10_000. */
  violationWindowMs?: number;
  /** Time source in ms (tests). Default: `performance.now()`. */
  clock?: Clock;
}

function graceRule(options: MessageRateLimitOptions): { maxViolations: number; windowMs: number } {
  const maxViolations = options.maxViolations ?? 10;
  const windowMs = options.violationWindowMs ?? 10_000;
  if (!Number.isInteger(maxViolations) || maxViolations < 0) {
    throw new RangeError('maxViolations must be an integer >= 0');
  }
  if (!(windowMs > 0)) throw new RangeError('violationWindowMs must be > 0');
  return { maxViolations, windowMs };
}

/**
 * A per-connection limiter of messages and bytes per second. Grace rule: a refused message is a
 * violation; violations are counted in a fixed window of `violationWindowMs` opened by the first one,
 * and more than `maxViolations` of them in one window turns the verdict to `'exceeded'` for good. A
 * refused message consumes no tokens, so a client that slows down recovers on its own.
 */
export function createMessageRateLimiter(options: MessageRateLimitOptions): MessageRateLimiter {
  const clock = options.clock ?? monotonicClock;
  const { maxViolations, windowMs } = graceRule(options);
  const messages = new TokenBucket({ perSecond: options.messagesPerSecond, burst: options.burst, clock });
  const bytes =
    options.bytesPerSecond === undefined
      ? null
      : new TokenBucket({ perSecond: options.bytesPerSecond, burst: options.burstBytes, clock });
  let violations = 0;
  let windowStart = 0;
  let exceeded = false;

  const violate = (): MessageVerdict => {
    const now = clock.now();
    if (violations === 0 || now - windowStart >= windowMs) {
      violations = 0;
      windowStart = now;
    }
    violations++;
    exceeded = violations > maxViolations;
    return exceeded ? 'exceeded' : 'limited';
  };

  return {
    allow(size: number): MessageVerdict {
      if (exceeded) return 'exceeded';
      // A negative or NaN size must not add tokens.
      const cost = size > 0 ? size : 0;
      // Check both buckets before taking from either, so that a refusal costs nothing.
      if (messages.retryAfterMs(1) > 0) return violate();
      if (bytes !== null && bytes.retryAfterMs(Math.min(cost, bytes.burst)) > 0) return violate();
      messages.take(1);
      bytes?.debit(cost);
      return 'ok';
    },
  };
}
