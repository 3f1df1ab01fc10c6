/**
 * The engine behind a client {@link WebSocket}: it runs the {@link Connector} until the handshake is
 * done, then a {@link SocketTransport} (the same batching, backpressure and timers as the server's
 * connections), and turns what they report into WHATWG events dispatched on the WebSocket. Kept apart
 * from the WebSocket itself so that its callbacks (`onMessage`, `onClose`...) cannot be mistaken for, or
 * overwritten by, the event handler attributes (`onmessage`, `onclose`...).
 * @module
 */
import type { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import { CloseCode, ReadyState } from '../protocol/constants.js';
import type { ProtocolError } from '../protocol/errors.js';
import type { HandshakeOutcome } from '../protocol/handshake-client.js';
import type { TransportError } from '../transport/errors.js';
import { SocketTransport, type TransportSink } from '../transport/socket-transport.js';
import { Connector, type ConnectorSink } from './connector.js';
import { ClientError } from './errors.js';
import { CloseEvent, ErrorEvent } from './events.js';
import { binaryMessage, payloadSize } from './message-data.js';
import type { BinaryType, ClientConfig, WebSocketOptions } from './options.js';
import { type QueuedData, SendQueue, type SendQueueSink } from './send-queue.js';

/** A close asked for while Blobs were still being read: it waits for them (WHATWG keeps send order). */
interface DeferredClose {
  code: number | undefined;
  reason: string;
}

/** The state and I/O of one client WebSocket. */
export class ClientConnection implements ConnectorSink, TransportSink, SendQueueSink {
  binaryType: BinaryType;
  /** The subprotocol the server chose, '' for none. */
  protocol = '';
  /** The `Sec-WebSocket-Extensions` value of the response, '' for none. */
  extensions = '';

  private readonly target: EventTarget;
  private readonly origin: string;
  private readonly config: ClientConfig;
  /** The state until the transport exists, and after a failed connection. */
  private state: ReadyState = ReadyState.CONNECTING;
  private connector: Connector | null;
  private transport: SocketTransport | null = null;
  private queue: SendQueue | null = null;
  private deferredClose: DeferredClose | null = null;
  /** Bytes passed to `send()` once closing: never sent, but counted by `bufferedAmount` (WHATWG). */
  private discarded = 0;
  private errorDispatched = false;

  /** Starts connecting; throws a TypeError for an invalid header, origin or extension offer. */
  constructor(
    target: EventTarget,
    url: URL,
    protocols: readonly string[],
    options: WebSocketOptions,
    config: ClientConfig,
  ) {
    this.target = target;
    this.origin = url.origin;
    this.config = config;
    this.binaryType = options.binaryType ?? 'blob';
    this.connector = new Connector(url, protocols, options, config, this);
    this.connector.start();
  }

  get readyState(): ReadyState {
    if (this.deferredClose !== null) return ReadyState.CLOSING;
    return this.transport?.readyState ?? this.state;
  }

  /** Bytes of application data queued and not yet handed to the kernel (WHATWG `bufferedAmount`). */
  get bufferedAmount(): number {
    return (this.transport?.bufferedAmount ?? 0) + (this.queue?.bytes ?? 0) + this.discarded;
  }

  /** Round-trip time of the last answered heartbeat ping, in ms; -1 until one was answered. */
  get rtt(): number {
    return this.transport?.rtt ?? -1;
  }

  /** Sends a message (not while CONNECTING: the WebSocket checks that). */
  send(payload: QueuedData): void {
    const transport = this.transport;
    if (transport === null || this.readyState !== ReadyState.OPEN) {
      this.discarded += payloadSize(payload);
      return;
    }
    const queue = this.queue;
    if ((queue !== null && !queue.empty) || payload instanceof Blob) {
      this.queue ??= new SendQueue(this);
      this.queue.push(payload, payloadSize(payload));
      return;
    }
    transport.send(payload);
  }

  /** Starts the closing handshake, or fails the connection while CONNECTING (WHATWG "close the WebSocket"). */
  close(code: number | undefined, reason: string): void {
    const state = this.readyState;
    if (state === ReadyState.CLOSING || state === ReadyState.CLOSED) return;
    if (state === ReadyState.CONNECTING) {
      this.state = ReadyState.CLOSING;
      const message = 'close() was called before the connection was established';
      this.connector?.abort(new ClientError('ERR_CLOSED_WHILE_CONNECTING', message));
      return;
    }
    // WHATWG: a reason without a code is sent with 1000.
    const status = code === undefined && reason !== '' ? CloseCode.NORMAL : code;
    if (this.queue !== null && !this.queue.empty) {
      this.deferredClose = { code: status, reason };
      return;
    }
    this.transport!.close(status, reason);
  }

  /** Sends a ping; false when not open. */
  ping(payload?: string | Uint8Array): boolean {
    return this.readyState === ReadyState.OPEN && this.transport!.ping(payload);
  }

  /** Sends a pong; false when not open. */
  pong(payload?: string | Uint8Array): boolean {
    return this.readyState === ReadyState.OPEN && this.transport!.pong(payload);
  }

  /** Cuts the connection without a closing handshake (close code 1006). */
  terminate(): void {
    if (this.transport !== null) this.transport.terminate();
    else this.close(undefined, '');
  }

  // --- ConnectorSink -----------------------------------------------------------------------------------

  /** @internal */
  onHandshake(socket: Socket, outcome: HandshakeOutcome, rest: Buffer): void {
    this.connector = null;
    this.protocol = outcome.protocol;
    this.extensions = outcome.extensionsHeader;
    const transport = new SocketTransport(socket, this, this.config.transport, outcome.extensions);
    this.transport = transport;
    this.target.dispatchEvent(new Event('open'));
    // Frames that came with the response are parsed only now, after 'open'.
    transport.start(rest);
  }

  /** @internal */
  onConnectError(error: Error): void {
    this.connector = null;
    // After close(), events come in a later task, as WHATWG queues them; failures come from I/O anyway.
    if (this.state === ReadyState.CLOSING) process.nextTick(() => this.connectFailed(error));
    else this.connectFailed(error);
  }

  private connectFailed(error: Error): void {
    this.state = ReadyState.CLOSED;
    this.dispatchError(error);
    this.target.dispatchEvent(
      new CloseEvent('close', { code: CloseCode.ABNORMAL, reason: '', wasClean: false }),
    );
  }

  // --- TransportSink -----------------------------------------------------------------------------------

  /** @internal */
  onMessage(data: Buffer, isBinary: boolean): void {
    const value = isBinary ? binaryMessage(data, this.binaryType) : data.toString('utf8');
    this.target.dispatchEvent(new MessageEvent('message', { data: value, origin: this.origin }));
  }

  /** @internal */
  onPing(payload: Buffer): void {
    this.target.dispatchEvent(new MessageEvent('ping', { data: payload }));
  }

  /** @internal */
  onPong(payload: Buffer): void {
    this.target.dispatchEvent(new MessageEvent('pong', { data: payload }));
  }

  /** @internal */
  onDrain(): void {
    this.target.dispatchEvent(new Event('drain'));
  }

  /** @internal A protocol violation, a transport limit or a heartbeat timeout is ending the connection. */
  onError(error: ProtocolError | TransportError): void {
    this.dropQueue();
    this.dispatchError(error);
  }

  /**
   * @internal The TCP connection closed. WHATWG's close code is the one of the close frame received;
   * without one the connection was not closed cleanly and the code is 1006 (RFC 6455 §7.1.5, §7.4.1).
   */
  onClose(code: number, reason: string): void {
    this.dropQueue();
    const clean = this.transport!.protocol.closeReceived;
    const init = clean
      ? { code, reason, wasClean: true }
      : { code: CloseCode.ABNORMAL, reason: '', wasClean: false };
    this.target.dispatchEvent(new CloseEvent('close', init));
  }

  // --- SendQueueSink -----------------------------------------------------------------------------------

  /** @internal */
  sendQueued(data: string | Uint8Array): void {
    const transport = this.transport;
    if (transport !== null && transport.readyState === ReadyState.OPEN) transport.send(data);
    else this.discarded += payloadSize(data);
  }

  /** @internal Everything before a deferred close was sent: close now. */
  queueEmptied(): void {
    const deferred = this.deferredClose;
    if (deferred === null) return;
    this.deferredClose = null;
    this.transport!.close(deferred.code, deferred.reason);
  }

  /** @internal */
  queueFailed(error: Error): void {
    this.deferredClose = null;
    this.dispatchError(error);
    this.transport?.close(CloseCode.INTERNAL_ERROR, 'could not read a Blob to send');
  }

  private dropQueue(): void {
    this.deferredClose = null;
    this.queue?.clear();
  }

  /** The WHATWG standard fires one `error` event per connection at most. */
  private dispatchError(error: Error): void {
    if (this.errorDispatched) return;
    this.errorDispatched = true;
    this.target.dispatchEvent(new ErrorEvent('error', { error, message: error.message }));
  }
}
