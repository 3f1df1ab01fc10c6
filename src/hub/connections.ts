/**
 * The hub's connections: accepting them, authenticating them (at the upgrade or by a first message),
 * rate-limiting and dispatching their messages, and cleaning up after them.
 * @module
 */
import type { Buffer } from 'node:buffer';
import type { WebSocketConnection } from '../server/connection.js';
import type { AuthInfo } from '../server/middleware/jwt.js';
import { createMessageRateLimiter, type MessageRateLimiter } from '../server/middleware/rate-limit.js';
import type { UpgradeRequest } from '../server/upgrade-request.js';
import { HubError } from './errors.js';
import type { HubContext } from './hub-context.js';
import { endSubscription, handleRequest, toHubError } from './requests.js';
import { Session, type SessionIdentity } from './session.js';
import { type ClientRequest, parseClientMessage } from './wire.js';

/** RFC 6455 §7.4.1: policy violation (bad authentication, rate limit exceeded). */
const CLOSE_POLICY = 1008;
const SESSION_KEY = /^[\w-]{16,64}$/;

/** The `session` query parameter, when well-formed (it scopes anonymous publish ids, see the protocol). */
function sessionKeyOf(url: string): string | null {
  const query = url.indexOf('?');
  if (query === -1) return null;
  const key = new URLSearchParams(url.slice(query + 1)).get('session');
  return key !== null && SESSION_KEY.test(key) ? key : null;
}

/** What the upgrade hooks established: `data.auth` from the JWT middleware, `data.info` for presence. */
function upgradeIdentity(data: unknown): SessionIdentity | null {
  if (typeof data !== 'object' || data === null) return null;
  const { auth, info } = data as { auth?: AuthInfo | null; info?: unknown };
  if (typeof auth !== 'object' || auth === null) return null;
  return {
    user: String(auth.user ?? ''),
    tenant: String(auth.tenant ?? ''),
    claims: auth.claims ?? null,
    permissions: Array.isArray(auth.permissions) ? auth.permissions.map(String) : null,
    // Claims come from the application's hook as well as from the JWT middleware: do not trust their shape.
    info: info ?? (auth.claims as { info?: unknown } | null | undefined)?.info ?? null,
  };
}

function requestTopic(request: ClientRequest): string | null {
  return 'topic' in request ? request.topic : null;
}

/** The set of hub sessions of one node. */
export class HubConnections {
  private readonly sessions = new Set<Session>();

  constructor(private readonly hub: HubContext) {}

  get size(): number {
    return this.sessions.size;
  }

  /** Starts serving an accepted connection. */
  accept(connection: WebSocketConnection, request: UpgradeRequest): void {
    const { config, stats } = this.hub;
    const session = new Session(
      connection,
      stats,
      config.maxQueueBytes,
      config.logger,
      request.headers.traceparent,
      sessionKeyOf(request.url),
    );
    this.sessions.add(session);
    const limiter = this.limiter();
    let authTimer: NodeJS.Timeout | null = null;
    connection.on('message', (data: Buffer, isBinary: boolean) => {
      if (!session.closed) this.onMessage(session, limiter, data, isBinary);
    });
    connection.on('close', () => {
      if (authTimer !== null) clearTimeout(authTimer);
      this.onClose(session);
    });
    const identity = upgradeIdentity(connection.data);
    if (identity !== null) this.ready(session, identity);
    else if (!config.requireAuth) this.ready(session, { user: '', tenant: '', claims: null, info: null });
    else {
      authTimer = setTimeout(() => {
        if (!session.authenticated) this.refuse(session, 'authentication timeout');
      }, config.authTimeoutMs);
      authTimer.unref();
    }
  }

  /** Closes every session (the hub is closing). */
  closeAll(): void {
    for (const session of this.sessions) {
      if (!session.closed) session.connection.close(1001, 'hub closed');
    }
  }

  /** Refreshes the presence entries of this node's sessions before they expire. */
  refreshPresence(): void {
    const { engine, config } = this.hub;
    for (const session of this.sessions) {
      for (const subscription of session.subscriptions.values()) {
        if (!subscription.present) continue;
        const entry = { client: session.client, user: session.user, info: session.info ?? undefined };
        engine.presenceAdd(subscription.engineTopic, entry, config.presenceTtlMs).catch(() => undefined);
      }
    }
  }

