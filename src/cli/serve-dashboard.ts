/**
 * The live dashboard of `conduit serve`: the page on `/dashboard` and its feed, a WebSocket endpoint on
 * `/dashboard/feed` that sends a JSON {@link DashboardSnapshot} every second to every watcher. Sampling
 * runs only while someone watches; one snapshot is serialized once for all watchers.
 * @module
 */
import type { Server } from 'node:http';
import type { Registry } from 'prom-client';
import type { Hub } from '../hub/hub.js';
import type { Logger } from '../observability/logger.js';
import type { WebSocketConnection } from '../server/connection.js';
import { originAllowList } from '../server/middleware/origin.js';
import type { UpgradeHook } from '../server/options.js';
import { WebSocketServer } from '../server/server.js';
import type { UpgradeRequest } from '../server/upgrade-request.js';
import type { ServeOptions } from './serve-args.js';
import { DashboardSampler } from './serve-dashboard-sampler.js';
import { pageRoute } from './serve-demo.js';
import type { Route } from './serve-routes.js';
import { DASHBOARD_HTML } from './web/dashboard-page.js';

/** The path of the feed. */
export const DASHBOARD_FEED_PATH = '/dashboard/feed';

/** The dashboard page (its stylesheet and modules are served with the demo's, see serve-demo.ts). */
export const DASHBOARD_ROUTES: readonly Route[] = [pageRoute('/dashboard', 'dashboard', DASHBOARD_HTML)];

/** A watcher that has this much unsent is skipped for a snapshot: the next one supersedes it anyway. */
const MAX_BUFFERED_BYTES = 256 * 1024;

/** What the feed reads. */
export interface DashboardFeedSetup {
  hub: Hub;
  registry: Registry;
  options: ServeOptions;
  logger: Logger;
}

/** A running feed. */
export interface DashboardFeed {
  readonly server: WebSocketServer;
  /** Stops sampling and closes every watcher (1001). */
  close(): Promise<void>;
}

/** The `host:port` a request was sent to, as an origin would spell it. */
function hostOf(request: UpgradeRequest): string {
  return (request.headers.host ?? '').toLowerCase();
}

/**
 * Admits browsers of this very server (Origin's host equals Host) and of the `--origin` list; clients
 * without Origin (scripts) may read it as they may read /metrics. The feed lists topic names, so a page
 * of another site must not read it through the visitor's browser (RFC 6455 §10.2).
 */
function sameOrigin(origins: string[] | undefined): UpgradeHook {
  const listed = origins === undefined ? null : originAllowList(origins, { allowMissing: true });
  return (request) => {
    const origin = request.origin;
    if (origin === undefined) return undefined;
    let host: string | null = null;
    try {
      host = new URL(origin).host;
    } catch {
      // Not a URL: refused below unless the list takes it.
    }
    if (host !== null && host === hostOf(request)) return undefined;
    return listed === null ? { status: 403, message: 'foreign origin' } : listed(request);
  };
}

/** Sends one snapshot per interval to the watchers while there are any. */
class Feed {
  private timer: NodeJS.Timeout | null = null;
  private sampling = false;
  /** The last snapshot sent, for a watcher that arrives between two. */
  private last: string | null = null;

  constructor(
    private readonly server: WebSocketServer,
    private readonly sampler: DashboardSampler,
    private readonly logger: Logger,
  ) {}

  watch(connection: WebSocketConnection): void {
    // The feed only talks: what a watcher sends is ignored (and bounded by maxPayload).
    connection.on('close', () => this.unwatched());
    if (this.timer === null) {
      this.sampler.start();
      this.timer = setInterval(() => void this.tick(), this.sampler.intervalMs);
      this.timer.unref();
      // The first watcher gets a first snapshot now rather than an interval later.
      void this.tick();
    } else if (this.last !== null) connection.send(this.last);
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.last = null;
    this.sampler.stop();
  }

  private unwatched(): void {
    if (this.server.clients.size === 0) this.stop();
  }

  private async tick(): Promise<void> {
    // Samples do not overlap: a slow one makes the next one skip rather than queue behind it.
    if (this.sampling) return;
    this.sampling = true;
    try {
      const text = JSON.stringify(await this.sampler.sample());
      if (this.timer === null) return; // everybody left while it was sampled
      this.last = text;
      for (const watcher of this.server.clients) {
        if (watcher.readyState === 1 && watcher.bufferedAmount < MAX_BUFFERED_BYTES) watcher.send(text);
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'dashboard sample failed');
    } finally {
      this.sampling = false;
    }
  }
}

/**
 * Serves the dashboard feed on `http` at {@link DASHBOARD_FEED_PATH}. Its connections are not counted in
 * the server metrics: a dashboard must not see itself as traffic.
 */
export function attachDashboardFeed(http: Server, setup: DashboardFeedSetup): DashboardFeed {
  const { hub, registry, options, logger } = setup;
  const server = new WebSocketServer({
    server: http,
    path: DASHBOARD_FEED_PATH,
    logger,
    maxPayload: 1024,
    upgrade: sameOrigin(options.origins),
  });
  const feed = new Feed(server, new DashboardSampler({ hub, registry, options }), logger);
  server.on('connection', (connection: WebSocketConnection) => feed.watch(connection));
  return {
    server,
    close: () =>
      new Promise<void>((resolve) => {
        feed.stop();
        server.close(() => resolve());
      }),
  };
}
