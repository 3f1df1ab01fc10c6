/**
 * Publishes on their way to the hub: the bounded offline queue, the publishes sent with an `id` and
 * waiting for their `ack`, and their retries — after a reconnect, and after an `unavailable` answer. A
 * retry keeps the id, so the hub stores the publication once and its promise settles exactly once.
 * @module
 */
import { HubError } from './errors.js';
import { IdSource } from './ids.js';
import { publishFrame, type StreamPosition } from './wire.js';

/** What a publish with `ack` resolves to: where the hub stored the publication. */
export type PublishAck = StreamPosition;

/** How to publish one message (see `HubClient.publish`). */
export interface OutboxPublish {
  topic: string;
  /** The data, already serialized. */
  dataJson: string;
  /** Ask for an ack. */
  ack: boolean;
  /** The caller's own id (implies `ack`). */
  id: string | number | undefined;
  /** False: not delivered back to this connection. */
  echo: boolean;
}

interface Entry {
  readonly frame: string;
  /** The publish id, for publishes that want an ack. */
  readonly id: string | number | undefined;
  readonly topic: string;
  readonly resolve: (ack: PublishAck | undefined) => void;
  readonly reject: (error: HubError) => void;
  ackTimer: ReturnType<typeof setTimeout> | undefined;
  retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** `unavailable` answers so far (for the retry delay). */
  retries: number;
  lastError: HubError | undefined;
}

/** Settings of an {@link Outbox}. */
export interface OutboxConfig {
  /** Sends a frame when connected; false when not. */
  send(frame: string): boolean;
  /** Most publishes in the offline queue. */
  limit: number;
  /** How long a sent publish waits for its ack. */
  ackTimeoutMs: number;
  /** Delay before the n-th (0-based) retry of a publish the hub answered `unavailable`. */
  retryDelayMs(retry: number): number;
}

function stopTimers(entry: Entry): void {
  clearTimeout(entry.ackTimer);
  clearTimeout(entry.retryTimer);
  entry.ackTimer = undefined;
  entry.retryTimer = undefined;
}

/** The publishes of one client. */
export class Outbox {
  /** Waiting for a connection, in publish order. */
  #queue: Entry[] = [];
  /** Sent with an id, waiting for the ack; in send order (a Map keeps insertion order). */
  readonly #unacked = new Map<string | number, Entry>();
  readonly #ids = new IdSource();

  constructor(private readonly config: OutboxConfig) {}

  /** Publishes waiting for a connection. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Publishes sent and waiting for their ack. */
  get unacked(): number {
    return this.#unacked.size;
  }

  /**
   * Sends (or queues) a publish. Without ack it resolves with undefined once sent or queued; with ack
   * it resolves with the ack's position.
   */
  publish(request: OutboxPublish): Promise<PublishAck | undefined> {
    const id = request.id ?? (request.ack ? this.#ids.next() : undefined);
    const frame = publishFrame(request.topic, request.dataJson, id, request.echo);
    return new Promise((resolve, reject) => {
      const entry: Entry = {
        ...{ frame, id, topic: request.topic, resolve, reject },
        ...{ ackTimer: undefined, retryTimer: undefined, retries: 0, lastError: undefined },
      };
      if (id !== undefined && this.#known(id)) {
        reject(
          new HubError('invalid_argument', `a publish with id ${JSON.stringify(id)} is already pending`, {
            id,
          }),
        );
      } else if (this.#trySend(entry)) {
        return;
      } else if (this.#queue.length >= this.config.limit) {
        const message = `the offline queue holds ${this.config.limit} publishes already`;
        reject(new HubError('queue_full', message, { topic: request.topic, id }));
      } else {
        this.#queue.push(entry);
        if (id === undefined) resolve(undefined);
      }
    });
  }

  #known(id: string | number): boolean {
    return this.#unacked.has(id) || this.#queue.some((entry) => entry.id === id);
  }

  /** Sends `entry` now if connected: a publish without ack is then done, one with ack waits for it. */
  #trySend(entry: Entry): boolean {
    if (!this.config.send(entry.frame)) return false;
    if (entry.id === undefined) {
      entry.resolve(undefined);
      return true;
    }
    this.#unacked.set(entry.id, entry);
    entry.ackTimer = setTimeout(() => this.#timedOut(entry), this.config.ackTimeoutMs);
    return true;
  }

  #timedOut(entry: Entry): void {
    if (this.#settle(entry.id!) !== entry) return;
    const why = entry.lastError === undefined ? '' : ` (last answer: ${entry.lastError.code})`;
    const message = `no ack within ${this.config.ackTimeoutMs} ms${why}; the publish may still have been applied`;
    entry.reject(
      new HubError('ack_timeout', message, { id: entry.id, topic: entry.topic, cause: entry.lastError }),
    );
  }

  /** Takes an entry out of the unacked set; undefined for an unknown (or timed out) id. */
  #settle(id: string | number): Entry | undefined {
    const entry = this.#unacked.get(id);
    if (entry === undefined) return undefined;
    this.#unacked.delete(id);
    stopTimers(entry);
    return entry;
  }

  /** An `ack` arrived. False for an id this outbox is not waiting for. */
  acked(id: string | number, position: StreamPosition): boolean {
    const entry = this.#settle(id);
    entry?.resolve({ offset: position.offset, epoch: position.epoch });
    return entry !== undefined;
  }

  /**
   * An `error` with an id arrived. `unavailable` (the engine is unreachable) is retried with the same id
   * while the ack timeout runs; any other code rejects the publish. False for an unknown id.
   */
  refused(error: HubError): boolean {
    if (error.id === undefined) return false;
    const entry = this.#unacked.get(error.id);
    if (entry === undefined) return false;
    if (error.code !== 'unavailable') {
      this.#settle(error.id);
      entry.reject(error);
      return true;
    }
    entry.lastError = error;
    clearTimeout(entry.retryTimer);
    entry.retryTimer = setTimeout(
      () => {
        entry.retryTimer = undefined;
        // Not sent (the socket closed meanwhile): the reconnect re-sends it.
        if (this.#unacked.get(entry.id!) === entry) this.config.send(entry.frame);
      },
      this.config.retryDelayMs(entry.retries++),
    );
    return true;
  }

  /** A session is ready: sends the queue in order (retries first), until the socket refuses. */
  connected(): void {
    const queue = this.#queue;
    this.#queue = [];
    let i = 0;
    while (i < queue.length && this.#trySend(queue[i]!)) i++;
    // The socket closed during the flush: keep the rest for the next connection.
    this.#queue = queue.slice(i).concat(this.#queue);
  }

  /**
   * The session ended. Publishes sent without their ack yet go back to the head of the queue, with the
   * same id: the hub drops the copy if the first one arrived.
   */
  disconnected(): void {
    const retries = [...this.#unacked.values()];
    for (const entry of retries) stopTimers(entry);
    this.#unacked.clear();
    this.#queue = retries.concat(this.#queue);
  }

  /** Rejects every publish still waiting for an ack and empties the queue (the client closed). */
  clear(error: HubError): void {
    this.disconnected();
    const queue = this.#queue;
    this.#queue = [];
    for (const entry of queue) if (entry.id !== undefined) entry.reject(error);
  }
}
