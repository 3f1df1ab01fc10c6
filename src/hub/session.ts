/**
 * The hub side of one connection: its identity, its subscriptions, and the delivery path to its socket
 * with the queue limit and the slow-consumer policies.
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '../observability/logger.js';
import { PreparedMessage } from '../protocol/prepared-message.js';
import type { WebSocketConnection } from '../server/connection.js';
import type { HubError } from './errors.js';
import type { HubStats } from './hub-stats.js';
import { Outbox, type QueuedMessage } from './outbox.js';
import { compilePermissions, type TopicPermissions } from './permissions.js';
import type { SessionInfo } from './session-info.js';
import type { Subscription } from './subscription.js';
import { encodeControl } from './wire.js';

/** Close code for a subscriber that cannot keep up under the `disconnect` policy (RFC 6455 §7.4.1: try again later). */
const CLOSE_SLOW_CONSUMER = 1013;

/** Who a session is, decided at the upgrade or by the first-message `auth`. */
export interface SessionIdentity {
  user: string;
  tenant: string;
  claims: unknown;
  info: unknown;
  /** Topic permissions from the token, when its permissions claim is configured. */
  permissions?: readonly string[] | null;
}

/** The W3C trace id of a `traceparent` header value, or a new random one. */
export function traceIdOf(traceparent: string | undefined): string {
  const match =
    traceparent === undefined ? null : /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/.exec(traceparent);
  return match?.[1] ?? randomBytes(16).toString('hex');
}

/** One hub connection. */
export class Session implements SessionInfo {
  readonly client: string;
  user = '';
  tenant = '';
  claims: unknown = null;
  info: unknown = null;
  /** What the token allows, or null when it carries no permissions (the ACL hooks decide alone). */
  permissions: TopicPermissions | null = null;
  readonly remoteAddress: string;
  readonly traceId: string;
  /** Key under which this session's publish ids are remembered (survives reconnects when the client sends one). */
  readonly sessionKey: string;
  authenticated = false;
  /** Subscriptions by the topic (or pattern) the client named. */
  readonly subscriptions = new Map<string, Subscription>();
  /** Messages not yet handed to the socket, in order. */
  private readonly outbox = new Outbox();
  /** Messages held for flow-controlled subscriptions without credit. */
  private readonly held = new Map<Subscription, Outbox>();
  /** Bytes in the outbox and every held queue: what `maxQueueBytes` bounds. */
  private queuedBytes = 0;
  /** The socket is above its high water mark: new messages queue until 'drain'. */
  private blocked = false;
  closed = false;
  private logger: Logger | null = null;

  constructor(
    readonly connection: WebSocketConnection,
    private readonly stats: HubStats,
    private readonly maxQueueBytes: number,
    private readonly rootLogger: Logger | null,
    traceparent: string | undefined,
    sessionKey: string | null,
  ) {
    this.client = connection.connectionId;
    this.remoteAddress = connection.remoteAddress;
    this.traceId = traceIdOf(traceparent);
    this.sessionKey = sessionKey ?? this.client;
    connection.on('drain', () => this.flush());
  }

  /** Sets who the session belongs to (once). */
  identify(identity: SessionIdentity): void {
    this.user = identity.user;
    this.tenant = identity.tenant;
    this.claims = identity.claims;
    this.info = identity.info;
    this.permissions = identity.permissions ? compilePermissions(identity.permissions) : null;
    this.authenticated = true;
    this.logger = null;
  }

  /** The session's logger: every line carries connection, user, tenant and trace ids. */
  get log(): Logger | null {
    if (this.rootLogger === null) return null;
    this.logger ??= this.rootLogger.child({
      connId: this.client,
      userId: this.user,
      tenantId: this.tenant,
      traceId: this.traceId,
    });
    return this.logger;
  }

  /** Sends a control message (subscribed, ack, presence, error…) at once: small, rare, never dropped. */
  sendControl(message: { type: string } & Record<string, unknown>): void {
    if (this.closed) return;
    if (!this.connection.send(encodeControl(message))) this.blocked = true;
  }

