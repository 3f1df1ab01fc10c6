/**
 * The client's opening handshake over HTTP/2 (RFC 8441 §5): an extended CONNECT on a pooled session,
 * once the server advertised SETTINGS_ENABLE_CONNECT_PROTOCOL, and the check of its 2xx answer. The
 * stream then carries the WebSocket exactly as a TCP connection would.
 * @module
 */
import {
  type ClientHttp2Stream,
  constants,
  type IncomingHttpHeaders,
  type IncomingHttpStatusHeader,
  type OutgoingHttpHeaders,
} from 'node:http2';
import { HandshakeError } from '../protocol/errors.js';
import type { ExtensionFactory, ExtensionOffer } from '../protocol/extension.js';
import { serializeExtensions } from '../protocol/extension-header.js';
import { type HandshakeOutcome, validateServerResponse } from '../protocol/handshake-client.js';
import { ignoreSocketError } from '../transport/pending-handshake.js';
import { Http2ConnectError } from './http2-errors.js';
import { holdSession, knownUnsupported, type PooledSession } from './http2-pool.js';
import type { WebSocketOptions } from './options.js';
import type { ConnectTarget } from './url.js';

/** What goes into the CONNECT request. */
export interface Http2RequestParts {
  target: ConnectTarget;
  protocols: readonly string[];
  offers: readonly ExtensionOffer[];
  origin: string | undefined;
  /** Extra headers, already validated by the HTTP/1.1 request builder. */
  headers: Readonly<Record<string, string>> | undefined;
}

/** Receives the outcome of an {@link Http2Attempt}; exactly one is called, once. */
export interface Http2AttemptSink {
  /** The server answered 2xx: `stream` carries the WebSocket (paused until the transport starts). */
  opened(stream: ClientHttp2Stream, outcome: HandshakeOutcome): void;
  /** The attempt failed: an {@link Http2ConnectError} `ERR_HTTP2_UNSUPPORTED` may fall back to HTTP/1.1. */
  failed(error: Error): void;
}

/** Connection-specific fields HTTP/2 forbids (RFC 9113 §8.2.2); the handshake's own are set here. */
const DROPPED = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'upgrade',
]);

/** The extended CONNECT header block (RFC 8441 §4–5): no Upgrade, no Sec-WebSocket-Key. */
export function http2RequestHeaders(parts: Http2RequestParts): OutgoingHttpHeaders {
  const { target, protocols, offers, origin, headers } = parts;
  const out: OutgoingHttpHeaders = {
    ':method': 'CONNECT',
    ':protocol': 'websocket',
    ':scheme': target.secure ? 'https' : 'http',
    ':authority': target.hostHeader,
    ':path': target.path,
    'sec-websocket-version': '13',
  };
  if (protocols.length > 0) out['sec-websocket-protocol'] = protocols.join(', ');
  if (offers.length > 0) out['sec-websocket-extensions'] = serializeExtensions(offers);
  if (origin !== undefined) out.origin = origin;
  for (const [name, value] of Object.entries(headers ?? {})) {
    const lower = name.toLowerCase();
    if (!DROPPED.has(lower)) out[lower] = value;
  }
  if (target.authorization !== undefined && out.authorization === undefined) {
    out.authorization = target.authorization;
  }
  return out;
}

/** The key and accept of RFC 6455 §1.3's example, to satisfy a check that HTTP/2 has no use for. */
const SAMPLE_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const SAMPLE_ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

/**
 * Checks a CONNECT answer: a 2xx status (RFC 8441 §5, any other fails with `ERR_HANDSHAKE_STATUS`), then
 * the subprotocol and extensions exactly as over HTTP/1.1 (RFC 6455 §4.1 items 5–6). Those checks live in
 * `validateServerResponse`, which also checks the 101/Upgrade/Accept fields that HTTP/2 replaces with the
 * 2xx: it gets them satisfied by construction.
 */
