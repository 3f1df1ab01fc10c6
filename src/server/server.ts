/**
 * `WebSocketServer`: accepts WebSocket connections on its own listener (TCP or TLS, parsing the HTTP/1.1
 * upgrade itself), on an existing `http`/`https` server, or from `handleUpgrade` calls; enforces the
 * handshake limits; tracks clients; broadcasts; shuts down gracefully.
 * @module
 */
import type { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import {
  type AddressInfo,
  createServer as createNetServer,
  type Server as NetServer,
  type Socket,
} from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer } from 'node:tls';
import { logsAt } from '../observability/logger.js';
import type { HandshakeFailureReason } from '../observability/metric-types.js';
import type { LoadSample } from '../observability/overload.js';
import { CloseCode, ReadyState } from '../protocol/constants.js';
import { HandshakeError } from '../protocol/errors.js';
import type { HttpRequestHead } from '../protocol/http-head.js';
import { PreparedMessage, type PreparedMessageOptions } from '../protocol/prepared-message.js';
import { type HandshakeSink, PendingHandshake } from '../transport/pending-handshake.js';
import type { ConnectionOwner, MessageData, WebSocketConnection } from './connection.js';
import { ConnectionLimits } from './connection-limits.js';
import { isThenable, runHooks, type Verdict } from './hooks.js';
import { attachHttp2, detachHttp2, isHttp2Server } from './http2-attach.js';
import { Http2Endpoint } from './http2-endpoint.js';
import type { Http2Host } from './http2-handshake.js';
import { HTTP2_ALPN, Http2Listener } from './http2-listener.js';
import { UpgradeCounter, type UpgradeCounts } from './http2-metrics.js';
import {
  resolveServerOptions,
  type ServerConfig,
  type UpgradeRejection,
  type WebSocketServerOptions,
} from './options.js';
import { type GuardHost, LoadGuard } from './overload-guard.js';
import {
  acceptUpgrade,
  checkRequest,
  type HandshakeContext,
  type Refusal,
  rejectHandshake,
  rejectionOf,
  statusOf,
} from './upgrade.js';
import {
  createUpgradeRequest,
  headFromIncomingMessage,
  pathnameOf,
  type UpgradeRequest,
} from './upgrade-request.js';

/** Called by `handleUpgrade` with the new connection (instead of the 'connection' event). */
export type UpgradeCallback = (connection: WebSocketConnection, request: UpgradeRequest) => void;

/** Options of {@link WebSocketServer.broadcast}. */
export interface BroadcastOptions extends PreparedMessageOptions {
  /** A connection not to send to (typically the sender). */
  except?: WebSocketConnection;
}

type State = 'running' | 'closing' | 'closed';

/** The answer when a hook threw (compared by identity to count it as `hook_error`). */
const HOOK_FAILED: UpgradeRejection = Object.freeze({ status: 500, message: 'Internal Server Error' });
/** The answer when the server started closing while the hooks ran. */
const SHUTTING_DOWN: UpgradeRejection = Object.freeze({ status: 503, message: 'Server shutting down' });

function verdictReason(verdict: UpgradeRejection): HandshakeFailureReason {
  if (verdict === HOOK_FAILED) return 'hook_error';
  return verdict === SHUTTING_DOWN ? 'shutting_down' : 'rejected_by_hook';
}

/** The WebSocketServers attached to each http(s) server, in attachment order. */
const attached = new WeakMap<object, WebSocketServer[]>();

function attachedServers(server: object): WebSocketServer[] {
  let list = attached.get(server);
  if (list === undefined) {
    list = [];
    attached.set(server, list);
  }
  return list;
}

/**
 * A WebSocket server. Events: `connection` (connection, request), `listening`, `error` (listener errors
 * such as EADDRINUSE), `handshakeError` (error, request) when a hook throws (emitted only with a
 * listener), `overload` (overloaded: boolean, sample: LoadSample) when the overload state changes,
 * `close` once `close()` finished.
 */
