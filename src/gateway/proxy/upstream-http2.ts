/**
 * Opening a backend WebSocket over HTTP/2 (RFC 8441 §5): an extended CONNECT on a pooled session (see
 * upstream-http2-pool.ts), checked as the client checks it, bounded by the dial's timeout. The stream
 * then stands in for the socket of an HTTP/1.1 upgrade: the transport and the pair run on it unchanged.
 * @module
 */
import type {
  ClientHttp2Stream,
  Http2Stream,
  IncomingHttpHeaders,
  IncomingHttpStatusHeader,
} from 'node:http2';
import { constants } from 'node:http2';
import { ClientError } from '../../client/errors.js';
import { http2Outcome, http2RequestHeaders } from '../../client/http2-connector.js';
import { Http2ConnectError } from '../../client/http2-errors.js';
import type { ClientConfig, WebSocketOptions } from '../../client/options.js';
import { type ConnectTarget, connectTarget } from '../../client/url.js';
import type { HandshakeOutcome } from '../../protocol/handshake-client.js';
import { UNSCHEDULED, type WheelEntry } from '../../transport/timer-wheel.js';
import type { UpstreamHttp2 } from '../config/types.js';
import { UpstreamError } from './errors.js';
import { type Http2Lease, upstreamHttp2Sessions } from './upstream-http2-pool.js';

/** A backend URL that also says how to dial it (what the backend's `http2` setting says). */
export class UpstreamUrl extends URL {
  readonly http2: UpstreamHttp2;

  constructor(url: URL | string, http2: UpstreamHttp2) {
    super(url);
    this.http2 = http2;
  }
}

/** True for the failures after which `http2: auto` falls back to HTTP/1.1. */
export function isHttp2Unsupported(error: Error): boolean {
  return error instanceof Http2ConnectError && error.code === 'ERR_HTTP2_UNSUPPORTED';
}

/** What goes into the CONNECT: the same parts as an HTTP/1.1 upgrade request. */
export interface Http2DialRequest {
  protocols: readonly string[];
  headers: Record<string, string>;
  origin: string | undefined;
}

/** Receives the outcome of an {@link UpstreamHttp2Attempt}; exactly one is called, once. */
export interface Http2DialSink {
  /** The backend answered 2xx: `stream` carries the WebSocket, paused. */
  opened(stream: ClientHttp2Stream, outcome: HandshakeOutcome): void;
  failed(error: Error): void;
}

/**
 * Gives an HTTP/2 stream the `bytesRead`/`bytesWritten` counters of a socket, which `ProxyStats` reads
 * (a stream has none, and its session's socket counts every stream — and throws once the session is
 * gone). Counted where the bytes pass: `push` (what `node:http2` calls with each chunk received) and
 * `write`, so that no listener changes the stream's flowing state.
 */
export function countStreamBytes(stream: Http2Stream): void {
  const counts = { bytesRead: 0, bytesWritten: 0 };
  const push = stream.push;
  stream.push = function countedPush(this: Http2Stream, chunk: unknown, encoding?: BufferEncoding) {
    if (chunk instanceof Uint8Array) counts.bytesRead += chunk.byteLength;
    return push.call(this, chunk, encoding);
  };
  const write = stream.write as (...args: unknown[]) => boolean;
  stream.write = function countedWrite(this: Http2Stream, chunk: unknown, ...rest: unknown[]) {
    if (chunk instanceof Uint8Array) counts.bytesWritten += chunk.byteLength;
    return write.call(this, chunk, ...rest);
  } as Http2Stream['write'];
  Object.defineProperty(stream, 'bytesRead', { get: () => counts.bytesRead });
  Object.defineProperty(stream, 'bytesWritten', { get: () => counts.bytesWritten });
}

/** One extended CONNECT to a backend. */
export class UpstreamHttp2Attempt implements WheelEntry {
  wheelNext: WheelEntry | null = null;
  wheelPrev: WheelEntry | null = null;
  wheelSlot = UNSCHEDULED;
  wheelRounds = 0;
  private readonly target: ConnectTarget;
  private lease: Http2Lease | null = null;
  private stream: ClientHttp2Stream | null = null;
  private done = false;

