/**
 * The WebSocket side of the gateway: the upgrade hook (route, middleware, per-IP slot, backend
 * choice and dial) and the 'connection' step (start relaying, count, log at the end). The backend is
 * counted (`acquire`) from the moment it is picked until the client's socket closes, so that
 * least-connections sees upgrades in flight; each attempt reports to passive health.
 *
 * Over HTTP/2 (RFC 8441) a client's WebSocket is a stream of a session shared with others, so the
 * stream, not the session's socket, is what ends it; and a tunnel cannot splice a stream (the pair of
 * a tunnel route relays frames instead when either side is HTTP/2).
 * @module
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from '../observability/logger.js';
import type { WebSocketConnection } from '../server/connection.js';
import { Http2WebSocketConnection, httpVersionOf } from '../server/http2-connection.js';
import type { Http2UpgradeRequest } from '../server/http2-request.js';
import type { UpgradeHook, UpgradeRejection } from '../server/options.js';
import type { UpgradeRequest } from '../server/upgrade-request.js';
import type { Backend } from './backend.js';
import type { BackendConfig, RouteConfig } from './config/types.js';
import { type AccessContext, logAccess } from './gateway-access-log.js';
import type { GatewayMetrics } from './gateway-metrics.js';
import { NO_ROUTE } from './gateway-metrics.js';
import { type IpConnectionCounts, runRouteHook } from './gateway-middleware.js';
import { matchRoute, type RouteRuntime, type RuntimeSnapshot } from './gateway-runtime.js';
import type { UpstreamError } from './proxy/errors.js';
import {
  isProxiedUpgrade,
  type PickBackend,
  type ProxiedUpgrade,
  proxyUpgrade,
  upstreamUrl,
} from './proxy/proxy-upgrade.js';
import type { ProxySessions } from './proxy/session.js';
import type { ProxyStats } from './proxy/stats.js';
import { countStreamBytes, UpstreamUrl } from './proxy/upstream-http2.js';
import type { Upstream } from './upstream.js';

/** What the upgrade flow works with. */
export interface UpgradeDeps {
  readonly metrics: GatewayMetrics;
  readonly ipCounts: IpConnectionCounts;
  readonly sessions: ProxySessions;
  /** Where access log lines go; null: none. */
  readonly accessLog: Logger | null;
  /** The gateway's own log (debug lines about negotiation); null: none. */
  readonly logger: Logger | null;
  /** True once the gateway drains: upgrades are refused, late connections closed. */
  draining(): boolean;
}

/** An upgrade the hook accepted, waiting for its 'connection'. */
interface Accepted {
  readonly route: RouteRuntime;
  readonly backend: Backend;
  /** Frees the backend count and the per-IP slot (idempotent). */
  readonly release: () => void;
}

/** True when a failed attempt says something about the backend's health (not a 4xx answer). */
function isBackendFault(error: UpstreamError): boolean {
  if (error.code === 'ERR_UPSTREAM_REQUEST') return false;
  return error.code !== 'ERR_UPSTREAM_STATUS' || error.status >= 500;
}

/** The URL dialled for `backend`, which says whether over HTTP/2 (the backend's `http2`). */
function dialTarget(backend: BackendConfig, request: UpgradeRequest): URL {
  const url = upstreamUrl(backend, request);
  const http2 = backend.http2 ?? false;
  return http2 === false ? url : new UpstreamUrl(url, http2);
}

/** What ends a client's WebSocket before it opens: its HTTP/2 stream, else its socket. */
function closeSource(request: UpgradeRequest): NodeJS.EventEmitter & { destroyed: boolean } {
  return (request as Partial<Http2UpgradeRequest>).stream ?? request.socket;
}

/**
 * The request as the proxy core watches it: for HTTP/2, with the stream in place of the session's socket,
 * which the client's other WebSockets share and which outlives this one.
 */
