/**
 * One subscription: its state across reconnects, its position in the topic's stream (what it resumes
 * from), its flow-control credit, and the application's handlers.
 * @module
 */
import { reportListenerError } from './emitter.js';
import { HubError } from './errors.js';
import { creditFrame, type ServerMessage, type StreamPosition, subscribeFrame } from './wire.js';

/**
 * - `pending`: waiting for a connection to send `subscribe` on;
 * - `subscribing`: `subscribe` sent, `subscribed` not yet received;
 * - `active`: receiving messages;
 * - `closed`: unsubscribed, revoked by the hub, or refused by it (final).
 */
export type SubscriptionState = 'pending' | 'subscribing' | 'active' | 'closed';

/** Where a message came from. */
export interface MessageMeta {
  /** The concrete topic (for a pattern subscription, the topic that matched). */
  topic: string;
  offset: number;
  epoch: string;
  /** The pattern that matched, for pattern subscriptions. */
  pattern: string | undefined;
}

/** What `subscribed` said, passed to `onSubscribed` on every (re)subscription. */
export interface SubscribedInfo {
  topic: string;
  /** The stream position the subscription started at. */
  offset: number;
  epoch: string;
  /** True when this subscribe asked to resume (it carried `since`). */
  resumed: boolean;
  /**
   * The hub's `recovered`: true when every message after `since` follows. After a resume (`resumed`)
   * false means messages were missed: reload the state the topic feeds.
   */
  recovered: boolean;
}

/** A `join` or `leave` in a subscribed topic. */
export interface PresenceEvent {
  topic: string;
  client: string;
  user: string;
  /** The connection's presence info (`join` only). */
  info?: unknown;
}

/** Callbacks of a subscription; each is optional. A throwing callback does not disturb the client. */
export interface SubscriptionHandlers<T = unknown> {
  /** A message, in stream order; duplicates (an offset already processed in this epoch) are dropped. */
  onMessage?(data: T, meta: MessageMeta): void;
  /** A connection subscribed to the topic. */
  onJoin?(event: PresenceEvent): void;
  /** A connection left the topic. */
  onLeave?(event: PresenceEvent): void;
  /** The hub confirmed the subscription (after every reconnect too). */
  onSubscribed?(info: SubscribedInfo): void;
  /** The hub ended the subscription on its own (state `closed`). */
  onUnsubscribed?(topic: string): void;
  /** The hub refused the subscription (state `closed`), or reported an error about the topic. */
  onError?(error: HubError): void;
}

/** Options of `HubClient.subscribe`. */
export interface SubscribeOptions<T = unknown> extends SubscriptionHandlers<T> {
  /** After a reconnect, resume from the last processed message (`since`). Default true. */
  recover?: boolean;
  /** Flow control: receive at most this many messages, then wait for `grant()`. Default: no limit. */
  credit?: number;
  /** Resume from this position on the first subscribe (e.g. one saved by a previous page). */
  since?: StreamPosition;
}

/** What a subscription needs from its client. */
export interface SubscriptionHost {
  /** Sends a frame when connected; false when not. */
  send(frame: string): boolean;
  /** The application unsubscribed; `serverKnows` when `subscribe` was sent on the current connection. */
  release(core: SubscriptionCore, serverKnows: boolean): void;
}

function call<A>(handler: ((arg: A) => void) | undefined, arg: A): void {
  if (handler === undefined) return;
  try {
    handler(arg);
  } catch (error) {
    reportListenerError(error);
  }
}

function checkCredit(credit: unknown, name: string): number {
  if (!Number.isSafeInteger(credit) || (credit as number) < 0) {
    throw new HubError('invalid_argument', `${name} must be an integer >= 0`);
  }
  return credit as number;
}

function checkSince(since: StreamPosition | undefined): StreamPosition | null {
  if (since === undefined) return null;
  const valid =
    typeof since === 'object' &&
    since !== null &&
    Number.isSafeInteger(since.offset) &&
    since.offset >= 0 &&
    typeof since.epoch === 'string';
  if (!valid) throw new HubError('invalid_argument', 'since must be { offset: integer >= 0, epoch: string }');
  return { offset: since.offset, epoch: since.epoch };
}

/** @internal The state machine behind a {@link Subscription}. */
export class SubscriptionCore {
  state: SubscriptionState = 'pending';
  position: StreamPosition | null;
  /** Messages the hub may still send, or null without flow control. */
  credit: number | null;
  readonly handle: Subscription;
  readonly #recover: boolean;
  #everSent = false;
  #sentSince: StreamPosition | null = null;

