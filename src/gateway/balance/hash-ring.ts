/**
 * A consistent-hash ring with virtual nodes. Each member owns many points on a 32-bit circle (more for
 * heavier members); a key belongs to the member owning the first point at or after the key's hash.
 * Adding or removing one of n members therefore moves only the keys of the arcs it gains or loses,
 * about 1/n of them, and the many points per member keep the arcs' total lengths close to fair.
 *
 * Points depend only on member ids and weights, never on order or time: two rings built from the same
 * members (say before and after a configuration reload) place every key identically.
 * @module
 */
import { createHash } from 'node:crypto';

/** Ring points per unit of weight. */
export const POINTS_PER_WEIGHT = 128;

/** A ring member: its stable id (a backend URL), its weight, and what lookups return for it. */
export interface RingMember<T> {
  id: string;
  weight: number;
  value: T;
}

/** A 32-bit hash of a string: the first four bytes of its MD5 (well spread; not used for security). */
export function hash32(text: string): number {
  return createHash('md5').update(text).digest().readUInt32BE(0);
}

/** Immutable ring over a set of members. */
export class HashRing<T> {
  readonly #hashes: Uint32Array;
  /** Member index of each point, parallel to #hashes. */
  readonly #owners: Uint32Array;
  readonly #members: readonly RingMember<T>[];

  constructor(members: readonly RingMember<T>[]) {
    this.#members = members;
    const points: { hash: number; owner: number }[] = [];
    members.forEach((member, owner) => {
      // One MD5 digest yields four 32-bit points.
      for (let i = 0; i < (member.weight * POINTS_PER_WEIGHT) / 4; i++) {
        const digest = createHash('md5').update(`${member.id}#${i}`).digest();
        for (let word = 0; word < 4; word++) points.push({ hash: digest.readUInt32BE(word * 4), owner });
      }
    });
    // Equal hashes (rare) are ordered by id, so that the ring never depends on member order.
    points.sort((a, b) => a.hash - b.hash || compareIds(members[a.owner]!.id, members[b.owner]!.id));
    this.#hashes = Uint32Array.from(points, (p) => p.hash);
    this.#owners = Uint32Array.from(points, (p) => p.owner);
  }

  /** Number of points on the ring. */
  get size(): number {
    return this.#hashes.length;
  }

  /**
   * The member owning `hash`, or, when `accept` refuses it, the next distinct member clockwise that
   * `accept` takes (so keys of a refused member spread over the others, and no other key moves).
   * Null when no member is accepted.
   */
  lookup(hash: number, accept: (value: T) => boolean = () => true): T | null {
    const count = this.#hashes.length;
    if (count === 0) return null;
    const refused = new Set<number>();
    const start = this.#firstAtOrAfter(hash);
    for (let step = 0; step < count && refused.size < this.#members.length; step++) {
      const owner = this.#owners[(start + step) % count]!;
      if (refused.has(owner)) continue;
      const value = this.#members[owner]!.value;
      if (accept(value)) return value;
      refused.add(owner);
    }
    return null;
  }

  /** Index of the first point whose hash is >= `hash` (wrapping to 0 past the end). */
  #firstAtOrAfter(hash: number): number {
    let low = 0;
    let high = this.#hashes.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.#hashes[mid]! < hash) low = mid + 1;
      else high = mid;
    }
    return low === this.#hashes.length ? 0 : low;
  }
}

function compareIds(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}
