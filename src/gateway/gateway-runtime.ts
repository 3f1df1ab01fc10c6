/**
 * One loaded configuration at runtime: its router, its upstreams (with their backends and health
 * checkers) and, per route, the middleware chain and the dialer, all built once per load. A snapshot
 * is immutable; a reload builds the next one, reusing the backends of the previous one, and swaps it
 * in. Connections keep the objects of the snapshot that accepted them.
 *
 * Building happens in two steps. {@link prepareConfig} does everything that may fail (reading
 * certificates, compiling middleware) without touching the running gateway; {@link buildSnapshot}
 * then takes over the backends of the previous snapshot and cannot fail.
 * @module
 */
import type { WebSocketTlsOptions } from '../client/options.js';
import type { UpgradeHook } from '../server/options.js';
import { type ConfigIssue, GatewayConfigError } from './config/issues.js';
import type { GatewayConfig, RouteConfig } from './config/types.js';
import { routeHook } from './gateway-middleware.js';
import { loadTlsMaterial, type TlsMaterial } from './gateway-tls.js';
import type { RouteTraffic, TrafficTable } from './gateway-traffic.js';
import type { HealthCheckerOptions } from './health.js';
import { UpstreamDialer } from './proxy/upstream-dial.js';
import { type RouteRequest, Router } from './router.js';
import { buildUpstreams, type Upstream } from './upstream.js';

/** A route with everything its connections need. */
export interface RouteRuntime {
  readonly config: RouteConfig;
  /** The upstream of its WebSocket connections. */
  readonly upstream: Upstream;
  /** The upstream of its plain HTTP requests (`http: { proxy }`), else null. */
  readonly httpUpstream: Upstream | null;
  /** Its middleware chain; null when it has none. */
  readonly hook: UpgradeHook | null;
  readonly dialer: UpstreamDialer;
  readonly traffic: RouteTraffic;
}

/** What {@link prepareConfig} builds: the parts of a snapshot that may fail. */
export interface PreparedConfig {
  readonly config: GatewayConfig;
  /** TLS of each listener, by index (null: plain ws). */
  readonly tls: readonly (TlsMaterial | null)[];
  readonly parts: ReadonlyMap<RouteConfig, { hook: UpgradeHook | null; dialer: UpstreamDialer }>;
}

/** A configuration in force. */
export interface RuntimeSnapshot {
  readonly config: GatewayConfig;
  readonly router: Router;
  readonly routes: ReadonlyMap<RouteConfig, RouteRuntime>;
  readonly upstreams: ReadonlyMap<string, Upstream>;
  /** When it was loaded. */
  readonly loadedAt: Date;
}

/** Options of {@link prepareConfig}. */
export interface PrepareOptions {
  /** TLS settings for dialing wss:// backends (a private CA...). */
  upstreamTls?: WebSocketTlsOptions | undefined;
}

/** The dialer of a route: its limits, compression and heartbeat towards its upstream's backends. */
function dialerOf(route: RouteConfig, config: GatewayConfig, options: PrepareOptions): UpstreamDialer {
  const upstream = config.upstreams.get(route.upstream)!;
  const tunnel = route.mode === 'tunnel';
  return new UpstreamDialer({
    connectTimeoutMs: upstream.connectTimeoutMs,
    // A tunnel passes bytes untouched, so neither side may negotiate an extension.
    compression: tunnel ? 'off' : route.policies.compression,
    maxMessageBytes: route.policies.maxMessageBytes,
    pingIntervalMs: tunnel ? 0 : route.policies.pingIntervalMs,
    ...(options.upstreamTls === undefined ? {} : { tls: options.upstreamTls }),
  });
}

/** Builds what may fail of `config`; throws a {@link GatewayConfigError} listing every problem. */
export function prepareConfig(
  config: GatewayConfig,
  source: string,
  options: PrepareOptions = {},
): PreparedConfig {
  const issues: ConfigIssue[] = [];
  const tls = config.listen.map((listener, index) =>
    listener.tls === null ? null : loadTlsMaterial(listener.tls, `listen[${index}]`, issues),
  );
  const parts = new Map<RouteConfig, { hook: UpgradeHook | null; dialer: UpstreamDialer }>();
  config.routes.forEach((route, index) => {
    try {
      parts.set(route, { hook: routeHook(route.middleware), dialer: dialerOf(route, config, options) });
    } catch (error) {
      issues.push({ path: `routes[${index}]`, expected: 'a usable route', found: (error as Error).message });
    }
  });
  if (issues.length > 0) throw new GatewayConfigError(source, issues);
  return { config, tls, parts };
}

/**
 * The snapshot of `prepared`, taking over the backends of `previous` (same upstream name and URL). Its
 * upstreams' health checks are not started: the caller starts them when it swaps the snapshot in.
 */
export function buildSnapshot(
  prepared: PreparedConfig,
  previous: RuntimeSnapshot | null,
  traffic: TrafficTable,
  health: HealthCheckerOptions = {},
): RuntimeSnapshot {
  const { config } = prepared;
  const upstreams = buildUpstreams(config.upstreams, previous?.upstreams, health);
  const routes = new Map<RouteConfig, RouteRuntime>();
  for (const route of config.routes) {
    const part = prepared.parts.get(route)!;
    const httpUpstream = route.http.kind === 'proxy' ? (upstreams.get(route.http.upstream) ?? null) : null;
    routes.set(route, {
      config: route,
      upstream: upstreams.get(route.upstream)!,
      httpUpstream,
      hook: part.hook,
      dialer: part.dialer,
      traffic: traffic.get(route.name, route.upstream),
    });
  }
  return { config, router: new Router(config.routes), routes, upstreams, loadedAt: new Date() };
}

/** The route taking `request` in `snapshot`, or null. */
export function matchRoute(snapshot: RuntimeSnapshot, request: RouteRequest): RouteRuntime | null {
  const route = snapshot.router.match(request);
  return route === null ? null : (snapshot.routes.get(route) ?? null);
}

/**
 * Settings of the client-facing server for a configuration: messages as large as the largest route
 * allows (each pair enforces its own route's limit), and a handshake deadline long enough for every
 * backend attempt of the slowest upstream.
 */
export function serverLimits(config: GatewayConfig): { maxPayload: number; handshakeTimeout: number } {
  let maxPayload = 1;
  for (const route of config.routes) maxPayload = Math.max(maxPayload, route.policies.maxMessageBytes);
  let dialing = 0;
  for (const upstream of config.upstreams.values())
    dialing = Math.max(dialing, upstream.connectTimeoutMs * upstream.maxAttempts);
  return { maxPayload, handshakeTimeout: Math.max(10_000, dialing + 5000) };
}
