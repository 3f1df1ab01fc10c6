/**
 * The server side of one WebSocket connection: the EventEmitter most applications use, a thin shell
 * over a {@link SocketTransport}.
 * @module
 */
import type { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { formatConnectionId, nextConnectionSeq } from '../observability/ids.js';
import { type Logger, type LogLevel, logsAt } from '../observability/logger.js';
import type { SendOptions } from '../protocol/connection.js';
import { ReadyState } from '../protocol/constants.js';
import { ProtocolError } from '../protocol/errors.js';
import type { Extension } from '../protocol/extension.js';
import type { PreparedMessage } from '../protocol/prepared-message.js';
import type { TransportError } from '../transport/errors.js';
import type { TransportConfig } from '../transport/options.js';
import type { SendCallback } from '../transport/send-callbacks.js';
import { SocketTransport, type TransportSink } from '../transport/socket-transport.js';
import { type Message, MessageIterator } from './message-iterator.js';

/** What `send` accepts: strings are sent as text, everything else as binary (unless `binary` says otherwise). */
export type MessageData = string | ArrayBufferView | ArrayBuffer;

/** Options of {@link WebSocketConnection.send}. */
export interface ConnectionSendOptions {
  /** Send as binary (true) or text (false). Default: text for strings, binary otherwise. */
  binary?: boolean;
  /** Let permessage-deflate compress this message (when negotiated). Default true. */
  compress?: boolean;
  /** Split the message into frames of at most this many payload bytes. Default: one frame. */
  fragmentSize?: number;
}

/** Told when a connection closes (the server uses it for `clients` and its limits). */
export interface ConnectionOwner {
  connectionClosed(connection: WebSocketConnection): void;
}

/** How a connection was set up by the handshake. */
export interface ConnectionSetup {
  socket: Socket;
  config: TransportConfig;
  extensions: Extension[];
  /** The `Sec-WebSocket-Extensions` response value ('' for none). */
  extensionsHeader: string;
  /** The chosen subprotocol ('' for none). */
  protocol: string;
  data: unknown;
  owner: ConnectionOwner | null;
  /** The server's logger, or null for none. */
  logger: Logger | null;
}

function toBytes(data: MessageData): string | Uint8Array {
  if (typeof data === 'string' || data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  throw new TypeError('send() takes a string, an ArrayBuffer or an ArrayBufferView');
}

function errorLevel(error: TransportError): LogLevel {
  if (error.code === 'ERR_BACKPRESSURE_LIMIT') return 'warn';
  return error.code === 'ERR_IDLE_TIMEOUT' ? 'debug' : 'info';
}

function logMessage(error: ProtocolError | TransportError): string {
  if (error instanceof ProtocolError) return 'protocol error: connection failed';
  if (error.code === 'ERR_BACKPRESSURE_LIMIT') return 'backpressure limit: connection closed';
  return error.code === 'ERR_HEARTBEAT_TIMEOUT'
    ? 'heartbeat missed: connection terminated'
    : 'connection timed out';
}

/**
 * The listener table of a connection. EventEmitter's own (`{ __proto__: null }`) is a dictionary-mode
 * object of about 300 bytes; an instance of this prototype-less class stays a small fast-mode object.
 */
function Listeners(): void {}
Listeners.prototype = Object.create(null);

/**
 * One accepted WebSocket connection.
 *
 * Events: `message` (data: Buffer, isBinary: boolean) — `data` is a view of the received bytes, text is
 * already validated UTF-8; `close` (code: number, reason: string) — once, after the TCP connection closed:
 * `code` is the peer's close code (1005 when its close frame had none), else the code we failed the
 * connection with after a protocol error (1002, 1007, 1009...), else 1006; `ping` (payload: Buffer) —
 * already answered; `pong` (payload: Buffer); `drain` — `bufferedAmount` fell to the low water mark after
 * `send` returned false; `error` (ProtocolError | TransportError) — emitted only when there is a listener
 * (an unhandled 'error' would crash the process), followed by `close`.
 */
export class WebSocketConnection extends EventEmitter implements TransportSink {
  static readonly CONNECTING = ReadyState.CONNECTING;
  static readonly OPEN = ReadyState.OPEN;
  static readonly CLOSING = ReadyState.CLOSING;
  static readonly CLOSED = ReadyState.CLOSED;

  /** The negotiated subprotocol, '' for none. */
  readonly protocol: string;
  /** The negotiated `Sec-WebSocket-Extensions` value, '' for none. */
  readonly extensions: string;
  /** The peer's IP address. */
  readonly remoteAddress: string;
  /** What the upgrade hook put in `request.data`. */
  data: unknown;
  private readonly transport: SocketTransport;
  private readonly owner: ConnectionOwner | null;
  /** Sequence number behind {@link connectionId} (the string is built only when read). */
  private readonly seq = nextConnectionSeq();
  private readonly rootLogger: Logger | null;
  /** `rootLogger.child({ connId })`, created on the first line this connection emits. */
  private childLogger: Logger | null = null;

  /** @internal Created by the server once the 101 response is written. */
  constructor(setup: ConnectionSetup) {
    super();
    // EventEmitter reads and writes `_events` itself; only its fresh, empty object is replaced.
    const self = this as unknown as { _events: object | undefined };
    if (typeof self._events === 'object') self._events = new (Listeners as unknown as new () => object)();
    this.protocol = setup.protocol;
    this.extensions = setup.extensionsHeader;
    this.remoteAddress = setup.socket.remoteAddress ?? '';
    this.data = setup.data;
    this.owner = setup.owner;
    this.rootLogger = setup.logger;
    this.transport = new SocketTransport(setup.socket, this, setup.config, setup.extensions);
  }

  /** HTTP version of the opening handshake: '1.1' (Upgrade) or '2' (RFC 8441 extended CONNECT). */
  get httpVersion(): '1.1' | '2' {
    return '1.1';
  }

  /** @internal Starts reading; `head` holds bytes that arrived with the handshake. */
  start(head?: Uint8Array): void {
    const log = this.log('debug');
    if (log !== null) {
      log.debug(
        { remoteAddress: this.remoteAddress, protocol: this.protocol, extensions: this.extensions },
        'connection open',
      );
    }
    this.transport.start(head);
  }

  /** A short id unique in this process and unlikely to repeat across processes (e.g. `k3f9-1z`). */
  get connectionId(): string {
    return formatConnectionId(this.seq);
  }

  /**
   * When the last data message was sent or received (ms on the `performance.now` clock, at the timer
   * wheel's resolution); the time the connection opened until then.
   */
  get lastActivity(): number {
    return this.transport.lastActivity;
  }

  /** CONNECTING (0), OPEN (1), CLOSING (2) or CLOSED (3), as in WHATWG WebSocket. */
  get readyState(): ReadyState {
    return this.transport.readyState;
  }

  /** Bytes handed to the socket and not yet flushed to the kernel. */
  get bufferedAmount(): number {
    return this.transport.bufferedAmount;
  }

  /** Round-trip time of the last answered heartbeat ping, in ms; -1 until one was answered. */
  get rtt(): number {
    return this.transport.rtt;
  }

  /** The underlying socket (for its address, TLS details...). Do not read from or write to it. */
  get socket(): Socket {
    return this.transport.socket;
  }

  /**
   * Sends a message. Returns true when it was queued and `bufferedAmount` is below the high water mark;
   * false when the caller should wait for 'drain', or when the message was not sent (connection closing,
   * backpressure limit): `callback` then receives the error. `callback` runs once the message was handed
   * to the kernel.
   */
  send(data: MessageData, options?: ConnectionSendOptions | SendCallback, callback?: SendCallback): boolean {
    if (typeof options === 'function') return this.transport.send(toBytes(data), undefined, options);
    return this.transport.send(toBytes(data), options as SendOptions | undefined, callback);
  }

  /** Sends a message framed once for many receivers (see `WebSocketServer.broadcast`). Same result as `send`. */
  sendPrepared(message: PreparedMessage, callback?: SendCallback): boolean {
    return this.transport.sendPrepared(message, callback);
  }

  /** Sends a ping (payload at most 125 bytes, else RangeError). Returns false once closing. */
  ping(payload?: string | Uint8Array): boolean {
    return this.transport.ping(payload);
  }

  /** Sends an unsolicited pong (payload at most 125 bytes, else RangeError). Returns false once closing. */
  pong(payload?: string | Uint8Array): boolean {
    return this.transport.pong(payload);
  }

  /**
   * Starts the closing handshake with `code` and `reason` (at most 123 UTF-8 bytes). Throws a RangeError
   * for a code that must not be sent (e.g. 1005, 1006). The socket is destroyed if the peer does not
   * answer within `closeTimeout`.
   */
  close(code?: number, reason?: string): void {
    this.transport.close(code, reason);
  }

  /** Destroys the connection at once, without a closing handshake (close code 1006). */
  terminate(): void {
    this.transport.terminate();
  }

  /** Stops reading from the peer (TCP backpressure) until {@link resume}. */
  pause(): void {
    this.transport.pauseReading();
  }

  /** Resumes reading after {@link pause}. */
  resume(): void {
    this.transport.resumeReading();
  }

  /**
   * Iterates over received messages until the connection closes (`for await (const { data, isBinary } of
   * connection)`). Reading from the peer pauses while unconsumed messages pile up.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<Message> {
    return new MessageIterator(this);
  }

  /** @internal */
  onMessage(data: Buffer, isBinary: boolean): void {
    this.emit('message', data, isBinary);
  }

  /** @internal */
  onPing(payload: Buffer): void {
    this.emit('ping', payload);
  }

  /** @internal */
  onPong(payload: Buffer): void {
    this.emit('pong', payload);
  }

  /** @internal */
  onDrain(): void {
    this.emit('drain');
  }

  /** @internal */
  onError(error: ProtocolError | TransportError): void {
    if (this.rootLogger !== null) this.logError(error);
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  /** @internal */
  onClose(code: number, reason: string): void {
    const log = this.log('debug');
    if (log !== null) {
      const side = this.transport.closedLocally ? 'local' : 'remote';
      log.debug({ code, reason, side }, 'connection closed');
    }
    this.owner?.connectionClosed(this);
    this.emit('close', code, reason);
  }

  /** This connection's child logger when `level` is enabled, else null (then build no log line). */
  private log(level: LogLevel): Logger | null {
    if (!logsAt(this.rootLogger, level)) return null;
    this.childLogger ??= this.rootLogger.child({ connId: this.connectionId });
    return this.childLogger;
  }

  /** Protocol errors are the peer's doing (info); a backpressure close is ours to watch (warn). */
  private logError(error: ProtocolError | TransportError): void {
    const level: LogLevel = error instanceof ProtocolError ? 'info' : errorLevel(error);
    const log = this.log(level);
    if (log === null) return;
    const closeCode = error instanceof ProtocolError ? error.closeCode : undefined;
    log[level]({ code: error.code, closeCode, error: error.message }, logMessage(error));
  }
}
