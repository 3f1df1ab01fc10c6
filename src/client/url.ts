/**
 * The URL and subprotocol steps of the WHATWG WebSocket constructor ("new WebSocket(url, protocols)"),
 * and where a parsed URL tells the client to connect.
 * @module
 */
import { Buffer } from 'node:buffer';
import { subprotocolListError } from '../protocol/handshake.js';
import { domException } from './errors.js';

/**
 * Parses a WebSocket URL as the WHATWG standard does: `http:` and `https:` become `ws:` and `wss:`, any
 * other scheme, a relative URL (Node has no base URL) or a fragment (even an empty one) throws a
 * `SyntaxError` DOMException.
 */
export function parseWebSocketUrl(input: string | URL): URL {
  let url: URL;
  try {
    url = new URL(String(input));
  } catch {
    throw domException(`Invalid WebSocket URL ${JSON.stringify(String(input))}`, 'SyntaxError');
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw domException(`The URL's scheme must be ws, wss, http or https, not ${url.protocol}`, 'SyntaxError');
  }
  // `hash` is '' for an empty fragment too; the serialization still ends with '#' then.
  if (url.hash !== '' || url.href.endsWith('#')) {
    throw domException('A WebSocket URL must not have a fragment', 'SyntaxError');
  }
  return url;
}

/**
 * The constructor's `protocols` argument as a list: absent gives none, a string gives one, an iterable
 * gives its elements as strings. Throws a `SyntaxError` DOMException for an element that is not an
 * HTTP token or one listed twice (RFC 6455 §4.1, the WHATWG constructor's step 7).
 */
export function normalizeProtocols(protocols: string | Iterable<string> | undefined): string[] {
  let list: string[];
  if (protocols === undefined) list = [];
  else if (typeof protocols === 'string') list = [protocols];
  else list = Array.from(protocols, String);
  const error = subprotocolListError(list);
  if (error !== undefined) throw domException(`Invalid subprotocols: ${error}`, 'SyntaxError');
  return list;
}

/** Where and how to open the connection for a WebSocket URL. */
export interface ConnectTarget {
  /** True for `wss:`. */
  secure: boolean;
  /** Host name or IP address to connect to (IPv6 without brackets). */
  host: string;
  port: number;
  /** `Host` header value: the host with `:port` when it is not the scheme's default (RFC 9110 §7.2). */
  hostHeader: string;
  /** Request target in origin form: path and query (RFC 9112 §3.2.1). */
  path: string;
  /** `Basic` credentials from the URL's userinfo, or undefined (RFC 7617). */
  authorization: string | undefined;
}

/** The connect target of a URL returned by {@link parseWebSocketUrl}. */
export function connectTarget(url: URL): ConnectTarget {
  const secure = url.protocol === 'wss:';
  const hostname = url.hostname;
  const host = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  let authorization: string | undefined;
  if (url.username !== '' || url.password !== '') {
    const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
  }
  return {
    secure,
    host,
    port: url.port === '' ? (secure ? 443 : 80) : Number(url.port),
    hostHeader: url.host,
    path: `${url.pathname}${url.search}`,
    authorization,
  };
}