export class WebSocketServer extends EventEmitter implements HandshakeSink, ConnectionOwner, GuardHost {
  /** Open connections (empty when `clientTracking` is false). */
  readonly clients = new Set<WebSocketConnection>();
  readonly options: WebSocketServerOptions;
  private readonly config: ServerConfig;
  private readonly limits: ConnectionLimits;
  private readonly pending = new Set<PendingHandshake>();
  /** Samples the load (for the lag gauge and the `overload` policy); null when neither is configured. */
  private readonly guard: LoadGuard | null;
  private listener: NetServer | null = null;
  /** The HTTP/2 side: extended CONNECT streams (RFC 8441). */
  private readonly http2: Http2Endpoint;
  /** Standalone with `http2`: routes HTTP/2 connections away from the HTTP/1.1 parser. */
  private http2Listener: Http2Listener | null = null;
  private readonly upgrades: UpgradeCounter;
  private state: State = 'running';
  private listenerClosed = true;

  /** Creates the server; with `port`, starts listening (`callback` runs on 'listening'). */
  constructor(options: WebSocketServerOptions, callback?: () => void) {
    super();
    this.options = options;
    this.config = resolveServerOptions(options);
    this.limits = new ConnectionLimits(this.config.maxConnections, this.config.maxConnectionsPerIp);
    const { metrics, overload, logger } = this.config;
    this.guard =
      metrics.enabled || overload !== null
        ? new LoadGuard(this, overload, metrics, logger, this.config.transport.wheel)
        : null;
    this.guard?.start();
    this.upgrades = new UpgradeCounter(options.metrics);
    this.http2 = new Http2Endpoint(this.http2Host());
    if (callback) this.once('listening', callback);
    if (options.port !== undefined) this.listen(options);
    else if (options.server !== undefined) {
      if (isHttp2Server(options.server)) attachHttp2(options.server, this.http2);
      options.server.on('upgrade', this.onHttpUpgrade);
      options.server.on('listening', this.onListening);
      attachedServers(options.server).push(this);
    }
  }

  /** The listening address (standalone or attached server), or null. */
  address(): AddressInfo | string | null {
    return this.listener?.address() ?? this.options.server?.address() ?? null;
  }

  /** True while the `overload` policy refuses upgrades. */
  get overloaded(): boolean {
    return this.guard?.overloaded ?? false;
  }

  /** Handshakes completed per HTTP version: '1.1' (upgrades) and '2' (extended CONNECT, RFC 8441). */
  get upgradeCounts(): Readonly<UpgradeCounts> {
    return this.upgrades.counts;
  }

  /** True when `req` targets this server's `path` (or there is none). */
  shouldHandle(req: { url?: string | undefined }): boolean {
    const path = this.config.path;
    return path === undefined || pathnameOf(req.url ?? '/') === path;
  }

  /**
   * Completes an upgrade received by an `http.Server` (ws-compatible): validates the request, runs the
   * hooks, writes the 101 response and calls `callback` with the connection, or answers with an error
   * status and closes the socket.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, callback: UpgradeCallback): void {
    const pending = this.track(socket as Socket, null);
    this.process(pending, headFromIncomingMessage(req), head, req, callback);
  }

  /**
   * Completes an extended CONNECT (RFC 8441) received on a `node:http2` server: the HTTP/2 counterpart of
   * {@link handleUpgrade} (for `noServer`). Answers 200 and calls `callback` (or emits 'connection') with
   * the connection, or answers with an error status.
   */
  handleHttp2Stream(
    stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    callback?: UpgradeCallback,
  ): void {
    this.http2.handle(stream, headers, undefined, callback);
  }

  /**
   * Sends one message to every open tracked client; it is framed (and compressed, per negotiated
   * parameters) once. Returns the number of connections it was handed to (each applies its own
   * backpressure policy).
   */
  broadcast(data: MessageData, options: BroadcastOptions = {}): number {
    const payload = typeof data === 'string' || data instanceof Uint8Array ? data : toUint8Array(data);
    const message = new PreparedMessage(payload, options);
    let count = 0;
    for (const client of this.clients) {
      if (client === options.except || client.readyState !== ReadyState.OPEN) continue;
      client.sendPrepared(message);
      count++;
    }
    return count;
  }

