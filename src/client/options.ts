/**
 * Options of a client {@link WebSocket} (the Node extras of its third constructor argument) and their
 * resolution into the settings one connection runs with.
 * @module
 */
import type { LookupFunction, Socket } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import type { ExtensionFactory } from '../protocol/extension.js';
import { HttpResponseParser } from '../protocol/http-head.js';
import { type PerMessageDeflateOptions, perMessageDeflate } from '../protocol/permessage-deflate.js';
import {
  resolveTransportOptions,
  type TransportConfig,
  type TransportOptions,
} from '../transport/options.js';
import type { TimerWheel } from '../transport/timer-wheel.js';

/** How binary messages are handed to `message` listeners: WHATWG's two, plus Node's Buffer. */
export type BinaryType = 'blob' | 'arraybuffer' | 'nodebuffer';

/** What {@link WebSocketOptions.createConnection} is asked to connect to. */
export interface ConnectionRequest {
  /** True for `wss:`: the returned socket must speak TLS. */
  secure: boolean;
  host: string;
  port: number;
  /** TLS server name (SNI); undefined for an IP address. */
  servername: string | undefined;
}

/** TLS settings used for `wss:` URLs (see `tls.connect`). */
export type WebSocketTlsOptions = Pick<
  ConnectionOptions,
  | 'ca'
  | 'cert'
  | 'key'
  | 'passphrase'
  | 'pfx'
  | 'rejectUnauthorized'
  | 'servername'
  | 'checkServerIdentity'
  | 'minVersion'
  | 'maxVersion'
  | 'ciphers'
  | 'secureContext'
>;

/**
 * Node options of a client WebSocket; every one is optional. Flow control and timers are the
 * transport's ({@link TransportOptions}); `maxPayload` limits received messages (1009 when exceeded).
 */
export interface WebSocketOptions extends TransportOptions, WebSocketTlsOptions {
  /** Extra request headers (not the handshake's own: Host, Upgrade, Sec-WebSocket-*...). */
  headers?: Record<string, string>;
  /** `Origin` header value; none is sent by default (RFC 6455 §10.2: browsers send one, other clients may). */
  origin?: string;
  /** Offer permessage-deflate (RFC 7692) with these options, or the defaults for `true`. Default false. */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** Further extensions to offer, after permessage-deflate. */
  extensions?: ExtensionFactory[];
  /** Time from the start to a complete 101 response (redirects included), in ms. 0 disables it. Default 30000. */
  handshakeTimeout?: number;
  /** Largest accepted response head, in bytes. Default 16 KiB. */
  maxHeaderSize?: number;
  /** Follow 301/302/303/307/308 responses to their `Location`. Default false (the response fails the connection). */
  followRedirects?: boolean;
  /** Most redirects followed when `followRedirects` is on. Default 10. */
  maxRedirects?: number;
  /** Answer pings with pongs automatically (RFC 6455 §5.5.2). Default true; else use `pong()`. */
  autoPong?: boolean;
  /** Initial `binaryType`. Default 'blob' (WHATWG). */
  binaryType?: BinaryType;
  /** DNS lookup function (as `net.connect`'s). */
  lookup?: LookupFunction;
  /** IP family to resolve the host to: 4, 6, or 0 for both. */
  family?: number;
  /** Local address to connect from. */
  localAddress?: string;
  /**
   * Opens the socket yourself (a proxy tunnel, a Unix socket, a pre-connected stream...): return a
   * `net.Socket` (or `tls.TLSSocket` when `secure`). This is the escape hatch in place of an `http.Agent`,
   * which does not fit a raw handshake.
   */
  createConnection?: (request: ConnectionRequest) => Socket;
  /**
   * Open the WebSocket on an HTTP/2 stream (RFC 8441): `true` requires it, `'auto'` falls back to
   * HTTP/1.1 when the server does not offer it (TLS chose another protocol than h2, or the server's
   * SETTINGS lack SETTINGS_ENABLE_CONNECT_PROTOCOL; `ws:` URLs try cleartext HTTP/2 with prior knowledge).
   * WebSockets to one origin with the same connection options share one HTTP/2 session, closed a short
   * while after its last WebSocket. Redirects are not followed over HTTP/2. Default false.
   */
  http2?: boolean | 'auto';
  /** @internal A timer wheel of one's own (tests). Default: the process-wide wheel. */
  timerWheel?: TimerWheel;
}

/** Resolved settings of one client connection. */
export interface ClientConfig {
  readonly transport: TransportConfig;
  readonly factories: readonly ExtensionFactory[];
  readonly handshakeTimeout: number;
  readonly maxHeaderSize: number;
  /** 0 when redirects are not followed. */
  readonly maxRedirects: number;
  /** Whether to open the WebSocket over HTTP/2 (see {@link WebSocketOptions.http2}). */
  readonly http2: boolean | 'auto';
}

/**
 * A client paces its own sends (WHATWG code watches `bufferedAmount`), so the hard limit is only a
 * safety net against a runaway loop: much higher than the server's 1 MiB.
 */
const CLIENT_MAX_BACKPRESSURE = 64 * 1024 * 1024;

function extensionFactories(options: WebSocketOptions): ExtensionFactory[] {
  const factories: ExtensionFactory[] = [];
  const deflate = options.perMessageDeflate;
  if (deflate) factories.push(perMessageDeflate(deflate === true ? {} : deflate));
  if (options.extensions) factories.push(...options.extensions);
  return factories;
}

function nonNegativeInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`${name} must be an integer >= 0`);
  return value;
}

/** Validates the options and fills in defaults; throws a TypeError or RangeError for invalid ones. */
export function resolveClientOptions(options: WebSocketOptions): ClientConfig {
  const transportOptions = {
    ...options,
    maxBackpressure: options.maxBackpressure ?? CLIENT_MAX_BACKPRESSURE,
  };
  if (options.createConnection !== undefined && typeof options.createConnection !== 'function') {
    throw new TypeError('createConnection must be a function');
  }
  // The parser validates the limit by its own rule: fail now rather than on the response.
  const { maxHeaderSize } = new HttpResponseParser({ maxHeaderSize: options.maxHeaderSize });
  const maxRedirects = nonNegativeInteger('maxRedirects', options.maxRedirects, 10);
  const http2 = options.http2 ?? false;
  if (http2 !== true && http2 !== false && http2 !== 'auto') {
    throw new TypeError(`http2 must be true, false or 'auto', got ${String(http2)}`);
  }
  return {
    transport: resolveTransportOptions('client', transportOptions, options.timerWheel),
    factories: extensionFactories(options),
    handshakeTimeout: nonNegativeInteger('handshakeTimeout', options.handshakeTimeout, 30_000),
    maxHeaderSize,
    maxRedirects: options.followRedirects ? maxRedirects : 0,
    http2,
  };
}
