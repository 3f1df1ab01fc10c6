/**
 * Options of the memory engine and their defaults.
 * @module
 */
import type { HandlerErrorListener } from './memory-delivery.js';

/** Options of `MemoryEngine`; every one has a default. */
export interface MemoryEngineOptions {
  /**
   * How long a topic's stream (epoch and offset) is kept once it holds nothing: no kept publication, no
   * presence, no subscription and no position asked. Dropping it loses the epoch, so a later subscriber
   * gets a new one and clients resuming from the old one are told their history is gone. Default 5 min.
   */
  idleTopicTtlMs?: number;
  /** Default time an idempotency key is remembered when a publish does not say. Default 5 min. */
  idempotencyTtlMs?: number;
  /** Most idempotency keys remembered; beyond it the oldest is forgotten early. Default 1,000,000. */
  maxIdempotencyKeys?: number;
  /** Period of the sweep of expired and idle state; 0 disables the timer. Default 1000 ms. */
  sweepIntervalMs?: number;
  /**
   * Most topic streams, presence topics and idempotency keys (each) one sweep examines, so that a sweep
   * never blocks the event loop for long; the next sweep goes on where it stopped. Default 10,000.
   */
  sweepBatch?: number;
  /** Clock in milliseconds since the Unix epoch (publication times, expiries). Default `Date.now`. */
  now?: () => number;
  /**
   * Receives what the engine handler throws; delivery goes on with the next event.
   * Default: `process.emitWarning`, which prints it without crashing the process.
   */
  onHandlerError?: HandlerErrorListener;
}

/** {@link MemoryEngineOptions} with every default applied. */
export type ResolvedMemoryOptions = Required<MemoryEngineOptions>;

const FIVE_MINUTES = 5 * 60_000;

function warn(error: unknown): void {
  process.emitWarning(error instanceof Error ? error : new Error(String(error)), 'EngineHandlerWarning');
}

/**
 * Applies defaults and checks ranges.
 * @throws RangeError when a number option is negative or not a number (`sweepBatch` must be >= 1).
 */
export function resolveMemoryOptions(options: MemoryEngineOptions): ResolvedMemoryOptions {
  const resolved: ResolvedMemoryOptions = {
    idleTopicTtlMs: options.idleTopicTtlMs ?? FIVE_MINUTES,
    idempotencyTtlMs: options.idempotencyTtlMs ?? FIVE_MINUTES,
    maxIdempotencyKeys: options.maxIdempotencyKeys ?? 1_000_000,
    sweepIntervalMs: options.sweepIntervalMs ?? 1000,
    sweepBatch: options.sweepBatch ?? 10_000,
    now: options.now ?? Date.now,
    onHandlerError: options.onHandlerError ?? warn,
  };
  for (const name of [
    'idleTopicTtlMs',
    'idempotencyTtlMs',
    'maxIdempotencyKeys',
    'sweepIntervalMs',
  ] as const) {
    const value = resolved[name];
    if (!(value >= 0))
      throw new RangeError(`MemoryEngine option ${name} must be a number >= 0, got ${value}`);
  }
  if (!(resolved.sweepBatch >= 1)) {
    throw new RangeError(`MemoryEngine option sweepBatch must be >= 1, got ${resolved.sweepBatch}`);
  }
  return resolved;
}