  /**
   * Stops accepting, closes every tracked connection with 1001 and waits for them (each at most
   * `closeTimeout` ms, then it is destroyed); `callback` and the 'close' event follow.
   */
  close(callback?: () => void): void {
    if (this.state === 'closed') {
      if (callback) process.nextTick(callback);
      return;
    }
    if (callback) this.once('close', callback);
    if (this.state === 'closing') return;
    this.state = 'closing';
    this.guard?.stop();
    if (this.listener !== null) this.listener.close(this.onListenerClose);
    this.http2.close();
    this.http2Listener?.close();
    if (this.options.server !== undefined) {
      if (isHttp2Server(this.options.server)) detachHttp2(this.options.server, this.http2);
      this.options.server.off('upgrade', this.onHttpUpgrade);
      this.options.server.off('listening', this.onListening);
      const peers = attachedServers(this.options.server);
      peers.splice(peers.indexOf(this), 1);
    }
    for (const pending of this.pending) pending.socket.destroy();
    for (const client of this.clients) {
      if (client.readyState === ReadyState.OPEN) client.close(CloseCode.GOING_AWAY, 'server shutting down');
    }
    this.maybeClosed();
  }

  // --- HandshakeSink ---------------------------------------------------------------------------------

  /** @internal */
  onRequestHead(pending: PendingHandshake, head: HttpRequestHead, rest: Buffer): void {
    this.process(pending, head, rest, undefined, undefined);
  }

  /** @internal */
  onRequestError(pending: PendingHandshake, error: HandshakeError): void {
    const refusal = rejectionOf(error);
    this.refuse(pending, refusal, refusal.reason);
  }

  /** @internal */
  onHandshakeAbort(pending: PendingHandshake): void {
    this.pending.delete(pending);
    this.countAbort(pending.timedOut, pending.socket.remoteAddress);
    this.maybeClosed();
  }

  private countAbort(timedOut: boolean, remoteAddress: string | undefined): void {
    const reason = timedOut ? 'timeout' : 'aborted';
    this.config.metrics.handshakeFailed(reason, 0);
    const logger = this.config.logger;
    const level = timedOut ? 'warn' : 'debug';
    if (logsAt(logger, level)) logger[level]({ reason, remoteAddress }, 'handshake not completed');
  }

  /** @internal */
  connectionClosed(connection: WebSocketConnection): void {
    this.config.metrics.connectionsOpen.dec();
    this.clients.delete(connection);
    this.limits.release(connection.remoteAddress);
    this.maybeClosed();
  }

  /** @internal */
  overloadChanged(overloaded: boolean, sample: LoadSample): void {
    if (this.listenerCount('overload') > 0) this.emit('overload', overloaded, sample);
  }

  // --- The handshake ---------------------------------------------------------------------------------

  private track(socket: Socket, maxHeaderSize: number | null): PendingHandshake {
    const pending = new PendingHandshake(
      socket,
      this,
      this.config.transport.wheel,
      this.config.handshakeTimeout,
      maxHeaderSize,
    );
    this.pending.add(pending);
    return pending;
  }

  private process(
    pending: PendingHandshake,
    head: HttpRequestHead,
    rest: Buffer,
    incomingMessage: IncomingMessage | undefined,
    callback: UpgradeCallback | undefined,
  ): void {
    if (pending.done) return;
    if (this.state === 'running' && this.guard?.overloaded === true) {
      this.refuseOverloaded(pending);
      return;
    }
    const request = createUpgradeRequest(head, pending.socket, incomingMessage);
    const checked = checkRequest(head, request, this.config, this.state !== 'running');
    if ('status' in checked) {
      this.refuse(pending, checked, checked.reason);
      return;
    }
    const refusal = this.limits.acquire(request.remoteAddress);
    if (refusal !== null) {
      const rejection = { status: refusal, message: 'Too many connections', headers: { 'Retry-After': '1' } };
      this.refuse(pending, rejection, refusal === 503 ? 'max_connections' : 'max_per_ip');
      return;
    }
    const context: HandshakeContext = { pending, request, info: checked, rest, callback };
    const verdict = this.runHooks(request);
    if (!isThenable<Verdict>(verdict)) {
      this.decide(context, verdict);
      return;
    }
    verdict.then(
      (result) => this.decide(context, result),
      (error: unknown) => this.decide(context, this.hookFailed(error, request)),
    );
  }

