/**
 * Proxying one plain HTTP request to a backend of an HTTP upstream with `node:http`: the body is
 * piped both ways, hop-by-hop fields are dropped (RFC 9110 §7.6.1), `X-Forwarded-*` tell the backend
 * who asked. One attempt per request (a streamed body cannot be replayed); a backend that fails to
 * answer, or answers 5xx, counts towards its passive ejection.
 * @module
 */
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { WebSocketTlsOptions } from '../client/options.js';
import { answer } from './gateway-reply.js';
import type { Upstream } from './upstream.js';

/** Fields that describe one hop, never forwarded (plus those the Connection field names). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** `headers` without hop-by-hop fields. */
function endToEnd(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const listed = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((token) => token.trim().toLowerCase())
      .filter((token) => token !== ''),
  );
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name) && !listed.has(name)) out[name] = value;
  }
  return out;
}

/** The backend URL for a request target: the backend's origin and path prefix, the client's path and query. */
export function httpTarget(backend: URL, target: string): URL {
  const url = new URL(backend.href);
  if (url.protocol === 'ws:') url.protocol = 'http:';
  else if (url.protocol === 'wss:') url.protocol = 'https:';
  const base = url.pathname.endsWith('/') ? url.pathname.slice(0, -1) : url.pathname;
  const path = target.startsWith('/') ? target : `/${target}`;
  const query = path.indexOf('?');
  url.pathname = `${base}${query === -1 ? path : path.slice(0, query)}`;
  url.search = query === -1 ? '' : path.slice(query);
  return url;
}

/** Request fields for the backend: end-to-end fields, its own Host, and who the client is. */
function upstreamHeaders(req: IncomingMessage, target: URL): OutgoingHttpHeaders {
  const headers = endToEnd(req.headers);
  const secure = 'encrypted' in req.socket && req.socket.encrypted === true;
  // Like the WebSocket side: a client's own X-Forwarded-For is replaced, it could be forged.
  headers['x-forwarded-for'] = req.socket.remoteAddress ?? '';
  headers['x-forwarded-proto'] = secure ? 'https' : 'http';
  if (req.headers.host !== undefined) headers['x-forwarded-host'] = req.headers.host;
  headers.host = target.host;
  return headers;
}

/**
 * Forwards `req` to a backend of `upstream` (picked with `headers`, the request's flattened fields)
 * and streams the answer back: 502 when no backend is available or it fails before answering, 504
 * when its answer does not start within the upstream's connect timeout.
 */
export function proxyHttpRequest(
  req: IncomingMessage,
  res: ServerResponse,
  upstream: Upstream,
  headers: Record<string, string | undefined>,
  tls: WebSocketTlsOptions | undefined,
): void {
  const backend = upstream.pick({
    url: req.url ?? '/',
    headers,
    remoteAddress: req.socket.remoteAddress ?? '',
  });
  if (backend === null) {
    answer(res, 502, 'No backend available');
    return;
  }
  const release = backend.acquire();
  const target = httpTarget(backend.url, req.url ?? '/');
  const secure = target.protocol === 'https:';
  const send = secure ? httpsRequest : httpRequest;
  const outgoing = send(target, {
    ...(secure ? tls : {}),
    method: req.method,
    headers: upstreamHeaders(req, target),
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    backend.reportFailure();
    answer(res, 504, 'The backend did not answer in time');
    outgoing.destroy();
  }, upstream.config.connectTimeoutMs);
  outgoing.on('response', (response) => {
    clearTimeout(timer);
    if ((response.statusCode ?? 502) >= 500) backend.reportFailure();
    else backend.reportSuccess();
    res.writeHead(response.statusCode ?? 502, response.statusMessage, endToEnd(response.headers));
    response.pipe(res);
    response.on('error', () => res.destroy());
  });
  outgoing.on('error', () => {
    if (timedOut) return;
    if (res.headersSent) {
      // The answer was streaming: the client must see it cut, not complete.
      res.destroy();
      return;
    }
    clearTimeout(timer);
    backend.reportFailure();
    answer(res, 502, 'The backend could not be reached');
  });
  res.on('close', () => {
    clearTimeout(timer);
    release();
    // The client went away first: stop the backend request too.
    if (!outgoing.destroyed && !res.writableFinished) outgoing.destroy();
  });
  req.pipe(outgoing);
}