  constructor(
    readonly topic: string,
    readonly pattern: boolean,
    private readonly handlers: SubscribeOptions<never>,
    private readonly host: SubscriptionHost,
  ) {
    this.#recover = handlers.recover ?? true;
    this.credit = handlers.credit === undefined ? null : checkCredit(handlers.credit, 'credit');
    const since = checkSince(handlers.since);
    // Patterns are live only: the protocol refuses `since` for them.
    this.position = pattern ? null : since;
    this.handle = new Subscription(this);
  }

  /** The `subscribe` frame for a new connection (resuming when allowed); then call {@link sent}. */
  frame(): string {
    return subscribeFrame(this.topic, this.#since(), this.credit);
  }

  /** The frame from {@link frame} went out. */
  sent(): void {
    this.#sentSince = this.#since();
    this.#everSent = true;
    this.state = 'subscribing';
  }

  #since(): StreamPosition | null {
    if (this.position === null || (this.#everSent && !this.#recover)) return null;
    return this.position;
  }

  /** The connection dropped: subscribe again on the next one. */
  reset(): void {
    if (this.state !== 'closed') this.state = 'pending';
  }

  subscribed(message: Extract<ServerMessage, { type: 'subscribed' }>): void {
    if (this.state !== 'subscribing') return;
    this.state = 'active';
    const resumed = this.#sentSince !== null;
    // After a successful resume the recovered messages follow and advance the position themselves.
    if (!this.pattern && !(resumed && message.recovered)) {
      this.position = { offset: message.offset, epoch: message.epoch };
    }
    const { topic, offset, epoch, recovered } = message;
    call(this.handlers.onSubscribed, { topic, offset, epoch, recovered, resumed });
  }

  message(message: Extract<ServerMessage, { type: 'message' }>): void {
    if (this.state !== 'active') return;
    if (this.credit !== null) this.credit = Math.max(0, this.credit - 1);
    const { topic, offset, epoch, pattern } = message;
    if (!this.pattern) {
      const last = this.position;
      // Belt and braces: the hub should never repeat an offset, but an app must never see it twice.
      if (last !== null && last.epoch === epoch && offset <= last.offset) return;
      this.position = { offset, epoch };
    }
    const onMessage = this.handlers.onMessage as ((data: unknown, meta: MessageMeta) => void) | undefined;
    if (onMessage === undefined) return;
    try {
      onMessage(message.data, { topic, offset, epoch, pattern });
    } catch (error) {
      reportListenerError(error);
    }
  }

  presence(event: PresenceEvent, joined: boolean): void {
    if (this.state === 'active') call(joined ? this.handlers.onJoin : this.handlers.onLeave, event);
  }

  /** The hub ended the subscription. */
  revoked(): void {
    this.state = 'closed';
    call(this.handlers.onUnsubscribed, this.topic);
  }

  /** The hub refused the subscription. */
  failed(error: HubError): void {
    this.state = 'closed';
    call(this.handlers.onError, error);
  }

  /** An error about the topic that does not end the subscription. */
  error(error: HubError): void {
    call(this.handlers.onError, error);
  }

  unsubscribe(): void {
    if (this.state === 'closed') return;
    const serverKnows = this.state === 'subscribing' || this.state === 'active';
    this.state = 'closed';
    this.host.release(this, serverKnows);
  }

  grant(credit: number): void {
    if (this.credit === null) throw new HubError('invalid_argument', 'the subscription has no flow control');
    if (checkCredit(credit, 'credit') === 0 || this.state === 'closed') return;
    this.credit += credit;
    if (this.state === 'subscribing' || this.state === 'active')
      this.host.send(creditFrame(this.topic, credit));
  }
}

/** A subscription to a topic or pattern, returned by `HubClient.subscribe`. */
export class Subscription {
  readonly #core: SubscriptionCore;

  /** @internal Made by `HubClient.subscribe`. */
  constructor(core: SubscriptionCore) {
    this.#core = core;
  }

  /** The topic or pattern. */
  get topic(): string {
    return this.#core.topic;
  }

  /** See {@link SubscriptionState}. */
  get state(): SubscriptionState {
    return this.#core.state;
  }

  /**
   * Offset and epoch of the last processed message (or of `subscribed`): where a reconnect resumes.
   * Null before the first `subscribed`, and always for patterns (they are live only).
   */
  get position(): StreamPosition | null {
    const position = this.#core.position;
    return position === null ? null : { offset: position.offset, epoch: position.epoch };
  }

  /** Messages the hub may still send before more credit is granted; null without flow control. */
  get credit(): number | null {
    return this.#core.credit;
  }

  /** Stops receiving the topic (final; subscribe again for a new subscription). */
  unsubscribe(): void {
    this.#core.unsubscribe();
  }

  /**
   * Grants `n` more messages on a flow-controlled subscription (one made with `credit`); throws a
   * HubError `invalid_argument` for a subscription without flow control or an invalid `n`.
   */
  grant(n: number): void {
    this.#core.grant(n);
  }
}
