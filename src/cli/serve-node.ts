/**
 * One serving node of `conduit serve` (the whole process, or one cluster worker): an `http.Server` with the
 * hub on `/hub`, an echo endpoint on `/echo` and the plain routes of {@link ROUTES}, all on one port.
 * @module
 */
import type { Buffer } from 'node:buffer';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Engine } from '../engines/engine.js';
import { RedisEngine } from '../engines/redis-engine.js';
import { Hub } from '../hub/hub.js';
import { DEFAULT_TOPIC_POLICY, type HubOptions, type TopicRule } from '../hub/options.js';
import type { Logger } from '../observability/logger.js';
import type { WebSocketConnection } from '../server/connection.js';
import { originAllowList } from '../server/middleware/origin.js';
import { WebSocketServer } from '../server/server.js';
import type { ServeOptions } from './serve-args.js';
import { attachDashboardFeed, DASHBOARD_FEED_PATH } from './serve-dashboard.js';
import { CHAT_TOPIC_RULE } from './serve-demo.js';
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

/** The chat demo's rule first, then one rule for every topic when an option changes the defaults. */
function topicRules(options: ServeOptions): TopicRule[] {
  const history = {
    size: options.historySize ?? DEFAULT_TOPIC_POLICY.history.size,
    ttlMs: options.historyTtlMs ?? DEFAULT_TOPIC_POLICY.history.ttlMs,
  };
  const chat = { ...CHAT_TOPIC_RULE, history };
  if (!options.presence && options.historySize === undefined && options.historyTtlMs === undefined)
    return [chat];
  return [chat, { match: '>', presence: options.presence, history }];
}

function createEngine(setup: ServeNodeSetup): Engine | undefined {
  const { options, logger, registry } = setup;
  if (options.redis.length === 0) return undefined;
  return new RedisEngine({
    urls: options.redis,
    logger,
    registry,
    // A dead node's clients leave within the ttl plus one sweep: keep the sweep well under the ttl.
    presenceSweepIntervalMs: Math.min(2000, Math.max(100, Math.floor(options.presenceTtlMs / 2))),
  });
}

function hubOptions(setup: ServeNodeSetup, engine: Engine | undefined): HubOptions {
  const { options, logger, registry } = setup;
  const hub: HubOptions = {
    topics: topicRules(options),
    presenceTtlMs: options.presenceTtlMs,
    logger,
    metrics: { registry },
  };
  if (engine !== undefined) hub.engine = engine;
  if (options.jwtSecret !== undefined) hub.jwt = { secret: options.jwtSecret };
  else if (options.jwksUrl !== undefined) hub.jwt = { jwksUrl: options.jwksUrl };
  return hub;
}

/** One listener shared by every echo connection: EventEmitter binds `this` to the connection. */
function echoBack(this: WebSocketConnection, data: Buffer, isBinary: boolean): void {
  this.send(data, { binary: isBinary });
}

function attachEndpoints(http: Server, hub: Hub, setup: ServeNodeSetup): WebSocketServer {
  const { options, logger, registry } = setup;
  const common = { server: http, logger, metrics: { registry } };
  hub.attach({ ...common, path: HUB_PATH, ...(options.origins ? { origins: options.origins } : {}) });
  const echo = new WebSocketServer({
    ...common,
    path: ECHO_PATH,
    ...(options.origins ? { upgrade: originAllowList(options.origins, { allowMissing: true }) } : {}),
  });
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

function endpointsOf(host: string, port: number): Endpoint[] {
  const authority = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const endpoints = [
    { name: 'hub', url: `ws://${authority}${HUB_PATH}` },
    { name: 'echo', url: `ws://${authority}${ECHO_PATH}` },
  ];
  for (const route of ROUTES) {
    if (route.name !== undefined)
      endpoints.push({ name: route.name, url: `http://${authority}${route.path}` });
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
  const http = createServer(
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
  return { hub, port, endpoints: endpointsOf(setup.options.host, port), close };
}

/** Prints one `name: url` line per endpoint (what scripts and tests read to find a `--port 0` server). */
export function printEndpoints(endpoints: readonly Endpoint[]): void {
  process.stdout.write(endpoints.map(({ name, url }) => `${name}: ${url}\n`).join(''));
}