  private runHooks(request: UpgradeRequest): Verdict | Promise<Verdict> {
    try {
      return runHooks(this.options.verifyClient, this.options.upgrade, request);
    } catch (error) {
      return this.hookFailed(error, request);
    }
  }

  private hookFailed(error: unknown, request: UpgradeRequest): UpgradeRejection {
    if (this.listenerCount('handshakeError') > 0) this.emit('handshakeError', error, request);
    return HOOK_FAILED;
  }

  private decide(context: HandshakeContext, verdict: Verdict): void {
    const { pending, request } = context;
    if (pending.done) {
      // The socket closed or timed out while the hooks ran.
      this.limits.release(request.remoteAddress);
      this.maybeClosed();
      return;
    }
    const final = verdict ?? (this.state === 'running' ? null : SHUTTING_DOWN);
    if (final !== null) {
      this.limits.release(request.remoteAddress);
      this.refuse(pending, final, verdictReason(final));
      this.maybeClosed();
      return;
    }
    let connection: WebSocketConnection;
    try {
      connection = acceptUpgrade(context, this.config, this.options, this);
    } catch (error) {
      this.limits.release(request.remoteAddress);
      if (error instanceof HandshakeError) this.refuse(pending, rejectionOf(error), 'bad_request');
      else this.refuse(pending, this.hookFailed(error, request), 'hook_error');
      this.maybeClosed();
      return;
    }
    this.pending.delete(pending);
    this.upgrades.count('1.1');
    this.config.metrics.connectionsTotal.inc();
    this.config.metrics.connectionsOpen.inc();
    if (this.config.clientTracking) this.clients.add(connection);
    if (context.callback) context.callback(connection, request);
    else this.emit('connection', connection, request);
    connection.start(context.rest);
  }

  /** Answers with an error status; counts and logs the failure. */
  private refuse(
    pending: PendingHandshake,
    rejection: UpgradeRejection,
    reason: HandshakeFailureReason,
  ): void {
    this.pending.delete(pending);
    const status = statusOf(rejection);
    this.countRefusal(reason, status, pending.socket.remoteAddress);
    rejectHandshake(pending, this.config, rejection);
  }

  private countRefusal(
    reason: HandshakeFailureReason,
    status: number,
    remoteAddress: string | undefined,
  ): void {
    this.config.metrics.handshakeFailed(reason, status);
    const logger = this.config.logger;
    if (logsAt(logger, 'warn')) logger.warn({ reason, status, remoteAddress }, 'handshake rejected');
  }

  private refuseOverloaded(pending: PendingHandshake): void {
    const rejection: UpgradeRejection = {
      status: 503,
      message: 'Server overloaded',
      headers: { 'Retry-After': this.config.overload!.retryAfter },
    };
    this.refuse(pending, rejection, 'overload');
  }

  // --- Listener lifecycle ----------------------------------------------------------------------------

  private listen(options: WebSocketServerOptions): void {
    const timeout = this.config.handshakeTimeout;
    const alpn = options.http2 ? { ALPNProtocols: [...HTTP2_ALPN] } : {};
    const listener = options.tls
      ? createTlsServer({ ...alpn, ...options.tls, ...(timeout > 0 ? { handshakeTimeout: timeout } : {}) })
      : createNetServer({ noDelay: true });
    if (options.http2) this.http2Listener = this.createHttp2Listener(options);
    this.listener = listener;
    this.listenerClosed = false;
    listener.on(options.tls ? 'secureConnection' : 'connection', this.onSocket);
    listener.on('listening', this.onListening);
    listener.on('error', this.onListenerError);
    listener.listen(options.port, options.host, options.backlog);
  }

