/**
 * The memory engine: numbering, history, fan-out and presence inside one process. It is the hub's
 * embedded default; several processes need the Redis engine instead. Memory stays bounded: idle topic
 * streams, expired presence entries and idempotency keys are dropped by a periodic, bounded sweep.
 * @module
 */
import {
  type Engine,
  EngineError,
  type EngineHandler,
  type HistoryQuery,
  type HistoryResult,
  type PresenceEntry,
  type Publication,
  type PublishOptions,
  type PublishResult,
  type StreamPosition,
} from './engine.js';
import { DeliveryQueue } from './memory-delivery.js';
import { IdempotencyCache } from './memory-idempotency.js';
import {
  type MemoryEngineOptions,
  type ResolvedMemoryOptions,
  resolveMemoryOptions,
} from './memory-options.js';
import { PresenceStore } from './memory-presence.js';
import { TopicStream } from './memory-stream.js';
import { SubscriptionSet } from './memory-subscriptions.js';
import { IncrementalSweep } from './memory-sweep.js';

export type { MemoryEngineOptions } from './memory-options.js';

/** Counts of what the memory engine holds, for metrics and tests. */
export interface MemoryEngineStats {
  /** Topic streams (epoch, offset, history) in memory. */
  topics: number;
  /** Topics with at least one presence entry. */
  presenceTopics: number;
  /** Remembered idempotency keys. */
  idempotencyKeys: number;
  /** Distinct topics and patterns this node subscribed to. */
  subscriptions: number;
}

/**
 * An {@link Engine} for one process. Publications of a topic are numbered in call order; the handler is
 * called asynchronously (after the publish resolves) but in offset order, for subscribed topics only.
 * Idempotency keys are scoped to their topic. Presence events reach the handler only for topics
 * subscribed by name (patterns carry publications only).
 */
export class MemoryEngine implements Engine {
  readonly name = 'memory';
  private readonly options: ResolvedMemoryOptions;
  private readonly streams = new Map<string, TopicStream>();
  private readonly subscriptions = new SubscriptionSet();
  private readonly presenceStore = new PresenceStore((topic, entry) => this.left(topic, entry));
  private readonly idempotency: IdempotencyCache;
  private readonly delivery: DeliveryQueue;
  private readonly streamSweep = new IncrementalSweep(this.streams, (topic, stream) =>
    this.sweepStream(topic, stream),
  );
  private sweepTime = 0;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  /** @param options - see {@link MemoryEngineOptions} for each option and its default. */
  constructor(options: MemoryEngineOptions = {}) {
    this.options = resolveMemoryOptions(options);
    this.idempotency = new IdempotencyCache(this.options.maxIdempotencyKeys);
    this.delivery = new DeliveryQueue(this.options.onHandlerError);
  }

  /** Sets the handler and starts the sweep timer (unref'd: it never keeps the process alive). */
  async start(handler: EngineHandler): Promise<void> {
    this.assertOpen();
    this.delivery.handler = handler;
    const interval = this.options.sweepIntervalMs;
    if (this.timer === null && interval > 0) {
      this.timer = setInterval(() => this.sweep(), interval);
      this.timer.unref();
    }
  }

  /** Stops the timer, drops undelivered events and all state; later calls reject with ERR_ENGINE_CLOSED. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.delivery.handler = null;
    this.delivery.clear();
    this.streams.clear();
    this.subscriptions.clear();
    this.presenceStore.clear();
    this.idempotency.clear();
  }

  /** Subscribes this node to a topic or pattern (reference-counted). Rejects with TypeError on a bad pattern. */
  async subscribe(topic: string): Promise<void> {
    this.assertOpen();
    this.subscriptions.add(topic);
  }

  /** Drops one reference to a topic or pattern; delivery stops with the last one. */
  async unsubscribe(topic: string): Promise<void> {
    this.assertOpen();
    // The idle period of an unsubscribed stream starts now: a client may still resume from its position.
    if (this.subscriptions.remove(topic)) this.streams.get(topic)?.touch(this.options.now());
  }

  /** Numbers, stores and (asynchronously) delivers one publication. */
  async publish(topic: string, data: string, options?: PublishOptions): Promise<PublishResult> {
    this.assertOpen();
    const now = this.options.now();
    const key = options?.idempotencyKey;
    if (key === undefined) return this.append(topic, data, options, now);
    const scoped = `${topic}\n${key}`;
    const seen = this.idempotency.get(scoped, now);
    if (seen !== undefined) return { offset: seen.offset, epoch: seen.epoch, duplicate: true };
    const result = this.append(topic, data, options, now);
    const ttl = options?.idempotencyTtlMs ?? this.options.idempotencyTtlMs;
    this.idempotency.remember(scoped, result, now + ttl);
    return result;
  }

