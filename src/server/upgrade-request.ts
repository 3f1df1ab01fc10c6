/**
 * The opening handshake request as the server's hooks and 'connection' listeners see it, built either
 * from a head parsed by the standalone listener or from a `node:http` IncomingMessage.
 * @module
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { HttpRequestHead } from '../protocol/http-head.js';

/** An opening handshake request (RFC 6455 §4.1). */
export interface UpgradeRequest {
  method: string;
  /** The request target as received, e.g. `/chat?room=1`. */
  url: string;
  /** The path part of `url`, without the query, e.g. `/chat`. */
  pathname: string;
  /** Header fields, names lowercased, repeated fields joined with `, `. */
  headers: Readonly<Record<string, string>>;
  /** Name, value, name, value, ... as received. */
  rawHeaders: readonly string[];
  /** `Origin`, when sent (browsers always send it; check it against CSRF, RFC 6455 §10.2). */
  origin: string | undefined;
  /** True when the connection is TLS (wss). */
  secure: boolean;
  remoteAddress: string;
  remotePort: number;
  socket: Socket;
  /** The `node:http` request, when the upgrade came through an `http.Server` or `handleUpgrade`. */
  incomingMessage: IncomingMessage | undefined;
  /** Free slot for the upgrade hook (e.g. the authenticated user); becomes `connection.data`. */
  data: unknown;
  /** Extra headers for the 101 response; the upgrade hook may set them. */
  responseHeaders: Record<string, string> | undefined;
}

/** Path of a request target: `/a/b?x=1` → `/a/b`; absolute-form targets keep only their path. */
export function pathnameOf(target: string): string {
  let path = target;
  if (!path.startsWith('/')) {
    // absolute-form (RFC 9112 §3.2.2): scheme://authority/path
    const slash = path.indexOf('/', path.indexOf('//') + 2);
    path = slash === -1 ? '/' : path.slice(slash);
  }
  const query = path.indexOf('?');
  return query === -1 ? path : path.slice(0, query);
}

/** The head of a `node:http` request in the protocol core's shape (headers rebuilt from rawHeaders). */
export function headFromIncomingMessage(req: IncomingMessage): HttpRequestHead {
  const headers = new Map<string, string>();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const previous = headers.get(name);
    headers.set(name, previous === undefined ? raw[i + 1]! : `${previous}, ${raw[i + 1]!}`);
  }
  return {
    method: req.method ?? 'GET',
    target: req.url ?? '/',
    versionMajor: req.httpVersionMajor,
    versionMinor: req.httpVersionMinor,
    headers,
    rawHeaders: raw,
  };
}

/** Builds the request object handed to hooks and listeners. */
export function createUpgradeRequest(
  head: HttpRequestHead,
  socket: Socket,
  incomingMessage: IncomingMessage | undefined,
): UpgradeRequest {
  const headers: Record<string, string> = Object.create(null);
  for (const [name, value] of head.headers) headers[name] = value;
  return {
    method: head.method,
    url: head.target,
    pathname: pathnameOf(head.target),
    headers,
    rawHeaders: head.rawHeaders,
    origin: head.headers.get('origin'),
    secure: 'encrypted' in socket && socket.encrypted === true,
    remoteAddress: socket.remoteAddress ?? '',
    remotePort: socket.remotePort ?? 0,
    socket,
    incomingMessage,
    data: undefined,
    responseHeaders: undefined,
  };
}
