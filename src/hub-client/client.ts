/**
 * `HubClient`: the application's connection to a Conduit hub. It keeps one session alive (reconnecting
 * with jittered exponential backoff), resubscribes and resumes every subscription after a reconnect,
 * queues publishes while offline, and retries unacknowledged publishes with the same id.
 * @module
 */
import { Backoff } from './backoff.js';
import { Emitter } from './emitter.js';
import { HubError } from './errors.js';
import type { HubClientEvents, HubClientState, PendingPublishes, PublishOptions } from './events.js';
import { type HubClientConfig, type HubClientOptions, resolveHubClientOptions } from './options.js';
import { Outbox, type PublishAck } from './outbox.js';
import { PresenceRequests } from './presence.js';
import { closedError, publishRequest, topicError } from './requests.js';
import { SubscriptionRouter } from './router.js';
import { Session, type SessionRequest, type SessionSink } from './session.js';
import {
  type SubscribeOptions,
  type Subscription,
  SubscriptionCore,
  type SubscriptionHost,
} from './subscription.js';
import { isPattern } from './topics.js';
import { type ParseResult, type PresenceEntry, parseServerMessage, type ServerMessage } from './wire.js';

const POLICY_VIOLATION = 1008;

function socketUrl(url: string | URL): URL {
  const base = (globalThis as { location?: { href: string } }).location?.href;
  const parsed = new URL(String(url), base);
  if (parsed.protocol === 'http:') parsed.protocol = 'ws:';
  else if (parsed.protocol === 'https:') parsed.protocol = 'wss:';
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:')
    throw new SyntaxError(`not a WebSocket URL: ${url}`);
  return parsed;
}

/**
 * A client of a Conduit hub (`conduit.v1`). Runs in browsers and Node (pass `WebSocket` where there is
 * no global one). Events (`on`/`off`/`once`): see {@link HubClientEvents}.
 */
export class HubClient extends Emitter<HubClientEvents> {
  /** The hub's URL (ws: or wss:). */
  readonly url: string;
  readonly #config: HubClientConfig;
  readonly #backoff: Backoff;
  readonly #router: SubscriptionRouter;
  readonly #outbox: Outbox;
  readonly #presence: PresenceRequests;
  readonly #host: SubscriptionHost;
  readonly #sink: SessionSink;
  #state: HubClientState = 'disconnected';
  #session: Session | null = null;
  /** Increments on every attempt and on close: a stale async step compares and stops. */
  #attempt = 0;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #connectTimer: ReturnType<typeof setTimeout> | undefined;
  /** An `error` received before `connected` (why the hub is about to close the session). */
  #setupError: HubError | null = null;
  #clientId = '';
  #user = '';

