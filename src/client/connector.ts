/**
 * The client's opening handshake over a raw socket (RFC 6455 §4.1): connect, write the request, read
 * the response head with the protocol core's incremental parser, validate it, follow redirects when
 * asked to, and bound the whole of it in time on the shared timer wheel.
 * @module
 */
import { Buffer } from 'node:buffer';
import type { ClientHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import type { ExtensionOffer } from '../protocol/extension.js';
import { generateKey } from '../protocol/handshake.js';
import {
  buildClientRequest,
  type HandshakeOutcome,
  validateServerResponse,
} from '../protocol/handshake-client.js';
import { type HttpResponseHead, HttpResponseParser } from '../protocol/http-head.js';
import { ignoreSocketError } from '../transport/pending-handshake.js';
import { asBuffer } from '../transport/socket-transport.js';
import { UNSCHEDULED, type WheelEntry } from '../transport/timer-wheel.js';
import { dial } from './dial.js';
import { ClientError } from './errors.js';
import { Http2Attempt } from './http2-connector.js';
import { Http2ConnectError } from './http2-errors.js';
import type { ClientConfig, WebSocketOptions } from './options.js';
import { isRedirect, redirectHeaders, redirectTarget } from './redirect.js';
import { type ConnectTarget, connectTarget } from './url.js';

/** Receives the outcome of a {@link Connector}; exactly one of the two is called, once. */
export interface ConnectorSink {
  /** The handshake succeeded. The socket is paused; `rest` holds the bytes that followed the response head. */
  onHandshake(socket: Socket, outcome: HandshakeOutcome, rest: Buffer): void;
  /** The connection could not be established; the socket, if any, is destroyed. */
  onConnectError(error: Error): void;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

function hasHeader(headers: Readonly<Record<string, string>> | undefined, name: string): boolean {
  return headers !== undefined && Object.keys(headers).some((key) => key.toLowerCase() === name);
}

/** One opening handshake in progress, redirects included. */
export class Connector implements WheelEntry {
  /** True once the sink was told the outcome. */
  done = false;
  wheelNext: WheelEntry | null = null;
  wheelPrev: WheelEntry | null = null;
  wheelSlot = UNSCHEDULED;
  wheelRounds = 0;

  private readonly protocols: readonly string[];
  private readonly options: WebSocketOptions;
  private readonly config: ClientConfig;
  private readonly sink: ConnectorSink;
  private readonly offers: ExtensionOffer[];
  private url: URL;
  private target: ConnectTarget;
  private headers: Record<string, string> | undefined;
  private key = '';
  private request: string;
  private redirects = 0;
  private socket: Socket | null = null;
  private parser: HttpResponseParser | null = null;
  /** The extended CONNECT attempt (RFC 8441) while `http2` is on and it has not failed. */
  private http2: Http2Attempt | null = null;

  /** Builds the first request: throws a TypeError for an invalid header, origin or extension offer. */
  constructor(
    url: URL,
    protocols: readonly string[],
    options: WebSocketOptions,
    config: ClientConfig,
    sink: ConnectorSink,
  ) {
    this.url = url;
    this.target = connectTarget(url);
    this.protocols = protocols;
    this.options = options;
    this.config = config;
    this.sink = sink;
    this.headers = options.headers;
    this.offers = config.factories.flatMap((factory) =>
      factory.offer().map((params) => ({ name: factory.name, params })),
    );
    this.request = this.buildRequest();
  }

  /** Arms the handshake timeout and connects. */
  start(): void {
    const timeout = this.config.handshakeTimeout;
    if (timeout > 0) this.config.transport.wheel.schedule(this, timeout);
    if (this.config.http2 === false) this.open();
    else this.openHttp2();
  }

  /** Gives up: destroys the socket and reports `error` (a no-op once the outcome is known). */
  abort(error: Error): void {
    if (this.done) return;
    this.done = true;
    this.config.transport.wheel.cancel(this);
    this.http2?.cancel();
    this.http2 = null;
    const socket = this.socket;
    if (socket !== null) {
      this.detach(socket);
      socket.destroy();
    }
    this.sink.onConnectError(error);
  }

  /** @internal Timer wheel callback: the handshake took longer than `handshakeTimeout`. */
  onTimeout(): void {
    const ms = this.config.handshakeTimeout;
    this.abort(new ClientError('ERR_HANDSHAKE_TIMEOUT', `No handshake response within ${ms} ms`));
  }

  private buildRequest(): string {
    this.key = generateKey();
    const { hostHeader, path, authorization } = this.target;
    let headers = this.headers;
    // Credentials in the URL's userinfo, unless the application set its own Authorization header.
    if (authorization !== undefined && !hasHeader(headers, 'authorization')) {
      headers = { ...headers, Authorization: authorization };
    }
    return buildClientRequest({
      host: hostHeader,
      path,
      key: this.key,
      protocols: this.protocols,
      extensions: this.offers,
      origin: this.options.origin,
      headers,
    });
  }

  /** Opens the WebSocket on an HTTP/2 stream; `'auto'` falls back to {@link open} where unsupported. */
  private openHttp2(): void {
    const { target, protocols, offers, options } = this;
    const parts = { target, protocols, offers, origin: options.origin, headers: this.headers };
    const fallback = this.config.http2 === 'auto';
    this.http2 = new Http2Attempt(parts, options, this.config.factories, fallback, {
      opened: (stream, outcome) => this.openedHttp2(stream, outcome),
      failed: (error) => {
        this.http2 = null;
        if (this.done) return;
        if (fallback && error instanceof Http2ConnectError && error.code === 'ERR_HTTP2_UNSUPPORTED')
          this.open();
        else this.abort(error);
      },
    });
    this.http2.start();
  }

  private openedHttp2(stream: ClientHttp2Stream, outcome: HandshakeOutcome): void {
    this.http2 = null;
    this.done = true;
    this.config.transport.wheel.cancel(this);
    // The transport runs on the stream as on a socket (see socket-transport.ts).
    this.sink.onHandshake(stream as unknown as Socket, outcome, Buffer.alloc(0));
  }

  private open(): void {
    let socket: Socket;
    try {
      socket = dial(this.target, this.options);
    } catch (error) {
      // Report asynchronously, like every other connection failure.
      process.nextTick(() => this.abort(asError(error)));
      return;
    }
    this.socket = socket;
    this.parser = new HttpResponseParser({ maxHeaderSize: this.config.maxHeaderSize });
    socket.on('data', this.onData);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
    socket.write(this.request, 'latin1');
  }

  private detach(socket: Socket): void {
    socket.removeListener('data', this.onData);
    socket.removeListener('error', this.onError);
    socket.removeListener('close', this.onClose);
    // A late error of a socket we let go of must not crash the process.
    socket.on('error', ignoreSocketError);
  }

  private readonly onData = (chunk: Buffer): void => {
    const parser = this.parser;
    if (parser === null || this.done) return;
    let result: ReturnType<HttpResponseParser['feed']>;
    try {
      result = parser.feed(chunk);
    } catch (error) {
      this.abort(asError(error));
      return;
    }
    if (result === null) return;
    this.parser = null;
    this.response(result.head, asBuffer(result.rest));
  };

  private readonly onError = (error: Error): void => {
    this.abort(error);
  };

  private readonly onClose = (): void => {
    this.abort(
      new ClientError('ERR_HANDSHAKE_ABORTED', 'The server closed the connection during the handshake'),
    );
  };

  private response(head: HttpResponseHead, rest: Buffer): void {
    if (this.config.maxRedirects > 0 && isRedirect(head.status)) {
      this.redirect(head.headers.get('location'));
      return;
    }
    let outcome: HandshakeOutcome;
    try {
      outcome = validateServerResponse(head, {
        key: this.key,
        protocols: this.protocols,
        extensionFactories: this.config.factories,
      });
    } catch (error) {
      this.abort(asError(error));
      return;
    }
    this.done = true;
    this.config.transport.wheel.cancel(this);
    const socket = this.socket!;
    // Keep the first frames in the kernel until the WebSocket has dispatched 'open'.
    socket.pause();
    socket.removeListener('data', this.onData);
    socket.removeListener('error', this.onError);
    socket.removeListener('close', this.onClose);
    this.sink.onHandshake(socket, outcome, rest);
  }

  /** Follows a redirect on a new connection (RFC 9110 §15.4); the handshake timeout keeps running. */
  private redirect(location: string | undefined): void {
    if (this.redirects >= this.config.maxRedirects) {
      this.abort(
        new ClientError('ERR_TOO_MANY_REDIRECTS', `More than ${this.config.maxRedirects} redirects`),
      );
      return;
    }
    try {
      const next = redirectTarget(this.url, location);
      this.headers = redirectHeaders(this.headers, this.url, next);
      this.url = next;
      this.target = connectTarget(next);
      this.request = this.buildRequest();
    } catch (error) {
      this.abort(asError(error));
      return;
    }
    this.redirects++;
    const previous = this.socket!;
    this.detach(previous);
    previous.destroy();
    this.open();
  }
}
