/**
 * The server's view of an extended CONNECT request (RFC 8441 §4–5): which streams a server claims, the
 * {@link UpgradeRequest} its hooks see, and the checks that stand in for RFC 6455 §4.2.1 over HTTP/2.
 * @module
 */
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import { WEBSOCKET_VERSION } from '../protocol/constants.js';
import { HandshakeError } from '../protocol/errors.js';
import { parseExtensions } from '../protocol/extension-header.js';
import { parseSubprotocols } from '../protocol/handshake.js';
import type { ClientRequestInfo } from '../protocol/handshake-server.js';
import type { ServerConfig } from './options.js';
import { type Refusal, rejectionOf } from './upgrade.js';
import { pathnameOf, type UpgradeRequest } from './upgrade-request.js';

/** An opening handshake that came as an HTTP/2 extended CONNECT. */
export interface Http2UpgradeRequest extends UpgradeRequest {
  /** Always '2' (an HTTP/1.1 upgrade request has no such field). */
  httpVersion: '2';
  /** The stream the WebSocket runs on. */
  stream: ServerHttp2Stream;
}

/** Header values as one string: repeated fields joined with `, ` (RFC 9110 §5.3). */
function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * True when a server with `path` (undefined: every path) should take this stream: a CONNECT whose
 * `:path` matches. A classic CONNECT (RFC 9113 §8.5) has no `:path`: only a server without a path claims
 * it, to answer that it is no proxy.
 */
export function claimsStream(path: string | undefined, headers: IncomingHttpHeaders): boolean {
  if (headers[':method'] !== 'CONNECT') return false;
  if (path === undefined) return true;
  const target = headers[':path'];
  return target !== undefined && pathnameOf(target) === path;
}

/**
 * Builds the request the hooks and 'connection' listeners see. Regular fields keep their (lowercase)
 * names; `:authority` also appears as `host`, which HTTP/2 clients do not send (RFC 9113 §8.3.1) but
 * middleware reads. `socket` is the connection's TCP or TLS socket (as `node:http2` proxies it).
 */
export function createHttp2Request(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  rawHeaders: readonly string[],
): Http2UpgradeRequest {
  const fields: Record<string, string> = Object.create(null);
  for (const [name, value] of Object.entries(headers)) {
    const text = single(value);
    if (!name.startsWith(':') && text !== undefined) fields[name] = text;
  }
  const authority = headers[':authority'];
  if (fields.host === undefined && authority !== undefined) fields.host = authority;
  const url = headers[':path'] ?? '';
  const socket = stream.session?.socket as Socket | undefined;
  return {
    method: 'CONNECT',
    url,
    pathname: url === '' ? '' : pathnameOf(url),
    headers: fields,
    rawHeaders,
    origin: fields.origin,
    secure: stream.session?.encrypted === true,
    remoteAddress: socket?.remoteAddress ?? '',
    remotePort: socket?.remotePort ?? 0,
    socket: socket as Socket,
    incomingMessage: undefined,
    data: undefined,
    responseHeaders: undefined,
    httpVersion: '2',
    stream,
  };
}

/** A 400 refusal with `message`. */
function badRequest(message: string, headers?: Record<string, string>): Refusal {
  return { status: 400, message, reason: 'bad_request', ...(headers ? { headers } : {}) };
}

/** RFC 8441 §4: extended CONNECT carries `:protocol`, here the upgrade token `websocket`. */
function checkProtocol(headers: IncomingHttpHeaders): Refusal | null {
  const protocol = headers[':protocol'];
  // 400 rather than 405: CONNECT is the method this resource allows over HTTP/2, so the method is not
  // what is wrong; a CONNECT without :protocol asks for a TCP tunnel (RFC 9113 §8.5), and this is no proxy.
  if (protocol === undefined) return badRequest('Extended CONNECT with :protocol websocket expected');
  // Upgrade tokens are compared case-insensitively (RFC 9110 §7.8).
  if (protocol.toLowerCase() !== 'websocket') {
    return badRequest(`Unsupported :protocol ${JSON.stringify(protocol)}: expected "websocket"`);
  }
  return null;
}

/**
 * Checks an extended CONNECT before the hooks run: server state (503), `path` (404), `:protocol` (400),
 * `sec-websocket-version` (400 naming version 13: RFC 8441 §5 keeps RFC 6455 §4.4, but the 426 of
 * HTTP/1.1 would need an Upgrade header, which HTTP/2 forbids), then the subprotocol and extension
 * offers (400 when malformed). Returns the handshake fields (with an empty key: RFC 8441 §5 drops
 * Sec-WebSocket-Key), or the refusal to send.
 */
export function checkHttp2Request(
  headers: IncomingHttpHeaders,
  request: Http2UpgradeRequest,
  config: ServerConfig,
  closing: boolean,
): ClientRequestInfo | Refusal {
  if (closing) return { status: 503, message: 'Server shutting down', reason: 'shutting_down' };
  if (config.path !== undefined && request.pathname !== config.path && request.url !== '') {
    return { status: 404, message: 'Not Found', reason: 'not_found' };
  }
  const protocolRefusal = checkProtocol(headers);
  if (protocolRefusal !== null) return protocolRefusal;
  if (single(headers['sec-websocket-version']) !== WEBSOCKET_VERSION) {
    return {
      ...badRequest('Missing or unsupported sec-websocket-version: expected 13', {
        'sec-websocket-version': WEBSOCKET_VERSION,
      }),
      reason: 'version',
    };
  }
  try {
    const info: ClientRequestInfo = {
      key: '',
      version: 13,
      protocols: parseSubprotocols(single(headers['sec-websocket-protocol'])),
      extensionOffers: parseExtensions(single(headers['sec-websocket-extensions']) ?? ''),
      host: request.headers.host ?? '',
      path: request.url,
    };
    if (request.origin !== undefined) info.origin = request.origin;
    return info;
  } catch (error) {
    if (error instanceof HandshakeError) return rejectionOf(error);
    throw error;
  }
}