function watchedRequest(request: UpgradeRequest): UpgradeRequest {
  const stream = (request as Partial<Http2UpgradeRequest>).stream;
  if (stream === undefined) return request;
  return { ...request, socket: stream as unknown as UpgradeRequest['socket'] };
}

const framesRoutes = new WeakMap<RouteConfig, RouteConfig>();

/** `route` relaying frames: a tunnel route whose client or backend side is an HTTP/2 stream. */
function framesRoute(route: RouteConfig): RouteConfig {
  let frames = framesRoutes.get(route);
  if (frames === undefined) {
    frames = { ...route, mode: 'frames' };
    framesRoutes.set(route, frames);
  }
  return frames;
}

/**
 * A tunnel splices two sockets byte for byte; an HTTP/2 side is a stream of a shared session, so such a
 * connection is relayed frame by frame (same bytes on the wire, minus the tunnel's zero-copy).
 */
function withSpliceableRoute(connection: WebSocketConnection, proxied: ProxiedUpgrade): void {
  if (proxied.route.mode !== 'tunnel') return;
  if (httpVersionOf(connection) === '1.1' && proxied.upstream.httpVersion === '1.1') return;
  connection.data = { ...proxied, route: framesRoute(proxied.route) };
}

/**
 * An HTTP/2 client's `socket` is its session's (shared, and unreadable once the session is gone); the
 * proxy reads a connection's byte counters from `socket`, possibly after the session ended, so for the
 * gateway the connection's socket is its stream, with counters of its own.
 */
function withStreamSocket(connection: WebSocketConnection): void {
  if (!(connection instanceof Http2WebSocketConnection)) return;
  countStreamBytes(connection.stream);
  Object.defineProperty(connection, 'socket', { value: connection.stream, configurable: true });
}

/** Calls `fn` once, however often the result is called. */
function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}

/** Bridges the proxy core's `PickBackend` (on configs) to an upstream's balancer (on Backends). */
class BackendPicker {
  /** The backend of the attempt in progress (or that succeeded), with its counter release. */
  held: { backend: Backend; release: () => void } | null = null;

  constructor(
    private readonly upstream: Upstream,
    private readonly request: UpgradeRequest,
  ) {}

  readonly pick: PickBackend = (tried: ReadonlySet<BackendConfig>) => {
    const exclude = new Set<Backend>();
    for (const config of tried) {
      const backend = this.upstream.backend(config.url.href);
      if (backend !== undefined) exclude.add(backend);
    }
    const backend = this.upstream.pick(this.request, exclude);
    this.releaseHeld();
    if (backend === null) return null;
    this.held = { backend, release: backend.acquire() };
    return backend.config;
  };

  readonly onAttempt = (config: BackendConfig, error: UpstreamError | null): void => {
    const backend = this.upstream.backend(config.url.href);
    if (error === null) {
      backend?.reportSuccess();
      return;
    }
    if (isBackendFault(error)) backend?.reportFailure();
    if (this.held?.backend === backend) this.releaseHeld();
  };

  releaseHeld(): void {
    this.held?.release();
    this.held = null;
  }
}

/** The upgrade hook and connection handler of a gateway. */
export class UpgradeFlow {
  private readonly accepted = new WeakMap<UpgradeRequest, Accepted>();

  constructor(private readonly deps: UpgradeDeps) {}

  /** The `upgrade` hook of the client-facing server of `snapshot`. */
  hook(snapshot: RuntimeSnapshot): UpgradeHook {
    return (request) => this.upgrade(snapshot, request);
  }

