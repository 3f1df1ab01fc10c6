/**
 * What the gateway tells a backend about the client (RFC 7239's de-facto `X-Forwarded-*` fields, the
 * W3C `traceparent`, selected request headers) and which of the client's subprotocols it offers.
 * @module
 */
import { isValidHeaderValue, parseSubprotocols } from '../../protocol/handshake.js';
import type { UpgradeRequest } from '../../server/upgrade-request.js';
import { continueTrace, formatTraceparent, type TraceContext } from './traceparent.js';

/** Which client request headers travel upstream. */
export interface ForwardOptions {
  /**
   * Request headers copied to the backend, case-insensitive. Default `cookie`, `authorization`,
   * `user-agent`, `accept-language`. Handshake fields (Host, Upgrade, Sec-WebSocket-*) never are.
   */
  headers?: readonly string[];
  /** Send the client's `Origin` (backends often check it, RFC 6455 §10.2). Default true. */
  origin?: boolean;
  /**
   * Append the client's address to an `X-Forwarded-For` it sent (true: the gateway sits behind a
   * trusted proxy) or replace it (false). Default false: a client could otherwise forge the chain.
   */
  trustForwardedFor?: boolean;
}

/** The parts of the upstream request that come from the client's request. */
export interface ForwardedRequest {
  /** Extra request headers (`X-Forwarded-*`, `traceparent`, the selected client headers). */
  headers: Record<string, string>;
  /** The client's Origin, when forwarded. */
  origin: string | undefined;
  /** Subprotocols to offer, the client's order, filtered by the route's allow list. */
  protocols: string[];
  trace: TraceContext;
}

/** Defaults of {@link ForwardOptions.headers}. */
export const DEFAULT_FORWARDED_HEADERS: readonly string[] = [
  'cookie',
  'authorization',
  'user-agent',
  'accept-language',
];

/** Written by the upstream handshake itself (or by us below): a client's copy is never forwarded. */
const NOT_FORWARDED = new Set([
  'host',
  'upgrade',
  'connection',
  'origin',
  'traceparent',
  'tracestate',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
]);

/**
 * The client's subprotocols that the route allows, in the client's order (RFC 6455 §4.1: the offer is
 * ordered by preference). An empty allow list allows any.
 */
export function allowedSubprotocols(request: UpgradeRequest, allowed: readonly string[]): string[] {
  // The server validated the header before the hooks ran, so parsing cannot throw here.
  const offered = parseSubprotocols(request.headers['sec-websocket-protocol']);
  return allowed.length === 0 ? offered : offered.filter((protocol) => allowed.includes(protocol));
}

/** `X-Forwarded-For` with the client's address appended (or alone). */
function forwardedFor(request: UpgradeRequest, trust: boolean): string {
  const previous = request.headers['x-forwarded-for'];
  const address = request.remoteAddress;
  return trust && previous !== undefined && previous !== '' ? `${previous}, ${address}` : address;
}

/** Copies the selected headers; values the upstream request could not carry (non-ASCII) are dropped. */
function copySelected(request: UpgradeRequest, names: readonly string[], into: Record<string, string>): void {
  for (const name of names) {
    const lower = name.toLowerCase();
    if (NOT_FORWARDED.has(lower) || lower.startsWith('sec-websocket-')) continue;
    const value = request.headers[lower];
    if (value === undefined || !isValidHeaderValue(value)) continue;
    into[lower] = lower === 'cookie' ? cookieList(request, value) : value;
  }
}

/** Several Cookie fields were joined with ", " by the server, but a cookie list is separated by "; ". */
function cookieList(request: UpgradeRequest, joined: string): string {
  const raw = request.rawHeaders;
  const fields: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === 'cookie') fields.push(raw[i + 1]!);
  }
  return fields.length > 1 ? fields.join('; ') : joined;
}

/** Builds the client-derived parts of the upstream handshake request. */
export function forwardedRequest(
  request: UpgradeRequest,
  allowedProtocols: readonly string[],
  options: ForwardOptions = {},
): ForwardedRequest {
  const headers: Record<string, string> = {};
  copySelected(request, options.headers ?? DEFAULT_FORWARDED_HEADERS, headers);
  headers['x-forwarded-for'] = forwardedFor(request, options.trustForwardedFor ?? false);
  headers['x-forwarded-proto'] = request.secure ? 'https' : 'http';
  const host = request.headers.host;
  if (host !== undefined && isValidHeaderValue(host)) headers['x-forwarded-host'] = host;
  const trace = continueTrace(request.headers.traceparent);
  headers.traceparent = formatTraceparent(trace);
  const tracestate = request.headers.tracestate;
  if (trace.parentSpanId !== '' && tracestate !== undefined && isValidHeaderValue(tracestate)) {
    headers.tracestate = tracestate;
  }
  const origin = request.headers.origin;
  const forwardOrigin = (options.origin ?? true) && origin !== undefined && isValidHeaderValue(origin);
  return {
    headers,
    origin: forwardOrigin ? origin : undefined,
    protocols: allowedSubprotocols(request, allowedProtocols),
    trace,
  };
}
