/**
 * One opening handshake over HTTP/2 (RFC 8441 §5), from the CONNECT stream to the open connection: the
 * same checks, limits, hooks and negotiation as an HTTP/1.1 upgrade, bounded by `handshakeTimeout`, with
 * the answer sent as an HTTP/2 response.
 * @module
 */
import { constants, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { HandshakeFailureReason } from '../observability/metric-types.js';
import { HandshakeError } from '../protocol/errors.js';
import {
  type ClientRequestInfo,
  negotiateExtensions,
  selectSubprotocol,
} from '../protocol/handshake-server.js';
import { ignoreSocketError } from '../transport/pending-handshake.js';
import { UNSCHEDULED, type WheelEntry } from '../transport/timer-wheel.js';
import type { ConnectionOwner, WebSocketConnection } from './connection.js';
import type { ConnectionLimits } from './connection-limits.js';
import { isThenable } from './hooks.js';
import { Http2WebSocketConnection } from './http2-connection.js';
import { checkHttp2Request, type Http2UpgradeRequest } from './http2-request.js';
import { respondAccept, respondRefusal } from './http2-response.js';
import type { ServerConfig, UpgradeRejection, WebSocketServerOptions } from './options.js';
import { type Refusal, rejectionOf } from './upgrade.js';
import type { UpgradeRequest } from './upgrade-request.js';

/** Called with the new connection instead of the server's 'connection' event. */
export type Http2ConnectionCallback = (connection: WebSocketConnection, request: UpgradeRequest) => void;

/** What a handshake needs from its WebSocketServer (its private state, lent through a narrow door). */
export interface Http2Host {
  readonly options: WebSocketServerOptions;
  readonly config: ServerConfig;
  readonly limits: ConnectionLimits;
  readonly owner: ConnectionOwner;
  /** True once the server is closing. */
  closing(): boolean;
  /** True while the `overload` policy refuses upgrades. */
  overloaded(): boolean;
  /** Runs the hooks; never rejects: a refusal (with its reason) or null to accept. */
  verdict(request: UpgradeRequest): Refusal | null | Promise<Refusal | null>;
  /** A hook (or `handleProtocols`, or the response headers it set) threw: emit 'handshakeError'. */
  hookFailed(error: unknown, request: UpgradeRequest): void;
  /** Counts, tracks and announces a new connection (not yet started). */
  accepted(
    connection: WebSocketConnection,
    request: UpgradeRequest,
    callback?: Http2ConnectionCallback,
  ): void;
  /** Counts and logs a refused handshake. */
  refused(reason: HandshakeFailureReason, status: number, remoteAddress: string): void;
  /** Counts and logs a handshake the client abandoned or that timed out. */
  aborted(timedOut: boolean, remoteAddress: string): void;
  /** A handshake ended: the server may finish closing. */
  settled(): void;
}

/** One extended CONNECT being answered. */
export class Http2Handshake implements WheelEntry {
  /** True once answered, or once the stream closed or timed out. */
  done = false;
  wheelNext: WheelEntry | null = null;
  wheelPrev: WheelEntry | null = null;
  wheelSlot = UNSCHEDULED;
  wheelRounds = 0;
  private timedOut = false;
  private readonly host: Http2Host;
  private readonly stream: ServerHttp2Stream;
  private readonly request: Http2UpgradeRequest;
  private readonly callback: Http2ConnectionCallback | undefined;
  private readonly onDone: (handshake: Http2Handshake) => void;

  constructor(
    host: Http2Host,
    request: Http2UpgradeRequest,
    callback: Http2ConnectionCallback | undefined,
    onDone: (handshake: Http2Handshake) => void,
  ) {
    this.host = host;
    this.stream = request.stream;
    this.request = request;
    this.callback = callback;
    this.onDone = onDone;
  }

  /** Checks the request, takes a connection slot and runs the hooks. */
  run(headers: IncomingHttpHeaders): void {
    const { host, stream, request } = this;
    // The compatibility layer of node:http2 may have an error listener already; one that ignores is enough.
    if (stream.listenerCount('error') === 0) stream.on('error', ignoreSocketError);
    stream.once('close', this.onClose);
    const timeout = host.config.handshakeTimeout;
    if (timeout > 0) host.config.transport.wheel.schedule(this, timeout);
    const closing = host.closing();
    if (!closing && host.overloaded()) {
      const retryAfter = host.config.overload!.retryAfter;
      this.refuse(
        { status: 503, message: 'Server overloaded', headers: { 'retry-after': retryAfter } },
        'overload',
      );
      return;
    }
    const checked = checkHttp2Request(headers, request, host.config, closing);
    if ('status' in checked) {
      this.refuse(checked, checked.reason);
      return;
    }
    const limit = host.limits.acquire(request.remoteAddress);
    if (limit !== null) {
      const rejection = { status: limit, message: 'Too many connections', headers: { 'retry-after': '1' } };
      this.refuse(rejection, limit === 503 ? 'max_connections' : 'max_per_ip');
      return;
    }
    const verdict = host.verdict(request);
    if (isThenable<Refusal | null>(verdict)) verdict.then((result) => this.decide(checked, result));
    else this.decide(checked, verdict);
  }

  /** Resets the stream (server closing, or the handshake timed out). */
  cancel(): void {
    if (!this.stream.destroyed) this.stream.close(constants.NGHTTP2_CANCEL);
  }

  /** @internal The handshake timeout. */
  onTimeout(): void {
    this.timedOut = true;
    this.cancel();
  }

  private decide(info: ClientRequestInfo, refusal: Refusal | null): void {
    const { host, request } = this;
    if (this.done) {
      // The stream closed or timed out while the hooks ran.
      host.limits.release(request.remoteAddress);
      host.settled();
      return;
    }
    if (refusal !== null) {
      host.limits.release(request.remoteAddress);
      this.refuse(refusal, refusal.reason);
      host.settled();
      return;
    }
    let connection: WebSocketConnection;
    try {
      connection = this.accept(info);
    } catch (error) {
      host.limits.release(request.remoteAddress);
      if (error instanceof HandshakeError) this.refuse(rejectionOf(error), 'bad_request');
      else {
        host.hookFailed(error, request);
        this.refuse({ status: 500, message: 'Internal Server Error' }, 'hook_error');
      }
      host.settled();
      return;
    }
    this.finish();
    host.accepted(connection, request, this.callback);
    connection.start();
  }

  /** Negotiates, answers 200 and creates the connection (RFC 8441 §5). Throws what negotiation threw. */
  private accept(info: ClientRequestInfo): WebSocketConnection {
    const { host, request, stream } = this;
    const handler = host.options.handleProtocols;
    const protocol = selectSubprotocol(
      info.protocols,
      handler === undefined ? undefined : (offered) => handler(new Set(offered), request),
    );
    const negotiated = negotiateExtensions(info.extensionOffers, host.config.factories);
    try {
      respondAccept(stream, {
        protocol,
        extensionsHeader: negotiated.header,
        headers: request.responseHeaders,
      });
    } catch (error) {
      for (const extension of negotiated.extensions) extension.close();
      throw error;
    }
    const setup = {
      config: host.config.transport,
      extensions: negotiated.extensions,
      extensionsHeader: negotiated.header ?? '',
      protocol: protocol ?? '',
      data: request.data,
      owner: host.owner,
      logger: host.config.logger,
    };
    return new Http2WebSocketConnection(setup, stream, request.socket, request.remoteAddress);
  }

  private refuse(rejection: UpgradeRejection, reason: HandshakeFailureReason): void {
    const status = rejection.status >= 400 && rejection.status <= 599 ? rejection.status : 500;
    this.finish();
    this.host.refused(reason, status, this.request.remoteAddress);
    respondRefusal(this.stream, status, rejection.message ?? '', rejection.headers);
  }

  /** Stops the timer and the abort watch; the handshake is over. */
  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.host.config.transport.wheel.cancel(this);
    // The error listener stays: a refused stream may still be reset by the peer, and for an accepted one
    // it is the one the transport would add (socket-listeners.ts).
    this.stream.removeListener('close', this.onClose);
    this.onDone(this);
  }

  private readonly onClose = (): void => {
    if (this.done) return;
    this.done = true;
    this.host.config.transport.wheel.cancel(this);
    this.onDone(this);
    this.host.aborted(this.timedOut, this.request.remoteAddress);
    this.host.settled();
  };
}
