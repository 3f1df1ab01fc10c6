/**
 * The Redis engine: publications numbered and stored by Lua scripts (streams for history, a meta hash for
 * offset and epoch), fanned out with pub/sub, presence in sorted sets; any number of hub nodes in any
 * number of processes share one Redis, or several sharded by topic.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { activeLogger, type Logger } from '../observability/logger.js';
import {
  type Engine,
  EngineError,
  type EngineHandler,
  type HistoryQuery,
  type HistoryResult,
  type PresenceEntry,
  type PublishOptions,
  type PublishResult,
  type StreamPosition,
} from './engine.js';
import { decodeStreamEntry, encodeMeta, type StreamEntry } from './redis-codec.js';
import { Delivery } from './redis-delivery.js';
import { HashRing } from './redis-hash-ring.js';
import { RedisKeys } from './redis-keys.js';
import { EngineMetrics } from './redis-metrics.js';
import {
  REDIS_ENGINE_DEFAULTS,
  type RedisEngineOptions,
  type RedisSettings,
  resolveRedisSettings,
} from './redis-options.js';
import { PresenceSweeper, presenceAdd, presenceList, presenceRemove } from './redis-presence.js';
import { RedisShard, type ShardEvents } from './redis-shard.js';
import { isPattern } from './topic-pattern.js';

export type { RedisEngineOptions } from './redis-options.js';
export { REDIS_ENGINE_DEFAULTS } from './redis-options.js';

type State = 'new' | 'starting' | 'started' | 'closed';

const EPOCH_BYTES = 8;
/** Random bytes drawn in bulk: one `randomBytes` call per publish would cost more than the rest of it. */
let entropy = Buffer.alloc(0);
let entropyUsed = 0;

/** A fresh random epoch (16 hex digits); a script uses it only when the topic has none. */
function newEpoch(): string {
  if (entropyUsed + EPOCH_BYTES > entropy.length) {
    entropy = randomBytes(EPOCH_BYTES * 512);
    entropyUsed = 0;
  }
  entropyUsed += EPOCH_BYTES;
  return entropy.toString('hex', entropyUsed - EPOCH_BYTES, entropyUsed);
}

/** The Redis-backed {@link Engine}. */
export class RedisEngine implements Engine {
  readonly name = 'redis';
  /** The engine's counts (also reported on `options.registry` when given). */
  readonly metrics = new EngineMetrics();
  private readonly settings: RedisSettings;
  private readonly logger: Logger | null;
  private readonly keys: RedisKeys;
  private readonly shards: RedisShard[];
  private readonly ring: HashRing<RedisShard> | null;
  private readonly sweeper: PresenceSweeper;
  private handler: EngineHandler | null = null;
  private delivery: Delivery | null = null;
  private state: State = 'new';
  private available = false;

  constructor(options: RedisEngineOptions = {}) {
    this.settings = resolveRedisSettings(options);
    this.logger = activeLogger(options.logger)?.child({ engine: 'redis' }) ?? null;
    this.keys = new RedisKeys(this.settings.prefix);
    const urls =
      options.urls !== undefined && options.urls.length > 0
        ? options.urls
        : [options.url ?? REDIS_ENGINE_DEFAULTS.url];
    const shardSettings = { ...this.settings, logger: this.logger };
    this.shards = urls.map((url) => new RedisShard(url, shardSettings, this.shardEvents()));
    this.ring =
      this.shards.length > 1
        ? new HashRing(
            this.shards.map((shard) => ({ name: shard.where, shard })),
            this.settings.virtualNodes,
          )
        : null;
    this.sweeper = new PresenceSweeper(this.shards, this.keys, {
      intervalMs: this.settings.presenceSweepIntervalMs,
      batch: this.settings.presenceSweepBatch,
      logger: this.logger,
    });
    if (options.registry !== undefined) {
      this.metrics.register(options.registry, this.name, this.settings.metricsPrefix);
    }
  }

