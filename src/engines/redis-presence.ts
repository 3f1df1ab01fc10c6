/**
 * Presence in Redis: per topic, a sorted set of client ids scored by expiry time and a hash of their
 * entries; per instance, an index of every entry by expiry. Adding announces a join on the topic's channel
 * the first time, removing announces a leave. Entries of a node that died stop being refreshed: the
 * {@link PresenceSweeper} of any live node removes them once expired and announces their leave.
 * @module
 */
import type { Logger } from '../observability/logger.js';
import type { PresenceEntry } from './engine.js';
import { decodeEntry, encodeEntry } from './redis-codec.js';
import type { RedisKeys } from './redis-keys.js';
import type { RedisShard } from './redis-shard.js';

/**
 * How much longer than an entry's ttl its topic's presence keys live: time for a sweeper to announce the
 * leave before Redis drops the keys on its own (which only happens when no node is left to sweep).
 */
const KEY_GRACE_MS = 60_000;

/** Adds or refreshes `entry` in `topic`; announces a join when it was not present. */
export async function presenceAdd(
  shard: RedisShard,
  keys: RedisKeys,
  topic: string,
  entry: PresenceEntry,
  ttlMs: number,
): Promise<void> {
  const k = keys.topic(topic);
  const ttl = Math.max(1, Math.ceil(ttlMs));
  await shard.run(
    'presenceAdd',
    [k.presenceExpiry, k.presenceEntries, keys.presenceIndex],
    [
      entry.client,
      encodeEntry(entry),
      ttl,
      k.channel,
      keys.presenceMember(topic, entry.client),
      ttl + KEY_GRACE_MS,
    ],
  );
}

/** Removes `entry` from `topic`; announces a leave when it was present. */
export async function presenceRemove(
  shard: RedisShard,
  keys: RedisKeys,
  topic: string,
  entry: PresenceEntry,
): Promise<void> {
  const k = keys.topic(topic);
  await shard.run(
    'presenceRemove',
    [k.presenceExpiry, k.presenceEntries, keys.presenceIndex],
    [entry.client, k.channel, keys.presenceMember(topic, entry.client), encodeEntry(entry)],
  );
}

/** The unexpired entries of `topic` (expired ones are removed, with their leave, on the way). */
export async function presenceList(
  shard: RedisShard,
  keys: RedisKeys,
  topic: string,
): Promise<PresenceEntry[]> {
  const k = keys.topic(topic);
  const values = (await shard.run(
    'presenceList',
    [k.presenceExpiry, k.presenceEntries, keys.presenceIndex],
    [topic, k.channel],
  )) as string[];
  const entries: PresenceEntry[] = [];
  for (const value of values) {
    const entry = decodeEntry(value);
    if (entry !== null) entries.push(entry);
  }
  return entries;
}

/** Settings of a {@link PresenceSweeper}. */
export interface SweeperSettings {
  /** Mean time between sweeps of one shard by this node, in ms. */
  intervalMs: number;
  /** Most expired entries handled per sweep (a full batch sweeps again right away). */
  batch: number;
  logger: Logger | null;
}

/**
 * Periodically removes expired presence entries and announces their leave. Every node runs one; they
 * cooperate without coordination because removing an entry is one script whose result says whether this
 * node removed it (and so announces it). Timers are unref'd and jittered so that nodes started together do
 * not sweep in lockstep.
 */
export class PresenceSweeper {
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly shards: readonly RedisShard[],
    private readonly keys: RedisKeys,
    private readonly settings: SweeperSettings,
  ) {}

  /** Starts sweeping. */
  start(): void {
    this.stopped = false;
    this.schedule(this.settings.intervalMs * Math.random());
  }

  /** Stops sweeping (a sweep in progress finishes). */
  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), delayMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    this.timer = null;
    let full = false;
    try {
      const counts = await Promise.all(this.shards.map((shard) => this.sweepShard(shard)));
      full = counts.some((count) => count >= this.settings.batch);
    } catch (err) {
      this.settings.logger?.debug({ err }, 'presence sweep failed');
    }
    const interval = this.settings.intervalMs;
    this.schedule(full ? 0 : interval * (0.5 + Math.random()));
  }

  /** Sweeps every shard once; returns how many expired entries were examined. For tests and tools. */
  async sweep(): Promise<number> {
    const counts = await Promise.all(this.shards.map((shard) => this.sweepShard(shard)));
    return counts.reduce((a, b) => a + b, 0);
  }

  private async sweepShard(shard: RedisShard): Promise<number> {
    if (!shard.available) return 0;
    const keys = this.keys;
    const members = (await shard.run(
      'presenceExpired',
      [keys.presenceIndex],
      [this.settings.batch],
    )) as string[];
    await Promise.all(
      members.map((member) => {
        const { topic, client } = keys.splitPresenceMember(member);
        const k = keys.topic(topic);
        return shard.run(
          'presenceSweepOne',
          [k.presenceExpiry, k.presenceEntries, keys.presenceIndex],
          [client, k.channel, member, encodeEntry({ client, user: '' })],
        );
      }),
    );
    return members.length;
  }
}
