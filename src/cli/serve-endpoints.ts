/**
 * The operational endpoints of `conduit serve`: `/metrics` (Prometheus text) and `/healthz` (load
 * balancers take a node out while its engine is unreachable).
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServeContext } from './serve-routes.js';

/** `/metrics`: the Prometheus exposition of the node (of every worker in cluster mode). */
export async function serveMetrics(
  _request: IncomingMessage,
  response: ServerResponse,
  context: ServeContext,
): Promise<void> {
  const { contentType, text } = await context.metrics();
  // Scrapes must see fresh numbers, never a cached copy.
  response.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
  response.end(text);
}

/**
 * `/healthz`: 200 `ok`, or 503 while the hub's engine is unavailable — a node that cannot publish should
 * get no new clients, but it keeps running and recovers by itself once the engine is back.
 */
export function serveHealth(
  _request: IncomingMessage,
  response: ServerResponse,
  context: ServeContext,
): void {
  const available = context.hub.stats.engineAvailable === 1;
  response.writeHead(available ? 200 : 503, {
    'content-type': 'text/plain; charset=utf-8',
    'cache-control': 'no-store',
  });
  response.end(available ? 'ok' : 'engine unavailable');
}