  private shardEvents(): ShardEvents {
    return {
      // Nothing is delivered once the engine is closed, even what was already on the wire.
      message: (shard, channel, message) => {
        if (this.state === 'started') this.delivery?.onMessage(shard, channel, message);
      },
      pmessage: (shard, glob, channel, message) => {
        if (this.state === 'started') this.delivery?.onPMessage(shard, glob, channel, message);
      },
      availability: (shard, available) => this.shardAvailability(shard, available),
      reconnected: () => this.metrics.reconnects.inc(),
    };
  }

  /** Connects to every instance; rejects with `ERR_ENGINE_UNAVAILABLE` if one is not usable in time. */
  async start(handler: EngineHandler): Promise<void> {
    if (this.state !== 'new') throw new Error('RedisEngine.start() may be called once');
    this.state = 'starting';
    this.handler = handler;
    this.delivery = new Delivery(this.keys, handler, this.logger);
    try {
      await Promise.all(this.shards.map((shard) => shard.start(this.settings.connectTimeoutMs)));
    } catch (err) {
      await this.close();
      throw err;
    }
    this.state = 'started';
    this.available = this.shards.every((shard) => shard.available);
    this.metrics.setAvailable(this.available);
    this.sweeper.start();
  }

  /** Stops sweeping and closes every connection. Later operations reject with `ERR_ENGINE_CLOSED`. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.sweeper.stop();
    await Promise.all(this.shards.map((shard) => shard.close()));
  }

  private shardAvailability(shard: RedisShard, shardAvailable: boolean): void {
    if (!shardAvailable) this.delivery?.reset(shard);
    if (this.state !== 'started') return;
    const available = shardAvailable && this.shards.every((s) => s.available);
    if (available === this.available) return;
    this.available = available;
    this.metrics.setAvailable(available);
    if (available) this.logger?.info('redis engine available again');
    else this.logger?.warn({ redis: shard.where }, 'redis engine unavailable');
    try {
      this.handler?.onAvailability?.(available);
    } catch (err) {
      this.logger?.error({ err }, 'redis engine: onAvailability threw');
    }
  }

  private assertStarted(): void {
    if (this.state === 'started') return;
    throw this.state === 'closed'
      ? new EngineError('ERR_ENGINE_CLOSED', 'The engine was closed')
      : new EngineError('ERR_ENGINE_UNAVAILABLE', 'The engine is not started');
  }

  private shardOf(topic: string): RedisShard {
    this.assertStarted();
    return this.ring === null ? this.shards[0]! : this.ring.get(topic);
  }

  /** The URL (password masked) of the instance `topic` lives on. */
  shardNameOf(topic: string): string {
    return (this.ring === null ? this.shards[0]! : this.ring.get(topic)).where;
  }

  /** Subscribes this node to a topic (its channel) or a pattern (a glob on every instance). */
  async subscribe(topic: string): Promise<void> {
    if (!isPattern(topic)) return this.shardOf(topic).channels.acquire(this.keys.channel(topic));
    this.assertStarted();
    const patterns = this.delivery!.patterns;
    const glob = patterns.add(topic, this.keys.glob(topic));
    const results = await Promise.allSettled(this.shards.map((s) => s.globs.acquire(glob)));
    const failure = results.find((r) => r.status === 'rejected');
    if (failure === undefined) return;
    // All or nothing: a pattern missing on one instance would silently miss that instance's topics.
    await Promise.all(this.shards.map((s, i) => results[i]!.status === 'fulfilled' && s.globs.release(glob)));
    patterns.remove(topic);
    throw failure.reason;
  }

  /** Unsubscribes this node from a topic or pattern; fails only when closed (a lost connection drops it anyway). */
  async unsubscribe(topic: string): Promise<void> {
    this.assertStarted();
    if (!isPattern(topic)) {
      await this.shardOf(topic).channels.release(this.keys.channel(topic));
      return;
    }
    const glob = this.delivery!.patterns.remove(topic);
    if (glob !== null) await Promise.all(this.shards.map((s) => s.globs.release(glob)));
  }

