/**
 * Masking keys for the client role. RFC 6455 §5.3 asks for keys from a strong source of entropy; asking
 * the system for 4 bytes per frame is slow, so randomness is fetched in batches.
 * @module
 */

const BATCH = 4096;

/** Hands out 4-byte masking keys from a batch of random bytes refilled as it runs out. */
export class MaskKeySource {
  private readonly pool: Uint8Array<ArrayBuffer> = new Uint8Array(BATCH);
  private offset = BATCH;
  private readonly fill: (target: Uint8Array<ArrayBuffer>) => void;

  constructor(fill: (target: Uint8Array<ArrayBuffer>) => void = (t) => globalThis.crypto.getRandomValues(t)) {
    this.fill = fill;
  }

  /** Returns a fresh key: a view valid until the next {@link next} call that refills the pool. */
  next(): Uint8Array {
    if (this.offset === BATCH) {
      this.fill(this.pool);
      this.offset = 0;
    }
    const key = this.pool.subarray(this.offset, this.offset + 4);
    this.offset += 4;
    return key;
  }

  /**
   * Returns a fresh key as one unsigned 32-bit number, its first byte in the high 8 bits: what the
   * frame writer uses, as it needs no view of the pool.
   */
  nextWord(): number {
    if (this.offset === BATCH) {
      this.fill(this.pool);
      this.offset = 0;
    }
    const pool = this.pool;
    const at = this.offset;
    this.offset = at + 4;
    return ((pool[at]! << 24) | (pool[at + 1]! << 16) | (pool[at + 2]! << 8) | pool[at + 3]!) >>> 0;
  }
}

let shared: MaskKeySource | undefined;

/** The process-wide key source used when a connection is given no `randomFill` option. */
export function defaultMaskKeySource(): MaskKeySource {
  shared ??= new MaskKeySource();
  return shared;
}
