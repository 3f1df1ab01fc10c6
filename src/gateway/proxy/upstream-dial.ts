/**
 * Opening the WebSocket to a backend in the client role (RFC 6455 §4.1), on the client layer's
 * {@link Connector}, or over HTTP/2 (RFC 8441, see upstream-http2.ts) for backends with `http2`: the
 * subprotocols and headers derived from the client's request, the route's compression policy, a connect
 * timeout, and a typed outcome that tells a retryable failure (nothing reached the backend's
 * application) from an HTTP answer to pass on.
 * @module
 */
import { Buffer } from 'node:buffer';
import type { ClientHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Connector, type ConnectorSink } from '../../client/connector.js';
import { ClientError } from '../../client/errors.js';
import {
  type ClientConfig,
  resolveClientOptions,
  type WebSocketOptions,
  type WebSocketTlsOptions,
} from '../../client/options.js';
import { HandshakeError } from '../../protocol/errors.js';
import type { ExtensionParams } from '../../protocol/extension.js';
import type { HandshakeOutcome } from '../../protocol/handshake-client.js';
import type { PerMessageDeflateOptions } from '../../protocol/permessage-deflate.js';
import { passthroughDeflateOffer } from '../../protocol/permessage-deflate-passthrough.js';
import type { TransportOptions } from '../../transport/options.js';
import type { CompressionPolicy, UpstreamHttp2 } from '../config/types.js';
import { UpstreamError } from './errors.js';
import { UpstreamHandshake } from './upstream-handshake.js';
import { isHttp2Unsupported, UpstreamHttp2Attempt, UpstreamUrl } from './upstream-http2.js';

/** The upstream offer by default: memory per connection matters more than ratio in a proxy. */
const LEAN_DEFLATE: PerMessageDeflateOptions = Object.freeze({
  clientNoContextTakeover: true,
  serverNoContextTakeover: true,
});

/** Settings of every dial made for one route (resolved once, shared by its connections). */
export interface UpstreamDialOptions {
  /** Time allowed for the connection and the complete 101 response, ms. Default 5000. */
  connectTimeoutMs?: number;
  /**
   * `off`: never offer permessage-deflate upstream; `negotiate`: offer `deflate`; `passthrough`: offer
   * the client's own offers ({@link UpstreamRequest.deflateOffers}), so that compressed messages can pass
   * untouched. Default `negotiate`.
   */
  compression?: CompressionPolicy;
  /**
   * Offer parameters of permessage-deflate upstream. Default: no context takeover either way, so that
   * both directions use the process-wide pooled zlib contexts (a proxy holds many idle connections).
   */
  deflate?: PerMessageDeflateOptions;
  /** Largest message accepted from the backend (1009 beyond). Default 16 MiB. */
  maxMessageBytes?: number;
  /** Heartbeat ping interval towards the backend, ms; 0 disables. Default 30 000. */
  pingIntervalMs?: number;
  /** TLS settings for wss backends (CA, client certificate, `rejectUnauthorized`...). */
  tls?: WebSocketTlsOptions;
  /** Flow-control settings of the upstream socket (`highWaterMark`, `lowWaterMark`, `closeTimeout`). */
  transport?: Pick<TransportOptions, 'highWaterMark' | 'lowWaterMark' | 'closeTimeout'>;
  /**
   * How to open WebSockets to URLs that do not say (an {@link UpstreamUrl} does): `false` HTTP/1.1,
   * `true` HTTP/2 extended CONNECT, `'auto'` HTTP/2 where offered. Default false.
   */
  http2?: UpstreamHttp2;
}

/** The per-connection parts of an upstream request. */
export interface UpstreamRequest {
  /** Subprotocols to offer, most preferred first. */
  protocols: readonly string[];
  /** Extra headers (X-Forwarded-*, traceparent, cookies...). */
  headers: Record<string, string>;
  /** `Origin` to send, if any. */
  origin?: string | undefined;
  /**
   * The client's valid permessage-deflate offers, for a `passthrough` dialer: offered as they are (none:
   * nothing is offered). Absent: the dialer offers `deflate` as for `negotiate`.
   */
  deflateOffers?: readonly ExtensionParams[] | undefined;
}

/** A dial in progress. */
export interface DialAttempt {
  /** Settles with the established upstream, or rejects with an {@link UpstreamError}. */
  readonly result: Promise<UpstreamHandshake>;
  /** Gives up (the client went away): the promise rejects with `ERR_UPSTREAM_ABORTED`. */
  abort(): void;
}

/** Maps what the connector reported to the proxy's error vocabulary. */
export function toUpstreamError(error: Error, url: URL): UpstreamError {
  const where = `${url.protocol}//${url.host}`;
  const cause = { cause: error };
  if (error instanceof UpstreamError) return error;
  if (error instanceof ClientError) {
    if (error.code === 'ERR_HANDSHAKE_TIMEOUT') {
      return new UpstreamError('ERR_UPSTREAM_TIMEOUT', `${where}: ${error.message}`, 0, cause);
    }
    return new UpstreamError('ERR_UPSTREAM_CONNECT', `${where}: ${error.message}`, 0, cause);
  }
  if (error instanceof HandshakeError) {
    if (error.code === 'ERR_HANDSHAKE_STATUS') {
      return new UpstreamError(
        'ERR_UPSTREAM_STATUS',
        `${where} answered ${error.status}`,
        error.status,
        cause,
      );
    }
    return new UpstreamError('ERR_UPSTREAM_HANDSHAKE', `${where}: ${error.message}`, 0, cause);
  }
  // Socket errors: ECONNREFUSED, ECONNRESET, EHOSTUNREACH, TLS failures...
  return new UpstreamError('ERR_UPSTREAM_CONNECT', `${where}: ${error.message}`, 0, cause);
}

