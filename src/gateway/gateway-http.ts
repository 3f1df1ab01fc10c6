/**
 * Plain HTTP requests (not upgrades) on the client-facing listeners: routed like upgrades, then proxied
 * to the route's `http: { proxy }` upstream, or refused with the route's status (426 by default, with
 * `Upgrade: websocket` as RFC 9110 §15.5.22 asks); 404 when no route takes them.
 * @module
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { WebSocketTlsOptions } from '../client/options.js';
import { pathnameOf } from '../server/upgrade-request.js';
import { proxyHttpRequest } from './gateway-http-proxy.js';
import { answer } from './gateway-reply.js';
import { matchRoute, type RuntimeSnapshot } from './gateway-runtime.js';

/** Header fields as the router and balancers read them: lowercased names, one string each. */
export function flatHeaders(headers: IncomingHttpHeaders): Record<string, string | undefined> {
  const flat: Record<string, string | undefined> = Object.create(null);
  for (const [name, value] of Object.entries(headers)) {
    flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

/** Options of {@link handleHttpRequest}. */
export interface HttpRequestOptions {
  /** TLS settings for https:// backends. */
  upstreamTls?: WebSocketTlsOptions | undefined;
  /** True while the gateway drains: requests get 503. */
  draining: boolean;
}

/** Routes one plain HTTP request of a client-facing listener under `snapshot`. */
export function handleHttpRequest(
  snapshot: RuntimeSnapshot,
  req: IncomingMessage,
  res: ServerResponse,
  options: HttpRequestOptions,
): void {
  if (options.draining) {
    answer(res, 503, 'Gateway shutting down', { connection: 'close' });
    return;
  }
  const headers = flatHeaders(req.headers);
  const route = matchRoute(snapshot, { pathname: pathnameOf(req.url ?? '/'), headers });
  if (route === null) {
    answer(res, 404, 'No route for this request');
    return;
  }
  const http = route.config.http;
  if (http.kind === 'reject' || route.httpUpstream === null) {
    const status = http.kind === 'reject' ? http.status : 502;
    const upgrade = status === 426 ? { upgrade: 'websocket', connection: 'Upgrade' } : undefined;
    answer(
      res,
      status,
      status === 426 ? 'This route takes WebSocket connections' : 'Not served here',
      upgrade,
    );
    return;
  }
  proxyHttpRequest(req, res, route.httpUpstream, headers, options.upstreamTls);
}
