/**
 * Turns what the Redis subscriber connections receive into {@link EngineHandler} calls: publications once
 * each and in order, presence events for concretely subscribed topics only.
 *
 * One publish can reach a node more than once: through its topic's channel and through every glob that
 * matches it. Redis writes all those copies of one PUBLISH to a subscriber back to back, before anything
 * else, so remembering the last publication delivered per connection is enough to drop the copies.
 * Per-topic order holds because a topic lives on one shard, whose single subscriber connection receives
 * its publications in the order the publish scripts ran, which is offset order.
 * @module
 */
import type { Logger } from '../observability/logger.js';
import type { EngineHandler, PresenceEntry, Publication } from './engine.js';
import { decodeEntry, decodePublication, JOIN_MARK, LEAVE_MARK, PUBLICATION_MARK } from './redis-codec.js';
import type { RedisKeys } from './redis-keys.js';
import type { RedisShard } from './redis-shard.js';
import { compilePattern, type TopicMatcher } from './topic-pattern.js';

interface PatternEntry {
  count: number;
  glob: string;
  matcher: TopicMatcher;
}

/** The patterns a node holds, with the Redis glob each is subscribed through. */
export class PatternTable {
  private readonly patterns = new Map<string, PatternEntry>();
  private readonly byGlob = new Map<string, Map<string, TopicMatcher>>();

  /** Holds `pattern` once more; returns its glob. @throws TypeError for an invalid pattern. */
  add(pattern: string, glob: string): string {
    const held = this.patterns.get(pattern);
    if (held !== undefined) {
      held.count++;
      return held.glob;
    }
    const matcher = compilePattern(pattern);
    this.patterns.set(pattern, { count: 1, glob, matcher });
    const matchers = this.byGlob.get(glob) ?? new Map<string, TopicMatcher>();
    matchers.set(pattern, matcher);
    this.byGlob.set(glob, matchers);
    return glob;
  }

  /** Drops one hold of `pattern`; returns its glob, or null when it was not held. */
  remove(pattern: string): string | null {
    const held = this.patterns.get(pattern);
    if (held === undefined) return null;
    if (--held.count > 0) return held.glob;
    this.patterns.delete(pattern);
    const matchers = this.byGlob.get(held.glob);
    matchers?.delete(pattern);
    if (matchers?.size === 0) this.byGlob.delete(held.glob);
    return held.glob;
  }

  /** True when a pattern subscribed through `glob` matches `topic` exactly. */
  matches(glob: string, topic: string): boolean {
    const matchers = this.byGlob.get(glob);
    if (matchers === undefined) return false;
    for (const matcher of matchers.values()) if (matcher(topic)) return true;
    return false;
  }
}

/** The last publication delivered from one subscriber connection. */
interface LastDelivered {
  topic: string;
  epoch: string;
  offset: number;
}

/** Dispatches received channel messages to the engine's handler. */
export class Delivery {
  readonly patterns = new PatternTable();
  private readonly last = new Map<RedisShard, LastDelivered>();

  constructor(
    private readonly keys: RedisKeys,
    private readonly handler: EngineHandler,
    private readonly logger: Logger | null,
  ) {}

  /** A message on a concrete channel. */
  onMessage(shard: RedisShard, channel: string, message: string): void {
    // A message can still arrive for a channel just released: the hub no longer wants it.
    if (!shard.channels.has(channel)) return;
    const topic = this.keys.topicOf(channel);
    if (topic === null) return;
    const mark = message[0];
    if (mark === PUBLICATION_MARK) this.publication(shard, topic, message);
    else if (mark === JOIN_MARK || mark === LEAVE_MARK) this.presence(topic, mark, message);
  }

  /** A message through a glob; patterns carry publications only (docs/hub-protocol.md). */
  onPMessage(shard: RedisShard, glob: string, channel: string, message: string): void {
    if (message[0] !== PUBLICATION_MARK) return;
    const topic = this.keys.topicOf(channel);
    if (topic === null || !this.patterns.matches(glob, topic)) return;
    this.publication(shard, topic, message);
  }

  /** Forgets the duplicate filter of a connection that was lost (its successor starts afresh). */
  reset(shard: RedisShard): void {
    this.last.delete(shard);
  }

  private publication(shard: RedisShard, topic: string, message: string): void {
    const publication = decodePublication(topic, message);
    if (publication === null) {
      this.logger?.warn({ topic }, 'redis engine: malformed publication dropped');
      return;
    }
    const last = this.last.get(shard);
    if (last === undefined) {
      this.last.set(shard, { topic, epoch: publication.epoch, offset: publication.offset });
    } else if (
      last.offset === publication.offset &&
      last.topic === topic &&
      last.epoch === publication.epoch
    ) {
      return;
    } else {
      last.topic = topic;
      last.epoch = publication.epoch;
      last.offset = publication.offset;
    }
    this.call(() => this.handler.onPublication(publication as Publication));
  }

  private presence(topic: string, mark: string, message: string): void {
    const entry: PresenceEntry | null = decodeEntry(message.slice(1));
    if (entry === null) {
      this.logger?.warn({ topic }, 'redis engine: malformed presence event dropped');
      return;
    }
    if (mark === JOIN_MARK) this.call(() => this.handler.onJoin(topic, entry));
    else this.call(() => this.handler.onLeave(topic, entry));
  }

  /** Runs a handler callback; a throwing handler must not break the Redis connection's reader. */
  private call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.logger?.error({ err }, 'redis engine: event handler threw');
    }
  }
}
