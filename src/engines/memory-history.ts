/**
 * A topic's kept publications for the memory engine: an array with a head index, so that appending and
 * dropping the oldest entry are O(1) amortized and allocate nothing per publication. Kept entries always
 * have consecutive offsets (every publication is stored while a history bound is in force, and a
 * publication without history clears the buffer), so an offset finds its entry by subtraction.
 * @module
 */
import type { Publication } from './engine.js';

/** Below this many dead slots the array is not compacted: copying would cost more than it saves. */
const COMPACT_MIN = 64;

/** Publications of one topic, oldest first, bounded by size and age. */
export class HistoryBuffer {
  private items: Publication[] = [];
  private head = 0;

  /** How many publications are kept. */
  get length(): number {
    return this.items.length - this.head;
  }

  /** Offset of the oldest kept publication, or `undefined` when none is kept. */
  get firstOffset(): number | undefined {
    return this.items[this.head]?.offset;
  }

  /** Appends a publication and drops the oldest ones beyond `size`. */
  push(publication: Publication, size: number): void {
    this.items.push(publication);
    let excess = this.length - size;
    while (excess > 0) {
      this.dropOldest();
      excess--;
    }
  }

  /** Drops publications accepted at or before `cutoff` (a time in ms); returns how many remain. */
  trimBefore(cutoff: number): number {
    let oldest = this.items[this.head];
    while (oldest !== undefined && oldest.time <= cutoff) {
      this.dropOldest();
      oldest = this.items[this.head];
    }
    return this.length;
  }

  /** Drops everything (a publication without history ends the history). */
  clear(): void {
    this.items = [];
    this.head = 0;
  }

  /** Up to `limit` publications with offsets greater than `after`, oldest first. */
  after(after: number, limit: number): Publication[] {
    const first = this.firstOffset;
    if (first === undefined) return [];
    const start = this.head + Math.max(0, after + 1 - first);
    return this.items.slice(start, Math.min(this.items.length, start + limit));
  }

  /** The latest `limit` publications, oldest first. */
  latest(limit: number): Publication[] {
    return this.items.slice(Math.max(this.head, this.items.length - limit));
  }

  private dropOldest(): void {
    // Release the reference at once so the publication can be collected before the next compaction.
    this.items[this.head] = undefined as unknown as Publication;
    this.head++;
    if (this.head === this.items.length) {
      this.clear();
    } else if (this.head >= COMPACT_MIN && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