  /** Numbers, stores and fans out one publication in one atomic script. */
  async publish(topic: string, data: string, options: PublishOptions = {}): Promise<PublishResult> {
    const shard = this.shardOf(topic);
    const k = this.keys.topic(topic);
    const keys = [k.meta, k.stream];
    if (options.idempotencyKey !== undefined) keys.push(this.keys.idempotency(topic, options.idempotencyKey));
    const size = Math.max(0, Math.floor(options.history?.size ?? 0));
    const ttl = Math.max(0, Math.ceil(options.history?.ttlMs ?? 0));
    const idempotencyTtl = Math.max(1, Math.ceil(options.idempotencyTtlMs ?? this.settings.idempotencyTtlMs));
    const args = [
      k.channel,
      newEpoch(),
      size,
      ttl,
      this.settings.topicTtlMs,
      idempotencyTtl,
      encodeMeta(options),
      data,
    ];
    let reply: unknown[];
    try {
      reply = (await shard.run('publish', keys, args)) as unknown[];
    } catch (err) {
      this.metrics.publishErrors.inc();
      throw err;
    }
    this.metrics.publishes.inc();
    if (reply[0] === 1) {
      const seen = String(reply[1]);
      const comma = seen.indexOf(',');
      return { offset: Number(seen.slice(0, comma)), epoch: seen.slice(comma + 1), duplicate: true };
    }
    return { offset: Number(reply[1]), epoch: String(reply[2]), duplicate: false };
  }

  /** Reads a topic's stored publications (see {@link HistoryResult} for `complete`). */
  async history(topic: string, query: HistoryQuery = {}): Promise<HistoryResult> {
    const shard = this.shardOf(topic);
    const k = this.keys.topic(topic);
    const { since, limit } = query;
    const args = [
      newEpoch(),
      since?.offset ?? '',
      since?.epoch ?? '',
      limit === undefined ? -1 : Math.max(0, limit),
    ];
    const [epoch, last, complete, entries] = (await shard.run('history', [k.meta, k.stream], args)) as [
      string,
      number,
      number,
      StreamEntry[],
    ];
    const publications = [];
    for (const entry of entries) {
      const publication = decodeStreamEntry(topic, entry, epoch);
      if (publication !== null) publications.push(publication);
    }
    return { publications, position: { offset: Number(last), epoch }, complete: complete === 1 };
  }

  /** A topic's position, creating its epoch if the topic is new (and keeping it for `topicTtlMs`). */
  async position(topic: string): Promise<StreamPosition> {
    const k = this.keys.topic(topic);
    const args = [newEpoch(), this.settings.topicTtlMs];
    const [offset, epoch] = (await this.shardOf(topic).run('position', [k.meta, k.stream], args)) as [
      string,
      string,
    ];
    return { offset: Number(offset), epoch };
  }

  /** Adds or refreshes a presence entry; other nodes get `onJoin` the first time. */
  async presenceAdd(topic: string, entry: PresenceEntry, ttlMs: number): Promise<void> {
    await presenceAdd(this.shardOf(topic), this.keys, topic, entry, ttlMs);
  }

  /** Removes a presence entry; every node gets `onLeave` if it was present. */
  async presenceRemove(topic: string, entry: PresenceEntry): Promise<void> {
    await presenceRemove(this.shardOf(topic), this.keys, topic, entry);
  }

  /** The unexpired presence entries of a topic. */
  async presence(topic: string): Promise<PresenceEntry[]> {
    return presenceList(this.shardOf(topic), this.keys, topic);
  }

  /** Sweeps expired presence entries now (the sweeper does it periodically); returns how many were found. */
  async sweepPresence(): Promise<number> {
    this.assertStarted();
    return this.sweeper.sweep();
  }
}
