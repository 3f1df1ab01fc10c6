/**
 * The live dashboard on the gateway's admin listener: the page on `/dashboard`, its stylesheet, icon
 * and browser modules under `/dashboard/`, and its feed, a WebSocket endpoint on `/dashboard/feed` that
 * sends a JSON snapshot every second while someone watches. The page, its modules and the feed's loop
 * are the ones `conduit serve` uses (observability/dashboard/); the sections are the gateway's own
 * (gateway-dashboard-sections.ts). Like the rest of the admin listener it has no authentication.
 * @module
 */
import type { Server } from 'node:http';
import {
  DASHBOARD_ICON_SVG,
  type DashboardFileAnswer,
  dashboardModuleAnswers,
  textAnswer,
} from '../observability/dashboard/dashboard-assets.js';
import { feedOrigin } from '../observability/dashboard/dashboard-origin.js';
import { dashboardHtml } from '../observability/dashboard/dashboard-page.js';
import { DASHBOARD_CSS } from '../observability/dashboard/dashboard-style.js';
import { SnapshotFeed } from '../observability/dashboard/snapshot-feed.js';
import type { WebSocketConnection } from '../server/connection.js';
import type { UpgradeHook } from '../server/options.js';
import { WebSocketServer } from '../server/server.js';
import { GatewayDashboardSampler, type GatewayDashboardSource } from './gateway-dashboard-sampler.js';
import { answer } from './gateway-reply.js';

export type { GatewayDashboardSource } from './gateway-dashboard-sampler.js';

/** The path of the page. */
export const GATEWAY_DASHBOARD_PATH = '/dashboard';
/** The path of the feed (the page connects to it by this absolute path). */
export const GATEWAY_DASHBOARD_FEED_PATH = '/dashboard/feed';

/** Where the page's modules live on the admin listener. */
const MODULES = '/dashboard/js/';
const STYLESHEET = '/dashboard/style.css';
const ICON = '/dashboard/icon.svg';

const PAGE = dashboardHtml({
  modules: MODULES,
  stylesheet: STYLESHEET,
  icon: ICON,
  links: [
    { href: '/status', text: 'Status (JSON)' },
    { href: '/metrics', text: 'Metrics' },
  ],
});

/** RFC 9110 §15.5.22: the feed reached without an upgrade names the protocol it needs. */
const feedWithoutUpgrade: DashboardFileAnswer = (response) =>
  answer(response, 426, 'This endpoint speaks WebSocket only', { upgrade: 'websocket' });

/**
 * The dashboard's plain HTTP answers on the admin listener, by exact path: the page, its stylesheet,
 * icon and browser modules, and a 426 for the feed's path requested without an upgrade.
 */
export function gatewayDashboardFiles(): [path: string, answer: DashboardFileAnswer][] {
  return [
    [GATEWAY_DASHBOARD_PATH, textAnswer('text/html; charset=utf-8', PAGE)],
    [STYLESHEET, textAnswer('text/css; charset=utf-8', DASHBOARD_CSS)],
    [ICON, textAnswer('image/svg+xml', DASHBOARD_ICON_SVG)],
    [GATEWAY_DASHBOARD_FEED_PATH, feedWithoutUpgrade],
    ...dashboardModuleAnswers(MODULES),
  ];
}

/** A running feed. */
export interface GatewayDashboardFeed {
  /** The feed's WebSocket server (attached to the admin listener's HTTP server). */
  readonly server: WebSocketServer;
  /** Stops sampling and closes every watcher (1001). */
  close(): void;
}

/**
 * Admits browsers of the admin listener's own pages and clients without Origin; refuses pages of any
 * other site (dashboard-origin.ts says why). The admin listener has no `--origin` list to extend it.
 */
const sameOrigin: UpgradeHook = (request) =>
  feedOrigin(request.origin, request.headers.host) === 'foreign'
    ? { status: 403, message: 'foreign origin' }
    : undefined;

/**
 * Serves the dashboard feed on the admin listener's `http` server at {@link GATEWAY_DASHBOARD_FEED_PATH}.
 * `failed` hears about a sample that threw (the feed carries on).
 */
export function attachGatewayDashboardFeed(
  http: Server,
  source: GatewayDashboardSource,
  failed: (error: unknown) => void,
): GatewayDashboardFeed {
  const server = new WebSocketServer({
    server: http,
    path: GATEWAY_DASHBOARD_FEED_PATH,
    maxPayload: 1024,
    upgrade: sameOrigin,
  });
  const feed = new SnapshotFeed(new GatewayDashboardSampler(source), failed);
  server.on('connection', (connection: WebSocketConnection) => {
    // The feed only talks: what a watcher sends is ignored (and bounded by maxPayload).
    connection.on('close', feed.watch(connection));
  });
  return {
    server,
    close: () => {
      feed.stop();
      server.close();
    },
  };
}
