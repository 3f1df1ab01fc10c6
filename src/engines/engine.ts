/**
 * The engine interface behind the hub: where publications are numbered, stored and fanned out between
 * nodes, and where presence lives. The hub never talks to Redis or to another process itself; it talks
 * to an {@link Engine}. Two implementations: `MemoryEngine` (one process, the embedded default) and
 * `RedisEngine` (any number of processes and machines).
 * @module
 */

/** A position in a topic's stream. A new epoch means the stream's history was lost and offsets restarted. */
export interface StreamPosition {
  /** Offset of the last publication at this position (0 before the first one). */
  offset: number;
  /** Identifies one continuous life of the topic's stream. */
  epoch: string;
}

/** How long a topic keeps its publications. Both bounds apply; `size: 0` keeps none. */
export interface HistoryOptions {
  /** Most publications kept. */
  size: number;
  /** Publications older than this many milliseconds are dropped. */
  ttlMs: number;
}

/** One published message as the engine stores and delivers it. */
export interface Publication {
  topic: string;
  /** The message's `data`, already serialized as JSON (serialized once, by the publishing node). */
  data: string;
  /** Offset within the topic's stream, 1 for the first publication of an epoch. */
  offset: number;
  epoch: string;
  /** Milliseconds since the epoch (Unix) when the engine accepted it. */
  time: number;
  /** Client id of the publisher ('' for server code); lets subscribers exclude the sender. */
  publisher: string;
  /** Deliver only to the publisher excluded? */
  excludePublisher: boolean;
  /** When set, deliver only to connections of these user ids. */
  users: string[] | null;
}

/** Options of {@link Engine.publish}. */
export interface PublishOptions {
  /** History to keep for the topic; omitted or `size: 0` stores nothing (offsets still advance). */
  history?: HistoryOptions;
  /**
   * Makes the publish idempotent: a second publish with the same key within `idempotencyTtlMs`
   * stores and delivers nothing and returns the first publish's position.
   */
  idempotencyKey?: string;
  /** How long an idempotency key is remembered. Default 5 minutes. */
  idempotencyTtlMs?: number;
  /** Client id of the publisher ('' or omitted for server code). */
  publisher?: string;
  /** Do not deliver to the publisher's own connection. */
  excludePublisher?: boolean;
  /** Deliver only to these user ids. */
  users?: string[];
}

/** What {@link Engine.publish} returns once the engine accepted the publication. */
export interface PublishResult extends StreamPosition {
  /** True when the idempotency key had been seen: nothing new was stored or delivered. */
  duplicate: boolean;
}

/** Options of {@link Engine.history}. */
export interface HistoryQuery {
  /** Return publications after this position; omitted: the latest `limit` publications. */
  since?: StreamPosition;
  /** Most publications returned. Default: all that are kept. */
  limit?: number;
}

/** What {@link Engine.history} returns. */
export interface HistoryResult {
  /** Publications after `since` (oldest first), or the latest ones. */
  publications: Publication[];
  /** The stream's current position (its last offset and epoch). */
  position: StreamPosition;
  /**
   * False when `since` could not be honoured: another epoch, or publications after `since` were already
   * trimmed (so `publications` would have a gap). True when no `since` was given.
   */
  complete: boolean;
}

/** One connection present in a topic. */
export interface PresenceEntry {
  /** The connection's client id (unique across nodes). */
  client: string;
  /** The authenticated user id, or '' for anonymous connections. */
  user: string;
  /** Application data about the connection (from the auth claims or the upgrade hook). */
  info?: unknown;
}

/** What an engine tells the node it runs in. */
export interface EngineHandler {
  /** A publication for a topic this node subscribed to (from this node or another). */
  onPublication(publication: Publication): void;
  /** A connection joined a topic's presence (on any node). */
  onJoin(topic: string, entry: PresenceEntry): void;
  /** A connection left a topic's presence (on any node, or its node died and the entry expired). */
  onLeave(topic: string, entry: PresenceEntry): void;
  /**
   * The engine lost (false) or regained (true) its backend. While unavailable, publishes reject with an
   * {@link EngineError} of code `ERR_ENGINE_UNAVAILABLE`; after regaining it, subscriptions are restored.
   */
  onAvailability?(available: boolean): void;
}

/** Error codes of {@link EngineError}. */
export type EngineErrorCode = 'ERR_ENGINE_UNAVAILABLE' | 'ERR_ENGINE_CLOSED' | 'ERR_ENGINE_TIMEOUT';

/** An engine operation failed; the hub reports it to the client as an `error` message. */
export class EngineError extends Error {
  override readonly name = 'EngineError';
  constructor(
    readonly code: EngineErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Numbering, storage, fan-out and presence for the hub.
 *
 * Ordering: publications of one topic reach `onPublication` in offset order on every node.
 * Subscriptions are per node (not per connection): the hub subscribes once per topic and fans out locally.
 */
export interface Engine {
  /** A short name for logs and metrics (`memory`, `redis`). */
  readonly name: string;
  /** Connects the engine and sets who receives its events. Called once, before anything else. */
  start(handler: EngineHandler): Promise<void>;
  /** Releases everything: connections, timers, subscriptions. */
  close(): Promise<void>;
  /**
   * Starts delivering a topic's publications and presence events to this node. `topic` may be a pattern
   * (see `topic-pattern` in the hub: `*` one segment, `>` the rest); the engine may deliver a superset,
   * the hub filters.
   */
  subscribe(topic: string): Promise<void>;
  /** Stops delivering a topic (or pattern) to this node. */
  unsubscribe(topic: string): Promise<void>;
  /** Numbers, stores (per `options.history`) and fans out one publication. */
  publish(topic: string, data: string, options?: PublishOptions): Promise<PublishResult>;
  /** Reads a topic's stored publications. */
  history(topic: string, query?: HistoryQuery): Promise<HistoryResult>;
  /** A topic's current position, creating its epoch if the topic is new. */
  position(topic: string): Promise<StreamPosition>;
  /**
   * Adds (or refreshes) a connection in a topic's presence and tells every node (`onJoin`) the first time.
   * The entry expires after `ttlMs` unless refreshed, so entries of a dead node disappear.
   */
  presenceAdd(topic: string, entry: PresenceEntry, ttlMs: number): Promise<void>;
  /** Removes a connection from a topic's presence and tells every node (`onLeave`) if it was present. */
  presenceRemove(topic: string, entry: PresenceEntry): Promise<void>;
  /** The connections present in a topic (on every node). */
  presence(topic: string): Promise<PresenceEntry[]>;
}
