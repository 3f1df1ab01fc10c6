/**
 * The live dashboard of `conduit serve`: the page on `/dashboard`, its browser modules next to the chat
 * demo's in `/js/web/`, and its feed, a WebSocket endpoint on `/dashboard/feed` that sends a JSON
 * {@link DashboardSnapshot} every second to every watcher. The page, its modules and the feed's loop
 * are shared with the gateway's admin listener (observability/dashboard/); this file wires them to
 * serve's routes and server.
 * @module
 */
import type { Server } from 'node:http';
import type { Registry } from 'prom-client';
import type { Hub } from '../hub/hub.js';
import { dashboardModuleAnswers } from '../observability/dashboard/dashboard-assets.js';
import { feedOrigin } from '../observability/dashboard/dashboard-origin.js';
import { dashboardHtml } from '../observability/dashboard/dashboard-page.js';
import { SnapshotFeed } from '../observability/dashboard/snapshot-feed.js';
import type { Logger } from '../observability/logger.js';
import type { WebSocketConnection } from '../server/connection.js';
import { originAllowList } from '../server/middleware/origin.js';
import type { UpgradeHook } from '../server/options.js';
import { WebSocketServer } from '../server/server.js';
import type { ServeOptions } from './serve-args.js';
import { DashboardSampler } from './serve-dashboard-sampler.js';
import { pageRoute } from './serve-demo.js';
import type { Route } from './serve-routes.js';

/** The path of the feed. */
export const DASHBOARD_FEED_PATH = '/dashboard/feed';

/** The page's files on serve: the stylesheet and icon are the chat demo's (see serve-demo.ts). */
const DASHBOARD_HTML = dashboardHtml({
  modules: '/js/web/',
  stylesheet: '/css/demo.css',
  icon: '/favicon.svg',
  links: [{ href: '/', text: 'Chat demo' }],
});

/**
 * The dashboard page and its browser modules. The modules share `/js/web/` with the chat's, which
 * import two of them (dom.js, format.js) by the same URLs.
 */
export const DASHBOARD_ROUTES: readonly Route[] = [
  pageRoute('/dashboard', 'dashboard', DASHBOARD_HTML),
  ...dashboardModuleAnswers('/js/web/').map(
    ([path, answer]): Route => ({
      path,
      handle: (_request, response) => answer(response),
    }),
  ),
];

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

/**
 * Admits browsers of this very server and of the `--origin` list, and clients without Origin (see
 * dashboard-origin.ts for why).
 */
function sameOrigin(origins: string[] | undefined): UpgradeHook {
  const listed = origins === undefined ? null : originAllowList(origins, { allowMissing: true });
  return (request) => {
    if (feedOrigin(request.origin, request.headers.host) !== 'foreign') return undefined;
    return listed === null ? { status: 403, message: 'foreign origin' } : listed(request);
  };
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
  const sampler = new DashboardSampler({ hub, registry, options });
  const feed = new SnapshotFeed(sampler, (error) => logger.warn({ err: error }, 'dashboard sample failed'));
  server.on('connection', (connection: WebSocketConnection) => {
    // The feed only talks: what a watcher sends is ignored (and bounded by maxPayload).
    connection.on('close', feed.watch(connection));
  });
  return {
    server,
    close: () =>
      new Promise<void>((resolve) => {
        feed.stop();
        server.close(() => resolve());
      }),
  };
}