  private readonly onSocket = (socket: Socket): void => {
    if (this.state !== 'running') {
      socket.destroy();
      return;
    }
    if (this.http2Listener !== null) this.http2Listener.route(socket);
    else this.track(socket, this.config.maxHeaderSize);
  };

  private createHttp2Listener(options: WebSocketServerOptions): Http2Listener {
    return new Http2Listener(this.http2, {
      server: typeof options.http2 === 'object' ? options.http2 : {},
      maxHeaderSize: this.config.maxHeaderSize,
      wheel: this.config.transport.wheel,
      timeout: this.config.handshakeTimeout,
      http1: (socket, head) => {
        const pending = this.track(socket, this.config.maxHeaderSize);
        if (head !== null && head.length > 0) pending.onData(head);
      },
    });
  }

  /** What the HTTP/2 handshakes need of this server (see http2-handshake.ts). */
  private http2Host(): Http2Host {
    const settle = (verdict: Verdict): Refusal | null => {
      const final = verdict ?? (this.state === 'running' ? null : SHUTTING_DOWN);
      return final === null ? null : { ...final, reason: verdictReason(final) };
    };
    return {
      options: this.options,
      config: this.config,
      limits: this.limits,
      owner: this,
      closing: () => this.state !== 'running',
      overloaded: () => this.guard?.overloaded === true,
      verdict: (request) => {
        const verdict = this.runHooks(request);
        if (!isThenable<Verdict>(verdict)) return settle(verdict);
        return verdict.then(settle, (error: unknown) => settle(this.hookFailed(error, request)));
      },
      hookFailed: (error, request) => this.hookFailed(error, request),
      accepted: (connection, request, callback) => {
        this.upgrades.count('2');
        this.config.metrics.connectionsTotal.inc();
        this.config.metrics.connectionsOpen.inc();
        if (this.config.clientTracking) this.clients.add(connection);
        if (callback) callback(connection, request);
        else this.emit('connection', connection, request);
      },
      refused: (reason, status, remoteAddress) => this.countRefusal(reason, status, remoteAddress),
      aborted: (timedOut, remoteAddress) => this.countAbort(timedOut, remoteAddress),
      settled: () => this.maybeClosed(),
    };
  }

  private readonly onHttpUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (!this.shouldHandle(req) && !this.answersUnclaimed(req)) return;
    this.handleUpgrade(req, socket, head, this.emitConnection);
  };

  /**
   * Several servers may share one http.Server by path. An upgrade that none of them claims still needs an
   * answer (404), given exactly once, by the first of them — unless some other 'upgrade' listener, not a
   * WebSocketServer, is there to take it.
   */
  private answersUnclaimed(req: IncomingMessage): boolean {
    const server = this.options.server;
    if (server === undefined) return true;
    const peers = attachedServers(server);
    if (peers.some((peer) => peer.shouldHandle(req))) return false;
    if (server.listenerCount('upgrade') > peers.length) return false;
    return peers[0] === this;
  }

  private readonly emitConnection = (connection: WebSocketConnection, request: UpgradeRequest): void => {
    this.emit('connection', connection, request);
  };

  private readonly onListening = (): void => {
    this.emit('listening');
  };

  private readonly onListenerError = (error: Error): void => {
    this.emit('error', error);
  };

  private readonly onListenerClose = (): void => {
    this.listenerClosed = true;
    this.maybeClosed();
  };

  private maybeClosed(): void {
    if (this.state !== 'closing' || !this.listenerClosed) return;
    if (this.limits.count > 0 || this.pending.size > 0 || this.http2.pendingCount > 0) return;
    this.state = 'closed';
    process.nextTick(() => this.emit('close'));
  }
}

function toUint8Array(data: ArrayBufferView | ArrayBuffer): Uint8Array {
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}