/** One dial: over HTTP/2 first when asked to, else (or as the fallback) on a connector. */
class Dial implements ConnectorSink, DialAttempt {
  readonly result: Promise<UpstreamHandshake>;
  private resolve!: (upstream: UpstreamHandshake) => void;
  private reject!: (error: UpstreamError) => void;
  private connector: Connector | null = null;
  private http2: UpstreamHttp2Attempt | null = null;
  private readonly started = performance.now();

  constructor(
    private readonly url: URL,
    private readonly config: ClientConfig,
  ) {
    this.result = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  start(request: UpstreamRequest, base: WebSocketOptions, mode: UpstreamHttp2): void {
    const options: WebSocketOptions = { ...base, headers: request.headers };
    if (request.origin !== undefined) options.origin = request.origin;
    if (mode === false) {
      this.startConnector(request, options, this.config);
      return;
    }
    const fallback = mode === 'auto';
    const parts = { protocols: request.protocols, headers: request.headers, origin: request.origin };
    this.http2 = new UpstreamHttp2Attempt(this.url, parts, this.config, options, fallback, {
      opened: (stream, outcome) => this.openedHttp2(stream, outcome),
      failed: (error) => {
        this.http2 = null;
        if (fallback && isHttp2Unsupported(error)) this.fallBack(request, options);
        else this.onConnectError(error);
      },
    });
    this.http2.start();
  }

  abort(): void {
    const error = new UpstreamError('ERR_UPSTREAM_ABORTED', 'The dial was aborted');
    if (this.http2 !== null) this.http2.abort(error);
    else this.connector?.abort(error);
  }

  onHandshake(socket: Socket, outcome: HandshakeOutcome, rest: Buffer): void {
    this.connector = null;
    const ms = performance.now() - this.started;
    this.resolve(new UpstreamHandshake(socket, this.url, outcome, rest, this.config.transport, ms));
  }

  onConnectError(error: Error): void {
    this.connector = null;
    this.reject(toUpstreamError(error, this.url));
  }

  private startConnector(request: UpstreamRequest, options: WebSocketOptions, config: ClientConfig): void {
    try {
      this.connector = new Connector(this.url, request.protocols, options, config, this);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.reject(new UpstreamError('ERR_UPSTREAM_REQUEST', `Invalid upstream request: ${message}`));
      return;
    }
    this.connector.start();
  }

  /** HTTP/1.1 after an `auto` attempt found no HTTP/2 WebSockets, within what is left of the timeout. */
  private fallBack(request: UpstreamRequest, options: WebSocketOptions): void {
    const timeout = this.config.handshakeTimeout;
    const left = timeout === 0 ? 0 : Math.max(1, Math.round(timeout - (performance.now() - this.started)));
    this.startConnector(request, options, { ...this.config, handshakeTimeout: left });
  }

  private openedHttp2(stream: ClientHttp2Stream, outcome: HandshakeOutcome): void {
    this.http2 = null;
    const ms = performance.now() - this.started;
    // The transport runs on the stream as on a socket (see socket-transport.ts).
    const socket = stream as unknown as Socket;
    const { transport } = this.config;
    this.resolve(new UpstreamHandshake(socket, this.url, outcome, Buffer.alloc(0), transport, ms, '2'));
  }
}

/** Dials the backends of one route: its settings are resolved once, in the constructor. */
export class UpstreamDialer {
  private readonly config: ClientConfig;
  private readonly base: WebSocketOptions;
  private readonly http2: UpstreamHttp2;
  /** Tuning of the real permessage-deflate; null unless `passthrough` (offers are then per dial). */
  private readonly passthrough: PerMessageDeflateOptions | null;

  /** Throws a RangeError or TypeError for invalid options. */
  constructor(options: UpstreamDialOptions = {}) {
    const compression = options.compression ?? 'negotiate';
    this.http2 = options.http2 ?? false;
    this.base = { ...options.tls };
    const deflate = options.deflate ?? LEAN_DEFLATE;
    this.passthrough = compression === 'passthrough' ? deflate : null;
    this.config = resolveClientOptions({
      ...options.transport,
      handshakeTimeout: options.connectTimeoutMs ?? 5000,
      perMessageDeflate: compression === 'off' ? false : deflate,
      maxPayload: options.maxMessageBytes,
      heartbeatInterval: options.pingIntervalMs,
      idleTimeout: 0,
    });
  }

  /**
   * Opens a WebSocket to `url` (ws: or wss:; its path and query are sent as they are), over HTTP/2 when
   * `url` is an {@link UpstreamUrl} that says so (else per the `http2` option). Never throws: every
   * failure rejects the attempt's promise with an {@link UpstreamError}.
   */
  dial(url: URL, request: UpstreamRequest): DialAttempt {
    const dial = new Dial(url, this.configFor(request));
    dial.start(request, this.base, url instanceof UpstreamUrl ? url.http2 : this.http2);
    return dial;
  }

  /** The route's settings, with the client's own offers in place of ours for a passthrough dial. */
  private configFor(request: UpstreamRequest): ClientConfig {
    const offers = request.deflateOffers;
    if (this.passthrough === null || offers === undefined) return this.config;
    const factories = offers.length === 0 ? [] : [passthroughDeflateOffer(offers, this.passthrough)];
    return { ...this.config, factories };
  }
}