  /** Reports a failed request. */
  sendError(error: HubError): void {
    this.stats.errors++;
    const message: { type: string } & Record<string, unknown> = {
      type: 'error',
      code: error.code,
      message: error.message,
    };
    if (error.id !== null) message.id = error.id;
    if (error.topic !== null) message.topic = error.topic;
    this.sendControl(message);
  }

  /** Sends a message of `subscription` that was built for this session alone (recovered history). */
  deliverOwn(subscription: Subscription, text: string): void {
    const message = new PreparedMessage(text);
    this.deliver(subscription, message, message.payload.length);
  }

  /**
   * Delivers one message of `subscription`, shared with other subscribers: at once when the socket has
   * room, else through the queue, within the queue limit and per the topic's slow-consumer policy.
   */
  deliver(subscription: Subscription, message: PreparedMessage, size: number): void {
    if (this.closed) return;
    if (subscription.flowControlled) {
      if (subscription.credit <= 0) {
        this.enqueue(subscription, { message, size }, this.heldQueue(subscription));
        return;
      }
      subscription.credit--;
    }
    if (!this.blocked && this.outbox.length === 0) {
      this.stats.deliveries++;
      if (!this.connection.sendPrepared(message)) this.blocked = true;
      return;
    }
    this.enqueue(subscription, { message, size }, this.outbox);
  }

  /** Adds credit to a flow-controlled subscription and releases what it held. */
  grant(subscription: Subscription, credit: number): void {
    subscription.credit = Math.min(subscription.credit + credit, Number.MAX_SAFE_INTEGER);
    const queue = this.held.get(subscription);
    if (queue === undefined) return;
    while (subscription.credit > 0 && queue.length > 0) {
      const item = queue.shift()!;
      this.queuedBytes -= item.size;
      this.deliver(subscription, item.message, item.size);
    }
    if (queue.length === 0) this.held.delete(subscription);
  }

  /** Forgets what a subscription held (it ended). */
  release(subscription: Subscription): void {
    const queue = this.held.get(subscription);
    if (queue === undefined) return;
    this.queuedBytes -= queue.bytes;
    this.held.delete(subscription);
  }

  /** Ends the session's delivery state (the connection closed). */
  dispose(): void {
    this.closed = true;
    this.outbox.clear();
    this.held.clear();
    this.queuedBytes = 0;
  }

  /** Bytes queued, for metrics. */
  get queued(): number {
    return this.queuedBytes;
  }

  private heldQueue(subscription: Subscription): Outbox {
    let queue = this.held.get(subscription);
    if (queue === undefined) {
      queue = new Outbox();
      this.held.set(subscription, queue);
    }
    return queue;
  }

  private enqueue(subscription: Subscription, item: QueuedMessage, queue: Outbox): void {
    if (this.queuedBytes + item.size > this.maxQueueBytes && !this.makeRoom(subscription, item, queue))
      return;
    queue.push(item);
    this.queuedBytes += item.size;
  }

  /** Applies the slow-consumer policy; true when `item` may now be queued. */
  private makeRoom(subscription: Subscription, item: QueuedMessage, queue: Outbox): boolean {
    switch (subscription.policy.slowConsumer) {
      case 'disconnect':
        this.stats.slowDisconnects++;
        this.log?.warn(
          { queuedBytes: this.queuedBytes, topic: subscription.topic },
          'slow consumer: connection closed',
        );
        this.connection.close(CLOSE_SLOW_CONSUMER, 'slow consumer');
        this.dispose();
        return false;
      case 'drop-newest':
        this.stats.dropped++;
        return false;
      default:
        while (queue.length > 0 && this.queuedBytes + item.size > this.maxQueueBytes) {
          this.queuedBytes -= queue.shift()!.size;
          this.stats.dropped++;
        }
        if (this.queuedBytes + item.size <= this.maxQueueBytes) return true;
        this.stats.dropped++;
        return false;
    }
  }

  /** Hands queued messages to the socket until it is above its high water mark again. */
  private flush(): void {
    this.blocked = false;
    while (!this.blocked && this.outbox.length > 0) {
      const item = this.outbox.shift()!;
      this.queuedBytes -= item.size;
      this.stats.deliveries++;
      if (!this.connection.sendPrepared(item.message)) this.blocked = true;
    }
  }
}
