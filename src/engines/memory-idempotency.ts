/**
 * Idempotency keys of the memory engine: key → the position its first publish got, for a limited time and
 * up to a limited count. Keys sit in a Map in insertion order; with one TTL for all keys (the usual case)
 * that is also expiry order, so the sweep deletes from the front and stops at the first live key. Keys
 * with a shorter TTL behind a longer one are deleted when read, or when the ones before them expire.
 * @module
 */
import type { StreamPosition } from './engine.js';

interface Remembered extends StreamPosition {
  readonly expiresAt: number;
}

/** Remembered idempotency keys, bounded in time and count. */
export class IdempotencyCache {
  private readonly keys = new Map<string, Remembered>();

  /** @param maxKeys - beyond this many keys the oldest is forgotten early, to bound memory. */
  constructor(private readonly maxKeys: number) {}

  /** How many keys are remembered (expired ones included until swept). */
  get size(): number {
    return this.keys.size;
  }

  /** The position remembered for `key`, or undefined when unknown or expired at `now`. */
  get(key: string, now: number): StreamPosition | undefined {
    const found = this.keys.get(key);
    if (found === undefined) return undefined;
    if (found.expiresAt > now) return found;
    this.keys.delete(key);
    return undefined;
  }

  /** Remembers `key` → `position` until `expiresAt`. */
  remember(key: string, position: StreamPosition, expiresAt: number): void {
    if (this.keys.size >= this.maxKeys) {
      const oldest = this.keys.keys().next();
      if (oldest.done !== true) this.keys.delete(oldest.value);
    }
    this.keys.set(key, { offset: position.offset, epoch: position.epoch, expiresAt });
  }

  /** Deletes expired keys from the front, at most `budget` of them; returns how many were deleted. */
  sweep(now: number, budget: number): number {
    let deleted = 0;
    for (const [key, remembered] of this.keys) {
      if (deleted >= budget || remembered.expiresAt > now) break;
      this.keys.delete(key);
      deleted++;
    }
    return deleted;
  }

  /** Forgets every key. */
  clear(): void {
    this.keys.clear();
  }
}