  /** The server's 'connection' step: pair the client with the backend the hook connected. */
  readonly onConnection = (connection: WebSocketConnection, request: UpgradeRequest): void => {
    const accepted = this.accepted.get(request);
    const proxied = connection.data;
    if (accepted === undefined || !isProxiedUpgrade(proxied)) {
      connection.close(1011, 'no upstream for this connection');
      return;
    }
    this.accepted.delete(request);
    withSpliceableRoute(connection, proxied);
    withStreamSocket(connection);
    const { route, release } = accepted;
    const traffic = route.traffic;
    this.deps.metrics.upgraded(route.config.name, route.upstream.name, 101);
    const auth = (proxied.data as { auth?: { user?: unknown } } | undefined)?.auth;
    const context: AccessContext = {
      route: route.config.name,
      upstream: route.upstream.name,
      backend: accepted.backend.key,
      clientIp: request.remoteAddress,
      traceId: proxied.trace.traceId,
      user: typeof auth?.user === 'string' ? auth.user : undefined,
      attempts: proxied.attempts,
    };
    traffic.opened();
    const onEnd = (stats: ProxyStats): void => {
      traffic.closed(stats);
      release();
      logAccess(this.deps.accessLog, context, stats);
    };
    const session = this.deps.sessions.start(connection, { validate: traffic.observe, observer: { onEnd } });
    if (session === null) {
      traffic.closed(null);
      release();
      return;
    }
    traffic.started(session.stats);
    // Accepted while the drain began: it gets the same 1001 as the others.
    if (this.deps.draining()) this.deps.sessions.closeAll();
  };

  private async upgrade(
    snapshot: RuntimeSnapshot,
    request: UpgradeRequest,
  ): Promise<UpgradeRejection | undefined> {
    if (this.deps.draining()) return { status: 503, message: 'Gateway shutting down' };
    const route = matchRoute(snapshot, request);
    if (route === null) {
      this.deps.metrics.upgraded(NO_ROUTE, NO_ROUTE, 404);
      return { status: 404, message: 'No route for this request' };
    }
    const started = performance.now();
    const { metrics } = this.deps;
    const names = [route.config.name, route.upstream.name] as const;
    let refusal: UpgradeRejection | undefined;
    try {
      refusal = await this.connect(route, request);
    } catch (error) {
      metrics.upgraded(...names, 500);
      throw error;
    } finally {
      metrics.upgradeTook(...names, (performance.now() - started) / 1000);
    }
    // A 101 is counted by the 'connection' step, once the client really has it.
    if (refusal !== undefined) metrics.upgraded(...names, refusal.status);
    return refusal;
  }

  /** Middleware, per-IP slot, then a backend; leaves an {@link Accepted} for the 'connection' step. */
  private async connect(route: RouteRuntime, request: UpgradeRequest): Promise<UpgradeRejection | undefined> {
    const refusal = await runRouteHook(route.hook, request);
    if (refusal !== null) return refusal;
    const { config } = route;
    const releaseIp = this.deps.ipCounts.acquire(
      config.name,
      request.remoteAddress,
      config.middleware.maxConnectionsPerIp,
    );
    if (releaseIp === null) {
      return {
        status: 429,
        message: 'Too many connections from this address',
        headers: { 'Retry-After': '1' },
      };
    }
    const picker = new BackendPicker(route.upstream, request);
    const watched = watchedRequest(request);
    let verdict: UpgradeRejection | undefined;
    let connected = false;
    try {
      verdict = await proxyUpgrade(watched, config, picker.pick, {
        upstream: route.upstream.config,
        dialer: route.dialer,
        target: dialTarget,
        onAttempt: picker.onAttempt,
        logger: this.deps.logger,
      });
      // proxyUpgrade leaves its result in `data`, which the server reads from the request it has.
      request.data = watched.data;
      connected = verdict === undefined && picker.held !== null;
    } finally {
      if (!connected) {
        picker.releaseHeld();
        releaseIp();
      }
    }
    if (!connected) return verdict ?? { status: 502, message: 'Bad Gateway' };
    const held = picker.held!;
    const release = once(() => {
      held.release();
      releaseIp();
    });
    // Whatever happens next (accepted, or the client gone before its answer), the slot ends with the
    // socket (the stream over HTTP/2).
    const source = closeSource(request);
    if (source.destroyed) release();
    else source.once('close', release);
    this.accepted.set(request, { route, backend: held.backend, release });
    return undefined;
  }
}