  /**
   * Reads a topic's kept publications; creates the topic's epoch if it is new. The publications are the
   * engine's own objects (the ones delivered too): read-only for the caller.
   */
  async history(topic: string, query?: HistoryQuery): Promise<HistoryResult> {
    this.assertOpen();
    const now = this.options.now();
    const stream = this.stream(topic, now);
    stream.touch(now);
    return stream.history(query, now);
  }

  /** A topic's position; creates the topic's epoch if it is new. */
  async position(topic: string): Promise<StreamPosition> {
    this.assertOpen();
    const now = this.options.now();
    const stream = this.stream(topic, now);
    stream.touch(now);
    return stream.position();
  }

  /** Adds or refreshes a presence entry; a new one is announced to the handler if the topic is subscribed. */
  async presenceAdd(topic: string, entry: PresenceEntry, ttlMs: number): Promise<void> {
    this.assertOpen();
    const added = this.presenceStore.add(topic, entry, this.options.now() + ttlMs);
    if (added && this.subscriptions.has(topic)) this.delivery.presence(true, topic, entry);
  }

  /** Removes a presence entry; announces the leave if it was present and the topic is subscribed. */
  async presenceRemove(topic: string, entry: PresenceEntry): Promise<void> {
    this.assertOpen();
    const removed = this.presenceStore.remove(topic, entry.client);
    if (removed !== undefined) this.left(topic, removed);
  }

  /** The live presence entries of a topic (expired ones are removed, and announced, first). */
  async presence(topic: string): Promise<PresenceEntry[]> {
    this.assertOpen();
    return this.presenceStore.list(topic, this.options.now());
  }

  /**
   * One step of the periodic sweep (the timer calls it; tests may call it directly): examines up to
   * `sweepBatch` streams, presence topics and idempotency keys, dropping what expired or went idle.
   */
  sweep(): void {
    if (this.closed) return;
    const now = this.options.now();
    const budget = this.options.sweepBatch;
    this.sweepTime = now;
    this.streamSweep.run(budget);
    this.presenceStore.sweep(now, budget);
    this.idempotency.sweep(now, budget);
  }

  /** Counts of what the engine holds. */
  stats(): MemoryEngineStats {
    return {
      topics: this.streams.size,
      presenceTopics: this.presenceStore.size,
      idempotencyKeys: this.idempotency.size,
      subscriptions: this.subscriptions.size,
    };
  }

  /** The hot path of publish: number, store, queue for delivery. */
  private append(
    topic: string,
    data: string,
    options: PublishOptions | undefined,
    now: number,
  ): PublishResult {
    const stream = this.stream(topic, now);
    const offset = ++stream.offset;
    const publication: Publication = {
      topic,
      data,
      offset,
      epoch: stream.epoch,
      time: now,
      publisher: options?.publisher ?? '',
      excludePublisher: options?.excludePublisher === true,
      users: options?.users ?? null,
    };
    stream.store(publication, options?.history, now);
    if (this.delivers(topic, stream)) this.delivery.publication(publication);
    return { offset, epoch: stream.epoch, duplicate: false };
  }

  private stream(topic: string, now: number): TopicStream {
    let stream = this.streams.get(topic);
    if (stream === undefined) {
      stream = new TopicStream(now);
      this.streams.set(topic, stream);
    }
    return stream;
  }

  /** Whether `topic` is subscribed, cached on its stream until the subscriptions change. */
  private delivers(topic: string, stream: TopicStream): boolean {
    const generation = this.subscriptions.generation;
    if (stream.deliverGeneration !== generation) {
      stream.deliver = this.subscriptions.matches(topic);
      stream.deliverGeneration = generation;
    }
    return stream.deliver;
  }

  /** A presence entry left (removed or expired). */
  private left(topic: string, entry: PresenceEntry): void {
    if (this.subscriptions.has(topic)) this.delivery.presence(false, topic, entry);
    // The stream's idle period starts when its last presence entry leaves (touching on every leave is
    // cheaper than finding out which one was the last).
    this.streams.get(topic)?.touch(this.options.now());
  }

  private sweepStream(topic: string, stream: TopicStream): void {
    const now = this.sweepTime;
    if (stream.trim(now) > 0 || now < stream.idleFrom + this.options.idleTopicTtlMs) return;
    if (this.subscriptions.has(topic) || this.presenceStore.has(topic)) return;
    // History was lost with it: the next position gets a new epoch, as it should.
    this.streams.delete(topic);
  }

  private assertOpen(): void {
    if (this.closed) throw new EngineError('ERR_ENGINE_CLOSED', 'The memory engine is closed');
  }
}