  /** `fallback`: offer HTTP/1.1 by ALPN too, and skip backends known to lack HTTP/2 WebSockets. */
  constructor(
    url: URL,
    private readonly request: Http2DialRequest,
    private readonly config: ClientConfig,
    private readonly options: WebSocketOptions,
    private readonly fallback: boolean,
    private readonly sink: Http2DialSink,
  ) {
    this.target = connectTarget(url);
  }

  /** Arms the timeout and asks the pool for a session. */
  start(): void {
    if (this.fallback && upstreamHttp2Sessions.knownUnsupported(this.target, this.options)) {
      const error = new Http2ConnectError('ERR_HTTP2_UNSUPPORTED', 'No WebSockets over HTTP/2 here lately');
      this.done = true;
      process.nextTick(() => this.sink.failed(error));
      return;
    }
    const timeout = this.config.handshakeTimeout;
    if (timeout > 0) this.config.transport.wheel.schedule(this, timeout);
    const alpn = this.fallback ? ['h2', 'http/1.1'] : ['h2'];
    try {
      upstreamHttp2Sessions.acquire(this.target, this.options, alpn, this.onLease);
    } catch (error) {
      // createConnection may throw; report asynchronously like every other failure.
      process.nextTick(() => this.fail(error as Error));
    }
  }

  /** Gives up (the client went away, or the timeout): resets the stream, lets go of the session. */
  abort(error: Error): void {
    if (this.done) return;
    this.fail(error);
  }

  /** @internal The timeout. */
  onTimeout(): void {
    const ms = this.config.handshakeTimeout;
    this.abort(new ClientError('ERR_HANDSHAKE_TIMEOUT', `No CONNECT response within ${ms} ms`));
  }

  private readonly onLease = (error: Error | null, lease: Http2Lease | null): void => {
    if (this.done) {
      lease?.release();
      return;
    }
    if (error !== null || lease === null) {
      this.fail(error ?? new Error('No HTTP/2 session'));
      return;
    }
    this.lease = lease;
    const { protocols, origin, headers } = this.request;
    const offers = this.config.factories.flatMap((factory) =>
      factory.offer().map((params) => ({ name: factory.name, params })),
    );
    let stream: ClientHttp2Stream;
    try {
      const block = http2RequestHeaders({ target: this.target, protocols, offers, origin, headers });
      stream = lease.session.request(block, { endStream: false });
    } catch (requestError) {
      const message = (requestError as Error).message;
      this.fail(new UpstreamError('ERR_UPSTREAM_REQUEST', `Invalid upstream request: ${message}`));
      return;
    }
    this.stream = stream;
    stream.on('error', () => {});
    stream.once('close', lease.release);
    stream.once('close', this.onEarlyClose);
    stream.once('response', this.onResponse);
  };

  private readonly onResponse = (headers: IncomingHttpHeaders & IncomingHttpStatusHeader): void => {
    const stream = this.stream!;
    stream.removeListener('close', this.onEarlyClose);
    if (this.done) return;
    let outcome: HandshakeOutcome;
    try {
      outcome = http2Outcome(headers, this.request.protocols, this.config.factories);
    } catch (error) {
      this.fail(error as Error);
      return;
    }
    this.done = true;
    this.config.transport.wheel.cancel(this);
    // The backend's first frames wait in the stream until the pair starts its transport.
    stream.pause();
    countStreamBytes(stream);
    this.sink.opened(stream, outcome);
  };

  private readonly onEarlyClose = (): void => {
    const code = this.stream?.rstCode ?? 0;
    this.fail(new Http2ConnectError('ERR_HTTP2_STREAM_RESET', `The backend reset the stream (code ${code})`));
  };

  private fail(error: Error): void {
    if (this.done) return;
    this.done = true;
    this.config.transport.wheel.cancel(this);
    const stream = this.stream;
    if (stream !== null && !stream.destroyed) {
      stream.close(constants.NGHTTP2_CANCEL);
      // A stream with unread data (a refusal's body) emits 'close', which releases the lease, only
      // once that data is read.
      stream.resume();
    } else if (stream === null) this.lease?.release();
    this.sink.failed(error);
  }
}
