/**
 * A consistent-hash ring: maps a key (a topic name) to one of several shards, so that adding or removing a
 * shard moves only the keys that shard gains or loses. Each shard is placed on the ring at many points
 * (virtual nodes) to even out the load. Every node of a deployment must build the ring from the same shard
 * names to agree on where a topic lives.
 * @module
 */

/** Points per shard by default: enough for a few percent of imbalance with a handful of shards. */
export const DEFAULT_VIRTUAL_NODES = 160;

/**
 * 32-bit FNV-1a over the string's UTF-16 code units, then the murmur3 finalizer: FNV alone spreads short,
 * similar keys (`room.1`, `room.2`) poorly over the high bits, and the finalizer mixes them.
 */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A ring of shards of type `T`. */
export class HashRing<T> {
  private readonly points: Uint32Array;
  private readonly owners: T[];

  /**
   * @param shards The shards with the names that place them on the ring (names must be unique).
   * @param virtualNodes Points per shard.
   */
  constructor(shards: readonly { name: string; shard: T }[], virtualNodes = DEFAULT_VIRTUAL_NODES) {
    if (shards.length === 0) throw new RangeError('HashRing needs at least one shard');
    if (new Set(shards.map((s) => s.name)).size !== shards.length) {
      throw new RangeError('HashRing shard names must be unique');
    }
    const placed: { point: number; shard: T }[] = [];
    for (const { name, shard } of shards) {
      for (let v = 0; v < virtualNodes; v++) placed.push({ point: hash32(`${name}#${v}`), shard });
    }
    placed.sort((a, b) => a.point - b.point);
    this.points = Uint32Array.from(placed, (p) => p.point);
    this.owners = placed.map((p) => p.shard);
  }

  /** The shard owning `key`: the first point at or after the key's hash, wrapping around. */
  get(key: string): T {
    const h = hash32(key);
    const points = this.points;
    let lo = 0;
    let hi = points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (points[mid]! < h) lo = mid + 1;
      else hi = mid;
    }
    return this.owners[lo === points.length ? 0 : lo]!;
  }
}
