/**
 * The plain HTTP routes of `conduit serve` and the request listener that dispatches to them. A new page is
 * one line in {@link ROUTES}; WebSocket endpoints are attached in `serve-node.ts`.
 * @module
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Hub } from '../hub/hub.js';
import type { Logger } from '../observability/logger.js';
import type { ServeOptions } from './serve-args.js';
import { DASHBOARD_ROUTES } from './serve-dashboard.js';
import { DEMO_ROUTES } from './serve-demo.js';
import { serveHealth, serveMetrics } from './serve-endpoints.js';

/** What route handlers may use. */
export interface ServeContext {
  readonly hub: Hub;
  readonly options: ServeOptions;
  readonly logger: Logger;
  /** The Prometheus exposition of this node (of every worker in cluster mode) and its content type. */
  metrics(): Promise<{ contentType: string; text: string }>;
}

/** Answers one GET (or HEAD: Node drops the body) request. A throw or rejection is answered with 500. */
export type RouteHandler = (
  request: IncomingMessage,
  response: ServerResponse,
  context: ServeContext,
) => void | Promise<void>;

/** One plain HTTP route. */
export interface Route {
  /** The exact request path (the query is ignored). */
  path: string;
  /** When set, printed at start as `NAME: http://HOST:PORT/PATH`. */
  name?: string;
  handle: RouteHandler;
}

/** The HTTP routes, in the order their URLs are printed. */
export const ROUTES: readonly Route[] = [
  ...DEMO_ROUTES,
  ...DASHBOARD_ROUTES,
  { path: '/metrics', name: 'metrics', handle: serveMetrics },
  { path: '/healthz', name: 'health', handle: serveHealth },
];

function plain(
  response: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  response.end(text);
}

function pathnameOf(url: string | undefined): string {
  const raw = url ?? '/';
  const query = raw.indexOf('?');
  return query === -1 ? raw : raw.slice(0, query);
}

function answerUnrouted(
  request: IncomingMessage,
  response: ServerResponse,
  websocketPaths: Set<string>,
): void {
  // RFC 9110 §15.5.22: a WebSocket endpoint reached without an upgrade names the protocol it needs.
  if (websocketPaths.has(pathnameOf(request.url))) {
    plain(response, 426, 'This endpoint speaks WebSocket only\n', { upgrade: 'websocket' });
  } else plain(response, 404, 'Not Found\n');
}

async function run(route: Route, request: IncomingMessage, response: ServerResponse, context: ServeContext) {
  try {
    await route.handle(request, response, context);
  } catch (error) {
    context.logger.error({ err: error, path: route.path }, 'route failed');
    if (!response.headersSent) plain(response, 500, 'Internal Server Error\n');
    else response.destroy();
  }
}

/**
 * The request listener of the HTTP server: `routes` by exact path for GET and HEAD (405 for other methods),
 * 426 for a WebSocket path requested without an upgrade, 404 for anything else.
 */
export function createRequestListener(
  routes: readonly Route[],
  context: ServeContext,
  websocketPaths: readonly string[],
): RequestListener {
  const byPath = new Map(routes.map((route) => [route.path, route]));
  const wsPaths = new Set(websocketPaths);
  return (request, response) => {
    const route = byPath.get(pathnameOf(request.url));
    if (route === undefined) answerUnrouted(request, response, wsPaths);
    else if (request.method !== 'GET' && request.method !== 'HEAD') {
      plain(response, 405, 'Method Not Allowed\n', { allow: 'GET, HEAD' });
    } else void run(route, request, response, context);
  };
}
