/**
 * One serving node of `conduit serve` (the whole process, or one cluster worker): an `http.Server` (or an
 * https one with `listen.tls`) with the hub on `/hub`, an echo endpoint on `/echo` and the plain routes of
 * {@link ROUTES}, all on one port.
 * @module
 */
import type { Buffer } from 'node:buffer';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Engine } from '../engines/engine.js';
import { RedisEngine } from '../engines/redis-engine.js';
import { Hub } from '../hub/hub.js';
import type { HubOptions } from '../hub/options.js';
import type { Logger } from '../observability/logger.js';
import type { WebSocketConnection } from '../server/connection.js';
import { composeUpgradeHooks } from '../server/middleware/compose.js';
import { originAllowList } from '../server/middleware/origin.js';
import { upgradeRateLimit } from '../server/middleware/rate-limit.js';
import type { UpgradeHook } from '../server/options.js';
import { WebSocketServer } from '../server/server.js';
import type { ServeOptions } from './serve-args.js';
import {
  createServeHttpServer,
  serveHubOptions,
  serveRedisOptions,
  serveSchemes,
} from './serve-config-apply.js';
import { attachDashboardFeed, DASHBOARD_FEED_PATH } from './serve-dashboard.js';
import type { MetricsText } from './serve-metrics.js';
import { createRequestListener, ROUTES, type ServeContext } from './serve-routes.js';

/** The WebSocket endpoints, as printed at start. */
const HUB_PATH = '/hub';
const ECHO_PATH = '/echo';

/** What a node is built from. */
export interface ServeNodeSetup {
  options: ServeOptions;
  logger: Logger;
  /** Where the server, hub and engine metrics go. */
  registry: Registry;
  /** How `/metrics` reads them (this process, or every worker). */
  metrics: () => Promise<MetricsText>;
  /** Listen on this port instead of `options.port` (a restarted worker reuses the cluster's port). */
  port?: number;
}

/** One endpoint, as printed at start: `name: url`. */
export interface Endpoint {
  name: string;
  url: string;
}

/** A running node. */
export interface ServeNode {
  readonly hub: Hub;
  /** The bound port (the real one when 0 was asked for). */
  readonly port: number;
  readonly endpoints: Endpoint[];
  /** Stops accepting, closes every connection with 1001, then the engine. */
  close(): Promise<void>;
}

function createEngine(setup: ServeNodeSetup): Engine | undefined {
  const { options, logger, registry } = setup;
  const redis = serveRedisOptions(options);
  return redis === undefined ? undefined : new RedisEngine({ ...redis, logger, registry });
}

function hubOptions(setup: ServeNodeSetup, engine: Engine | undefined): HubOptions {
  const { options, logger, registry } = setup;
  const hub: HubOptions = { ...serveHubOptions(options), logger, metrics: { registry } };
  if (engine !== undefined) hub.engine = engine;
  return hub;
}

/** One listener shared by every echo connection: EventEmitter binds `this` to the connection. */
function echoBack(this: WebSocketConnection, data: Buffer, isBinary: boolean): void {
  this.send(data, { binary: isBinary });
}

/** The echo endpoint's upgrade checks: the same origins and upgrade rate as the hub's (its own buckets). */
function echoUpgrade(options: ServeOptions): UpgradeHook | undefined {
  const hooks: UpgradeHook[] = [];
  if (options.origins) hooks.push(originAllowList(options.origins, { allowMissing: true }));
  if (options.upgradeRateLimit) hooks.push(upgradeRateLimit(options.upgradeRateLimit));
  return hooks.length === 0 ? undefined : composeUpgradeHooks(...hooks);
}

function attachEndpoints(http: Server, hub: Hub, setup: ServeNodeSetup): WebSocketServer {
  const { options, logger, registry } = setup;
  const common = { server: http, logger, metrics: { registry } };
  hub.attach({
    ...common,
    path: HUB_PATH,
    ...(options.origins ? { origins: options.origins } : {}),
    ...(options.upgradeRateLimit ? { upgradeRateLimit: options.upgradeRateLimit } : {}),
  });
  const upgrade = echoUpgrade(options);
  const echo = new WebSocketServer({ ...common, path: ECHO_PATH, ...(upgrade ? { upgrade } : {}) });
  echo.on('connection', (connection: WebSocketConnection) => connection.on('message', echoBack));
  return echo;
}

function listen(http: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, host, () => {
      http.off('error', reject);
      resolve((http.address() as AddressInfo).port);
    });
  });
}

function endpointsOf(options: ServeOptions, port: number): Endpoint[] {
  const { host } = options;
  const authority = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const { ws, http } = serveSchemes(options);
  const endpoints = [
    { name: 'hub', url: `${ws}://${authority}${HUB_PATH}` },
    { name: 'echo', url: `${ws}://${authority}${ECHO_PATH}` },
  ];
  for (const route of ROUTES) {
    if (route.name !== undefined)
      endpoints.push({ name: route.name, url: `${http}://${authority}${route.path}` });
  }
  return endpoints;
}

function closeServer(server: WebSocketServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

function closeHttp(http: Server): Promise<void> {
  return new Promise((resolve) => {
    http.close(() => resolve());
    // Keep-alive connections waiting for a next request would hold close() open.
    http.closeIdleConnections();
  });
}

/**
 * Starts a node: connects the engine first (a node that cannot reach Redis must not take clients), then
 * listens. Rejects (having released everything) when the engine or the port is unavailable.
 */
export async function startServeNode(setup: ServeNodeSetup): Promise<ServeNode> {
  const engine = createEngine(setup);
  const hub = new Hub(hubOptions(setup, engine));
  try {
    await hub.ready();
  } catch (error) {
    await hub.close();
    throw error;
  }
  const context: ServeContext = { hub, options: setup.options, logger: setup.logger, metrics: setup.metrics };
  const http = createServeHttpServer(
    setup.options,
    createRequestListener(ROUTES, context, [HUB_PATH, ECHO_PATH, DASHBOARD_FEED_PATH]),
  );
  const echo = attachEndpoints(http, hub, setup);
  const feed = attachDashboardFeed(http, { ...setup, hub });
  const close = async (): Promise<void> => {
    await Promise.all([hub.close(), closeServer(echo), feed.close()]);
    await Promise.all([closeHttp(http), engine?.close()]);
  };
  let port: number;
  try {
    port = await listen(http, setup.port ?? setup.options.port, setup.options.host);
  } catch (error) {
    await close();
    throw error;
  }
  return { hub, port, endpoints: endpointsOf(setup.options, port), close };
}

/** Prints one `name: url` line per endpoint (what scripts and tests read to find a `--port 0` server). */
export function printEndpoints(endpoints: readonly Endpoint[]): void {
  process.stdout.write(endpoints.map(({ name, url }) => `${name}: ${url}\n`).join(''));
}