  subscriptionCount(): number {
    let count = 0;
    for (const session of this.sessions) count += session.subscriptions.size;
    return count;
  }

  queuedBytes(): number {
    let bytes = 0;
    for (const session of this.sessions) bytes += session.queued;
    return bytes;
  }

  private limiter(): MessageRateLimiter | null {
    const { messagesPerSecond, bytesPerSecond, rateLimitGrace } = this.hub.config;
    if (messagesPerSecond === 0 && bytesPerSecond === 0) return null;
    return createMessageRateLimiter({
      messagesPerSecond: messagesPerSecond === 0 ? Number.MAX_SAFE_INTEGER : messagesPerSecond,
      ...(bytesPerSecond === 0 ? {} : { bytesPerSecond }),
      maxViolations: rateLimitGrace,
    });
  }

  private ready(session: Session, identity: SessionIdentity): void {
    session.identify(identity);
    session.sendControl({ type: 'connected', client: session.client, user: session.user });
    session.log?.debug('hub session ready');
  }

  private refuse(session: Session, message: string): void {
    session.sendError(new HubError('unauthorized', message));
    session.connection.close(CLOSE_POLICY, message.slice(0, 120));
    session.closed = true;
  }

  private onMessage(
    session: Session,
    limiter: MessageRateLimiter | null,
    data: Buffer,
    isBinary: boolean,
  ): void {
    const verdict = limiter === null ? 'ok' : limiter.allow(data.length);
    if (verdict !== 'ok') {
      this.rateLimited(session, verdict === 'exceeded');
      return;
    }
    if (isBinary) {
      session.sendError(new HubError('bad_request', 'binary messages are not part of conduit.v1'));
      return;
    }
    let request: ClientRequest;
    try {
      request = parseClientMessage(data.toString('utf8'));
    } catch (error) {
      session.sendError(toHubError(session, error, null, null));
      return;
    }
    if (!session.authenticated) this.authenticate(session, request);
    else this.dispatch(session, request);
  }

  private dispatch(session: Session, request: ClientRequest): void {
    const fail = (error: unknown): void => {
      if (!session.closed) session.sendError(toHubError(session, error, request.id, requestTopic(request)));
    };
    if (!this.hub.engineStarted) {
      // Requests that arrive while the engine connects wait for it (its failure fails them).
      this.hub.ready().then(() => this.dispatch(session, request), fail);
      return;
    }
    try {
      handleRequest(this.hub, session, request)?.catch(fail);
    } catch (error) {
      fail(error);
    }
  }

  private rateLimited(session: Session, exceeded: boolean): void {
    if (!exceeded) {
      session.sendError(new HubError('rate_limited', 'too many messages: slow down'));
      return;
    }
    this.hub.stats.rateLimitCloses++;
    session.log?.warn('rate limit exceeded: connection closed');
    session.connection.close(CLOSE_POLICY, 'rate limit exceeded');
    session.closed = true;
  }

  private authenticate(session: Session, request: ClientRequest): void {
    const verify = this.hub.config.verifyToken;
    if (request.type !== 'auth' || verify === null) {
      this.refuse(session, 'authentication required');
      return;
    }
    verify(request.token).then(
      (auth) => {
        if (session.closed) return;
        const claims = auth.claims ?? null;
        const info = (claims as { info?: unknown } | null)?.info ?? null;
        this.ready(session, {
          user: auth.user,
          tenant: auth.tenant ?? '',
          claims,
          info,
          permissions: auth.permissions ?? null,
        });
      },
      (error: unknown) => {
        session.log?.info({ err: error }, 'first-message authentication failed');
        this.refuse(session, error instanceof Error ? error.message : 'invalid token');
      },
    );
  }

  private onClose(session: Session): void {
    this.sessions.delete(session);
    for (const subscription of [...session.subscriptions.values()]) endSubscription(this.hub, subscription);
    session.dispose();
  }
}
