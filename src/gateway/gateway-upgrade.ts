/**
 * The WebSocket side of the gateway: the upgrade hook (route, middleware, per-IP slot, backend
 * choice and dial) and the 'connection' step (start relaying, count, log at the end). The backend is
 * counted (`acquire`) from the moment it is picked until the client's socket closes, so that
 * least-connections sees upgrades in flight; each attempt reports to passive health.
 * @module
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from '../observability/logger.js';
import type { WebSocketConnection } from '../server/connection.js';
import type { UpgradeHook, UpgradeRejection } from '../server/options.js';
import type { UpgradeRequest } from '../server/upgrade-request.js';
import type { Backend } from './backend.js';
import type { BackendConfig } from './config/types.js';
import { type AccessContext, logAccess } from './gateway-access-log.js';
import type { GatewayMetrics } from './gateway-metrics.js';
import { NO_ROUTE } from './gateway-metrics.js';
import { type IpConnectionCounts, runRouteHook } from './gateway-middleware.js';
import { matchRoute, type RouteRuntime, type RuntimeSnapshot } from './gateway-runtime.js';
import type { UpstreamError } from './proxy/errors.js';
import { isProxiedUpgrade, type PickBackend, proxyUpgrade } from './proxy/proxy-upgrade.js';
import type { ProxySessions } from './proxy/session.js';
import type { ProxyStats } from './proxy/stats.js';
import type { Upstream } from './upstream.js';

/** What the upgrade flow works with. */
export interface UpgradeDeps {
  readonly metrics: GatewayMetrics;
  readonly ipCounts: IpConnectionCounts;
  readonly sessions: ProxySessions;
  /** Where access log lines go; null: none. */
  readonly accessLog: Logger | null;
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
    let verdict: UpgradeRejection | undefined;
    let connected = false;
    try {
      verdict = await proxyUpgrade(request, config, picker.pick, {
        upstream: route.upstream.config,
        dialer: route.dialer,
        onAttempt: picker.onAttempt,
      });
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
    // Whatever happens next (accepted, or the client gone before its 101), the slot ends with the socket.
    request.socket.once('close', release);
    this.accepted.set(request, { route, backend: held.backend, release });
    return undefined;
  }
}
