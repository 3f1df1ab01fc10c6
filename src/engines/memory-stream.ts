/**
 * One topic's stream in the memory engine: its epoch, its last offset, its kept publications and the
 * bound in force (the one of the latest publish), plus when it became idle so the sweep can drop it.
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { HistoryOptions, HistoryQuery, HistoryResult, Publication, StreamPosition } from './engine.js';
import { HistoryBuffer } from './memory-history.js';

/** Random bytes fetched at once: one `randomBytes` call per topic would dominate creating a topic. */
const POOL_SIZE = 4096;
const EPOCH_BYTES = 8;
let pool = Buffer.alloc(0);
let poolOffset = 0;

/** A new epoch: 8 random bytes in base64url, enough that two lives of one topic never share one. */
export function newEpoch(): string {
  if (poolOffset + EPOCH_BYTES > pool.length) {
    pool = randomBytes(POOL_SIZE);
    poolOffset = 0;
  }
  poolOffset += EPOCH_BYTES;
  return pool.toString('base64url', poolOffset - EPOCH_BYTES, poolOffset);
}

/** The state of one topic's stream. */
export class TopicStream {
  /** Identifies this life of the stream; a dropped and recreated stream gets a new one. */
  readonly epoch = newEpoch();
  /** Offset of the last publication (0 before the first). */
  offset = 0;
  /**
   * From this time on (ms) the stream holds nothing worth keeping by itself: its last kept publication
   * has expired and nobody asked for its position since. The sweep drops it an idle period later.
   */
  idleFrom: number;
  /** `subscriptionGeneration` for which {@link deliver} was computed (-1: never). */
  deliverGeneration = -1;
  /** Whether this node subscribed to the topic, directly or by a pattern (cached per generation). */
  deliver = false;
  private readonly kept = new HistoryBuffer();
  private size = 0;
  private ttlMs = 0;

  constructor(now: number) {
    this.idleFrom = now;
  }

  /** The stream's position. */
  position(): StreamPosition {
    return { offset: this.offset, epoch: this.epoch };
  }

  /** Marks the stream as used at `now`, which postpones dropping it. */
  touch(now: number): void {
    if (this.idleFrom < now) this.idleFrom = now;
  }

  /** Stores `publication` under `history` (which becomes the bound in force) and returns nothing. */
  store(publication: Publication, history: HistoryOptions | undefined, now: number): void {
    const size = history === undefined ? 0 : history.size;
    const ttlMs = history === undefined ? 0 : history.ttlMs;
    if (!(size >= 1 && ttlMs > 0)) {
      // Without a bound that keeps something, the history ends here; later stores start it again.
      this.size = 0;
      this.ttlMs = 0;
      if (this.kept.length > 0) this.kept.clear();
      this.idleFrom = now;
      return;
    }
    this.size = size;
    this.ttlMs = ttlMs;
    this.kept.trimBefore(now - ttlMs);
    this.kept.push(publication, size);
    // The newest entry expires last, so the stream is idle from then on (unless touched again).
    this.idleFrom = now + ttlMs;
  }

  /** Drops expired publications; returns how many remain. */
  trim(now: number): number {
    return this.ttlMs > 0 ? this.kept.trimBefore(now - this.ttlMs) : this.kept.length;
  }

  /** Answers a history query (after trimming expired publications). */
  history(query: HistoryQuery | undefined, now: number): HistoryResult {
    this.trim(now);
    const limit = normalizeLimit(query?.limit);
    const since = query?.since;
    if (since === undefined) {
      return { publications: this.kept.latest(limit), position: this.position(), complete: true };
    }
    if (!this.reaches(since)) return { publications: [], position: this.position(), complete: false };
    return { publications: this.kept.after(since.offset, limit), position: this.position(), complete: true };
  }

  /** Whether every publication after `since` is still kept (so resuming from it leaves no gap). */
  private reaches(since: StreamPosition): boolean {
    // Another epoch, or an offset this stream never reached (a position from another life of it).
    if (since.epoch !== this.epoch || since.offset > this.offset || since.offset < 0) return false;
    if (since.offset === this.offset) return true;
    const first = this.kept.firstOffset;
    return first !== undefined && first <= since.offset + 1;
  }
}

/** `limit` as a usable count: omitted means all, anything not a positive number means none. */
function normalizeLimit(limit: number | undefined): number {
  if (limit === undefined) return Number.POSITIVE_INFINITY;
  return limit > 0 ? Math.floor(limit) : 0;
}