  /**
   * Creates a client for the hub at `url` (ws:, wss:, or http(s): mapped to ws(s):). It does not connect
   * until {@link connect}. Throws a SyntaxError for a bad URL, a TypeError or RangeError for bad options.
   */
  constructor(url: string | URL, options: HubClientOptions = {}) {
    super();
    this.url = socketUrl(url).href;
    this.#config = resolveHubClientOptions(options);
    this.#backoff = new Backoff(this.#config.reconnect, this.#config.random);
    const send = (frame: string): boolean =>
      this.#state === 'connected' && this.#session?.send(frame) === true;
    this.#router = new SubscriptionRouter(send);
    const { initialDelayMs, maxDelayMs, factor } = this.#config.reconnect;
    this.#outbox = new Outbox({
      send,
      limit: this.#config.offlineQueueLimit,
      ackTimeoutMs: this.#config.ackTimeoutMs,
      retryDelayMs: (retry) => Math.min(maxDelayMs, initialDelayMs * factor ** retry),
    });
    this.#presence = new PresenceRequests(send, this.#config.ackTimeoutMs);
    this.#host = { send, release: (core, serverKnows) => this.#router.release(core, serverKnows) };
    this.#sink = {
      onText: (session, text) => session === this.#session && this.#onParsed(parseServerMessage(text)),
      onBinary: (session) => session === this.#session && this.#invalid('a binary message'),
      onClose: (session, code, reason) => session === this.#session && this.#lost(code, reason),
    };
  }

  /** See {@link HubClientState}. */
  get state(): HubClientState {
    return this.#state;
  }

  /** This connection's id from the last `connected` ('' before the first). */
  get clientId(): string {
    return this.#clientId;
  }

  /** The user id from the last `connected` ('' when anonymous or before the first). */
  get user(): string {
    return this.#user;
  }

  /** Publishes in the offline queue and publishes waiting for their ack. */
  get pendingPublishes(): PendingPublishes {
    return { queued: this.#outbox.queued, unacked: this.#outbox.unacked };
  }

  /** Starts connecting (and reconnecting whenever the connection drops). Does nothing while connecting or connected. */
  connect(): void {
    if (this.#state === 'connecting' || this.#state === 'connected') return;
    clearTimeout(this.#reconnectTimer);
    this.#backoff.reset();
    void this.#open();
  }

  /**
   * Closes the connection and stops reconnecting (state `closed`). Publishes waiting for an ack and
   * presence requests reject with `closed`; the offline queue is dropped. Subscriptions stay registered
   * and resume if `connect()` is called again.
   */
  close(): void {
    if (this.#state === 'closed') return;
    const wasConnected = this.#state === 'connected';
    this.#shutdown(null);
    if (wasConnected)
      this.emit('disconnected', { code: 1000, reason: 'client closed', willReconnect: false });
  }

  /**
   * Subscribes to a topic or pattern (`chat.*`, `sensors.>`). The subscription is sent now when
   * connected, else on connection, and again after every reconnect (resuming when `recover` is on).
   * Throws a HubError `invalid_topic` for a bad topic, `already_subscribed` for a second subscription.
   */
  subscribe<T = unknown>(topic: string, options: SubscribeOptions<T> = {}): Subscription {
    const problem = topicError(topic, true);
    if (problem !== null) throw problem;
    if (this.#router.get(topic) !== undefined) {
      throw new HubError('already_subscribed', `already subscribed to ${topic}`, { topic });
    }
    const core = new SubscriptionCore(
      topic,
      isPattern(topic),
      options as SubscribeOptions<never>,
      this.#host,
    );
    this.#router.add(core);
    return core.handle;
  }

  /**
   * Publishes `data` (any JSON value) to `topic`. Without `ack` it resolves once sent or queued (at most
   * once: a message on a socket that then drops is lost). With `ack: true` it resolves with the stored
   * position once the hub acknowledges, and is retried with the same id after a reconnect, so the hub
   * stores it once. Rejects with a HubError: `invalid_topic`, `invalid_argument` (data not JSON),
   * `queue_full`, `ack_timeout`, `closed`, or the hub's code (`forbidden`, `limit_exceeded`...).
   */
  publish(
    topic: string,
    data: unknown,
    options: PublishOptions & ({ ack: true } | { id: string | number }),
  ): Promise<PublishAck>;
  publish(topic: string, data: unknown, options?: PublishOptions): Promise<PublishAck | undefined>;
  publish(topic: string, data: unknown, options: PublishOptions = {}): Promise<PublishAck | undefined> {
    const request = this.#state === 'closed' ? closedError(topic) : publishRequest(topic, data, options);
    return request instanceof HubError ? Promise.reject(request) : this.#outbox.publish(request);
  }

  /**
   * Who is present in `topic`. Waits for a connection when needed; rejects with a HubError `timeout`
   * after `ackTimeoutMs`, `closed`, or the hub's code (`forbidden`...).
   */
  presence(topic: string): Promise<PresenceEntry[]> {
    const problem = this.#state === 'closed' ? closedError(topic) : topicError(topic, false);
    return problem === null ? this.#presence.request(topic) : Promise.reject(problem);
  }

  // --- connection lifecycle ------------------------------------------------------------------------

  #setState(state: HubClientState): void {
    const previous = this.#state;
    if (previous === state) return;
    this.#state = state;
    this.emit('state', { state, previous });
  }

  async #open(): Promise<void> {
    const attempt = ++this.#attempt;
    this.#setState('connecting');
    this.#setupError = null;
    // The timer covers the token function too: a hanging token source must not stall the client.
    this.#connectTimer = setTimeout(() => this.#connectTimedOut(attempt), this.#config.connectTimeoutMs);
    let token: string | undefined;
    try {
      token = await this.#token();
    } catch (error) {
      if (attempt !== this.#attempt) return;
      this.emit('error', new HubError('token_failed', 'the token function failed', { cause: error }));
      this.#lost(1006, 'no token');
      return;
    }
    if (attempt !== this.#attempt) return;
    try {
      this.#session = new Session(this.#config.WebSocket, this.#sessionRequest(token), this.#sink);
    } catch (error) {
      this.#shutdown(new HubError('invalid_argument', 'the WebSocket constructor threw', { cause: error }));
    }
  }

  async #token(): Promise<string | undefined> {
    const source = this.#config.token;
    const token = typeof source === 'function' ? await source() : source;
    if (token !== undefined && typeof token !== 'string')
      throw new TypeError('the token function returned a non-string');
    return token;
  }

  #sessionRequest(token: string | undefined): SessionRequest {
    const { tokenIn, protocols, sessionKey } = this.#config;
    const url = new URL(this.url);
    if (sessionKey !== null && !url.searchParams.has('session')) url.searchParams.set('session', sessionKey);
    const inQuery = token !== undefined && tokenIn === 'query';
    if (inQuery) url.searchParams.set('token', token);
    return { url: url.href, protocols, authToken: inQuery ? undefined : token };
  }

  #connectTimedOut(attempt: number): void {
    if (attempt !== this.#attempt || this.#state !== 'connecting') return;
    const message = `not connected within ${this.#config.connectTimeoutMs} ms`;
    this.emit('error', new HubError('connect_timeout', message));
    this.#session?.abandon(1000, 'connect timeout');
    this.#lost(1006, 'connect timeout');
  }

  /** The session ended (or an attempt failed): reconnect after a delay, or give up. */
  #lost(code: number, reason: string): void {
    clearTimeout(this.#connectTimer);
    this.#attempt++;
    this.#session = null;
    const wasConnected = this.#state === 'connected';
    this.#router.disconnected();
    this.#outbox.disconnected();
    this.#presence.disconnected();
    const fatal = code === POLICY_VIOLATION ? this.#policyError(reason) : null;
    const delayMs = fatal === null ? this.#backoff.next() : null;
    if (delayMs === null) {
      if (wasConnected) this.emit('disconnected', { code, reason, willReconnect: false });
      this.#shutdown(
        fatal ?? new HubError('retries_exhausted', `gave up after ${this.#backoff.failures} failed attempts`),
      );
      return;
    }
    this.#setState('disconnected');
    if (wasConnected) this.emit('disconnected', { code, reason, willReconnect: true });
    if (this.#setupError !== null) this.emit('error', this.#setupError);
    this.#reconnectTimer = setTimeout(() => void this.#open(), delayMs);
    this.emit('reconnecting', { attempt: this.#backoff.failures, delayMs });
  }

  #policyError(reason: string): HubError {
    const setup = this.#setupError;
    const text = `the hub closed the connection with 1008${reason === '' ? '' : `: ${reason}`}`;
    return setup === null
      ? new HubError('policy_violation', text)
      : new HubError(setup.code, `${setup.message} (${text})`, { cause: setup });
  }

  /** Stops for good: `error` is why (null for `close()`). */
  #shutdown(error: HubError | null): void {
    this.#attempt++;
    clearTimeout(this.#reconnectTimer);
    clearTimeout(this.#connectTimer);
    const session = this.#session;
    this.#session = null;
    session?.abandon(1000, 'client closed');
    this.#router.disconnected();
    const closed =
      error === null
        ? new HubError('closed', 'the client was closed')
        : new HubError('closed', `the client gave up: ${error.message}`, { cause: error });
    this.#outbox.clear(closed);
    this.#presence.clear(closed);
    this.#setState('closed');
    if (error !== null) this.emit('error', error);
  }

  // --- messages from the hub -----------------------------------------------------------------------

  #onParsed(result: ParseResult): void {
    if (result.kind === 'invalid') this.#invalid(result.reason);
    else if (result.kind === 'message') this.#dispatch(result.message);
    // Unknown types come from a newer hub: ignoring them keeps this client compatible.
  }

  #invalid(what: string): void {
    this.emit('error', new HubError('bad_message', `the hub sent ${what}; ignored`));
  }

  #dispatch(message: ServerMessage): void {
    switch (message.type) {
      case 'connected':
        this.#onConnected(message.client, message.user);
        break;
      case 'subscribed':
        this.#router.subscribed(message);
        break;
      case 'unsubscribed':
        this.#router.unsubscribed(message);
        break;
      case 'message':
        this.#router.message(message);
        break;
      case 'join':
      case 'leave':
        this.#router.presence(message);
        break;
      case 'ack':
        this.#outbox.acked(message.id, message);
        break;
      case 'presence':
        this.#presence.answered(message.topic, message.clients);
        break;
      default:
        this.#onError(new HubError(message.code, message.message, { id: message.id, topic: message.topic }));
    }
  }

  #onConnected(client: string, user: string): void {
    if (this.#state !== 'connecting') return;
    clearTimeout(this.#connectTimer);
    this.#backoff.reset();
    this.#setupError = null;
    this.#clientId = client;
    this.#user = user;
    this.#setState('connected');
    // Subscriptions first, so that queued publishes to a subscribed topic come back to this client too.
    this.#router.connected();
    this.#outbox.connected();
    this.#presence.connected();
    this.emit('connected', { client, user });
  }

  #onError(error: HubError): void {
    if (this.#state === 'connecting') {
      this.#setupError = error;
      return;
    }
    if (error.id !== undefined) {
      if (!this.#outbox.refused(error)) this.emit('error', error);
      return;
    }
    if (this.#router.refusal(error) || this.#presence.refused(error) || this.#router.topicError(error))
      return;
    this.emit('error', error);
  }
}