export function http2Outcome(
  headers: IncomingHttpHeaders & IncomingHttpStatusHeader,
  protocols: readonly string[],
  factories: readonly ExtensionFactory[],
): HandshakeOutcome {
  const status = Number(headers[':status']);
  if (!(status >= 200 && status <= 299)) {
    throw new HandshakeError(
      'ERR_HANDSHAKE_STATUS',
      `Unexpected response status ${status}: expected 2xx`,
      status,
    );
  }
  const fields = new Map([
    ['upgrade', 'websocket'],
    ['connection', 'upgrade'],
    ['sec-websocket-accept', SAMPLE_ACCEPT],
  ]);
  for (const name of ['sec-websocket-protocol', 'sec-websocket-extensions']) {
    const value = headers[name];
    if (value !== undefined) fields.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  const head = {
    versionMajor: 2,
    versionMinor: 0,
    status: 101,
    statusText: '',
    headers: fields,
    rawHeaders: [],
  };
  return validateServerResponse(head, { key: SAMPLE_KEY, protocols, extensionFactories: factories });
}

/** One extended CONNECT attempt. */
export class Http2Attempt {
  private readonly parts: Http2RequestParts;
  private readonly options: WebSocketOptions;
  private readonly factories: readonly ExtensionFactory[];
  private readonly sink: Http2AttemptSink;
  private readonly alpn: readonly string[];
  private pooled: PooledSession | null = null;
  private stream: ClientHttp2Stream | null = null;
  private done = false;

  /** `fallback`: offer HTTP/1.1 too by ALPN and skip origins known to lack HTTP/2 WebSockets. */
  constructor(
    parts: Http2RequestParts,
    options: WebSocketOptions,
    factories: readonly ExtensionFactory[],
    fallback: boolean,
    sink: Http2AttemptSink,
  ) {
    this.parts = parts;
    this.options = options;
    this.factories = factories;
    this.sink = sink;
    this.alpn = fallback ? ['h2', 'http/1.1'] : ['h2'];
    if (fallback && knownUnsupported(parts.target, options)) {
      const error = new Http2ConnectError('ERR_HTTP2_UNSUPPORTED', 'No WebSockets over HTTP/2 here lately');
      this.done = true;
      process.nextTick(() => sink.failed(error));
    }
  }

  /** Takes (or opens) the session and sends the request once the server's SETTINGS allow it. */
  start(): void {
    if (this.done) return;
    let pooled: PooledSession;
    try {
      pooled = holdSession(this.parts.target, this.options, this.alpn);
    } catch (error) {
      this.done = true;
      process.nextTick(() => this.sink.failed(error as Error));
      return;
    }
    this.pooled = pooled;
    pooled.whenReady(this.onReady);
  }

  /** Gives up (timeout, close() while connecting): resets the stream, lets go of the session. */
  cancel(): void {
    if (this.done) return;
    this.done = true;
    if (this.stream !== null) {
      this.stream.close(constants.NGHTTP2_CANCEL);
      this.stream.resume();
    } else this.letGo();
  }

  private readonly onReady = (error: Error | null): void => {
    if (this.done) return;
    if (error !== null) {
      this.fail(error);
      return;
    }
    let stream: ClientHttp2Stream;
    try {
      stream = this.pooled!.session.request(http2RequestHeaders(this.parts), { endStream: false });
    } catch (requestError) {
      this.fail(requestError as Error);
      return;
    }
    this.stream = stream;
    stream.on('error', ignoreSocketError);
    stream.once('close', this.letGo);
    stream.once('response', this.onResponse);
    stream.once('close', this.onEarlyClose);
  };

  private readonly onResponse = (headers: IncomingHttpHeaders & IncomingHttpStatusHeader): void => {
    const stream = this.stream!;
    stream.removeListener('close', this.onEarlyClose);
    if (this.done) return;
    let outcome: HandshakeOutcome;
    try {
      outcome = http2Outcome(headers, this.parts.protocols, this.factories);
    } catch (error) {
      stream.close(constants.NGHTTP2_CANCEL);
      // An unread response body keeps the stream from ever emitting 'close' (and its session in the pool).
      stream.resume();
      this.fail(error as Error);
      return;
    }
    this.done = true;
    // The first frames stay in the stream until the WebSocket has dispatched 'open' (the transport resumes).
    stream.pause();
    this.sink.opened(stream, outcome);
  };

  private readonly onEarlyClose = (): void => {
    if (this.done) return;
    const code = this.stream?.rstCode ?? 0;
    this.fail(new Http2ConnectError('ERR_HTTP2_STREAM_RESET', `The server reset the stream (code ${code})`));
  };

  private fail(error: Error): void {
    this.done = true;
    if (this.stream === null) this.letGo();
    this.sink.failed(error);
  }

  /** Releases the session once: when the stream closed, or when none was opened. */
  private readonly letGo = (): void => {
    const pooled = this.pooled;
    this.pooled = null;
    pooled?.release();
  };
}
