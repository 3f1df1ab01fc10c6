/**
 * Runs a sans-I/O {@link WebSocketProtocol} over a `net.Socket` or `tls.TLSSocket`: received chunks go
 * to the protocol, frames it produces go to the socket batched per tick, and the transport owns flow
 * control (`bufferedAmount`, high/low water marks, read pausing, the `maxBackpressure` policy), the
 * closing of the TCP connection; its timers come from {@link ConnectionTimers}.
 * @module
 */
import { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import type { TransportMetrics } from '../observability/metric-types.js';
import { type SendOptions, WebSocketProtocol } from '../protocol/connection.js';
import { CloseCode, ReadyState } from '../protocol/constants.js';
import type { ProtocolError } from '../protocol/errors.js';
import type { Extension } from '../protocol/extension.js';
import type { PreparedMessage } from '../protocol/prepared-message.js';
import type { ProtocolHandler } from '../protocol/types.js';
import { ConnectionTimers } from './connection-timers.js';
import { TransportError, type TransportErrorCode } from './errors.js';
import { allocateFrame } from './frame-pool.js';
import { installNodeAccelerators } from './node-accelerators.js';
import type { TransportConfig } from './options.js';
import {
  addToBatch,
  type BatchTarget,
  batchedBytes,
  batchOwner,
  flushBatch,
  receiveBatched,
} from './receive-batch.js';
import { releasableExtensions } from './releasable.js';
import { type SendCallback, SendCallbacks } from './send-callbacks.js';
import { listen } from './socket-listeners.js';
import type { TransportSink } from './transport-sink.js';
import { flushNow, holdForTick } from './write-batcher.js';

installNodeAccelerators();

export type { TransportSink } from './transport-sink.js';

/** Reasons to stop reading from the socket, as bits. */
const PAUSED_BACKPRESSURE = 1;
/** @internal The application asked to stop reading (see {@link SocketTransport.pauseReading}). */
export const PAUSED_APPLICATION = 2;

const NO_OPTIONS: SendOptions = Object.freeze({});
/** RST_STREAM error code CANCEL (RFC 9113 §7). */
const HTTP2_CANCEL = 0x8;

/**
 * What an `Http2Stream` (a WebSocket over HTTP/2, RFC 8441) has beyond the `net.Socket` API the transport
 * uses, and lacks of it: no `setNoDelay` (the session's socket owns Nagle), and `close(code)` to reset.
 */
interface MaybeHttp2Stream {
  setNoDelay?: Socket['setNoDelay'];
  close?: (code: number) => void;
}
/** Shared by every connection without extensions (most of them), instead of an empty array each. */
const NO_EXTENSIONS = Object.freeze([]) as unknown as Extension[];
/** UTF-8 bytes of `text`, after `room` spare bytes for a frame header (see `ProtocolInternals`). */
function encodeUtf8(text: string, room = 0): Buffer {
  if (room === 0) return Buffer.from(text, 'utf8');
  const out = allocateFrame(room + Buffer.byteLength(text, 'utf8'));
  out.write(text, room, 'utf8');
  return out;
}

/** A Buffer over the same memory as `view`, without copying. */
export function asBuffer(view: Uint8Array): Buffer {
  return Buffer.isBuffer(view) ? view : Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

/** Counts one message sent. */
function countSent(metrics: TransportMetrics, isBinary: boolean): void {
  (isBinary ? metrics.binaryMessagesSent : metrics.textMessagesSent).inc();
}

/** One WebSocket connection over one socket, after the opening handshake. */
export class SocketTransport extends ConnectionTimers implements ProtocolHandler, BatchTarget {
  /** OPEN, CLOSING once a close frame was sent or received, CLOSED once the socket closed. */
  readyState: ReadyState = ReadyState.OPEN;
  readonly socket: Socket;
  readonly protocol: WebSocketProtocol;
  /** Counters of the server (or client) this connection belongs to; null when metrics are off. */
  readonly metrics: TransportMetrics | null;
  /** @internal Frames held until the end of the tick (see write-batcher.ts); owned by the batcher. */
  held: Uint8Array[] | null = null;
  /** @internal Bytes in {@link held}. */
  heldBytes = 0;
  /** True when this end started the closing (close(), a protocol failure, a limit, terminate()). */
  closedLocally = false;

  private readonly sink: TransportSink;
  private needDrain = false;
  private paused = 0;
  private ending = false;
  /** Bytes handed to the socket since the start; `bytesQueued - writableLength` have been flushed. */
  private bytesQueued = 0;
  /** Track write completion (a send callback is pending, or the high water mark was passed). */
  private tracking = false;
  private callbacks: SendCallbacks | null = null;
  /** The close code we failed the connection with, when the protocol failed it. */
  private failCode = 0;

  constructor(
    socket: Socket,
    sink: TransportSink,
    config: TransportConfig,
    negotiated: Extension[] = NO_EXTENSIONS,
  ) {
    const extensions = negotiated.length === 0 ? NO_EXTENSIONS : negotiated;
    super(config, extensions === NO_EXTENSIONS ? null : releasableExtensions(extensions));
    this.socket = socket;
    this.sink = sink;
    this.metrics = config.metrics;
    this.protocol = new WebSocketProtocol(this, {
      role: config.role,
      extensions,
      maxFrameSize: config.maxPayload,
      maxMessageSize: config.maxPayload,
      autoPong: config.autoPong,
      allocate: Buffer.allocUnsafe,
      allocateFrame,
      encodeText: encodeUtf8,
    });
  }

  /**
   * Takes over the socket: listens to it, starts the timers and parses `head` (bytes that arrived with
   * the handshake). Call after the application could attach its listeners.
   */
  start(head?: Uint8Array): void {
    const socket = this.socket as Socket & MaybeHttp2Stream;
    if (socket.setNoDelay !== undefined) socket.setNoDelay(true);
    // Clear an idle timeout set by an http.Server; calling it unconditionally would add a `timeout`
    // property (memory) to every socket of the standalone listener, which never had one.
    if (socket.timeout) socket.setTimeout(0);
    listen(socket, this);
    this.startTimers();
    if (head !== undefined && head.length > 0) {
      this.metrics?.bytesReceived.inc(head.length);
      receiveBatched(this, head);
    }
    if (this.paused === 0 && this.readyState !== ReadyState.CLOSED) socket.resume();
  }

  /** Bytes written to the socket and not yet flushed to the kernel. */
  get bufferedAmount(): number {
    return this.socket.writableLength + this.unwrittenBytes();
  }

  /** Bytes counted in `bytesQueued` that the socket has not been handed yet (tick and receive batches). */
  private unwrittenBytes(): number {
    return this.heldBytes + batchedBytes(this);
  }

  /**
   * Sends a message (strings are text unless `options.binary`). Returns false when the message was not
   * sent (the connection is closing, or the backpressure policy refused it; `callback` then gets the
   * error) or when `bufferedAmount` reached the high water mark: wait for the sink's `onDrain`.
   * `callback` runs once the message was handed to the kernel, or with an error.
   */
  send(data: string | Uint8Array, options: SendOptions = NO_OPTIONS, callback?: SendCallback): boolean {
    if (!this.admit(callback)) return false;
    this.lastActivity = this.config.wheel.now;
    // Strings go through as strings: the protocol encodes them (with `encodeText`) and knows they are UTF-8.
    if (callback === undefined) {
      this.protocol.send(data, options);
    } else {
      this.tracking = true;
      this.protocol.send(data, options);
      this.addCallback(callback);
    }
    if (this.metrics !== null) {
      countSent(this.metrics, options.binary === undefined ? typeof data !== 'string' : options.binary);
    }
    return !this.needDrain;
  }

  /** Sends a {@link PreparedMessage} (frame bytes shared with every other receiver). Same result as `send`. */
  sendPrepared(message: PreparedMessage, callback?: SendCallback): boolean {
    if (!this.admit(callback)) return false;
    this.lastActivity = this.config.wheel.now;
    if (callback !== undefined) this.tracking = true;
    this.protocol.sendPrepared(message);
    if (callback !== undefined) this.addCallback(callback);
    if (this.metrics !== null) countSent(this.metrics, message.isBinary);
    return !this.needDrain;
  }

  /** Sends a ping (at most 125 bytes, else RangeError). Returns false when the connection is closing. */
  ping(payload?: string | Uint8Array): boolean {
    if (this.readyState !== ReadyState.OPEN || !this.protocol.ping(payload)) return false;
    this.metrics?.pingsSent.inc();
    return true;
  }

  /** Sends a pong (at most 125 bytes, else RangeError). Returns false when the connection is closing. */
  pong(payload?: string | Uint8Array): boolean {
    if (this.readyState !== ReadyState.OPEN || !this.protocol.pong(payload)) return false;
    this.metrics?.pongsSent.inc();
    return true;
  }

  /**
   * Starts the closing handshake (RFC 6455 §7.1.2) and arms the close timeout. Throws a RangeError for a
   * code that must not be sent or a reason over 123 bytes. Returns false when already closing.
   */
  close(code?: number, reason?: string): boolean {
    if (this.readyState !== ReadyState.OPEN) return false;
    this.protocol.close(code, reason);
    this.closedLocally = true;
    this.enterClosing();
    return true;
  }

  /** Destroys the socket at once, without a closing handshake; the close code will be 1006. */
  terminate(): void {
    if (this.readyState === ReadyState.OPEN) {
      this.readyState = ReadyState.CLOSING;
      this.closedLocally = true;
    }
    this.cut();
  }

  /** Stops reading from the socket (for the application's own flow control) until {@link resumeReading}. */
  pauseReading(reason = PAUSED_APPLICATION): void {
    if (this.paused === 0) {
      this.socket.pause();
      // Also stop inside the chunk being parsed: it may hold many more messages.
      this.protocol.pause();
    }
    this.paused |= reason;
  }

  /** Undoes {@link pauseReading}. */
  resumeReading(reason = PAUSED_APPLICATION): void {
    if (this.paused === 0) return;
    this.paused &= ~reason;
    if (this.paused !== 0 || this.readyState === ReadyState.CLOSED) return;
    // Messages held back are delivered first; the application may pause again while handling them.
    this.protocol.resume();
    // Handling those messages may have closed the connection (TypeScript cannot see that).
    const state = this.readyState as ReadyState;
    if (this.paused === 0 && state !== ReadyState.CLOSED) this.socket.resume();
  }

  // --- ProtocolHandler ---------------------------------------------------------------------------------

  /**
   * @internal Writes one buffer of frame bytes: batched with the other replies to the chunk being parsed,
   * else with the rest of this tick's writes.
   */
  write(data: Uint8Array): void {
    const socket = this.socket;
    // `writableEnded`: Node ends a socket that does not allow half-open connections by itself (see listen).
    if (this.ending || this.readyState === ReadyState.CLOSED || socket.writableEnded) return;
    const length = data.byteLength;
    this.bytesQueued += length;
    this.metrics?.bytesSent.inc(length);
    if (batchOwner() === this) {
      addToBatch(data);
      // Near the high water mark: write out now, so that backpressure can pause parsing mid-chunk.
      const pending = socket.writableLength + batchedBytes(this);
      if (this.tracking || this.needDrain || pending >= this.config.highWaterMark) flushBatch();
      return;
    }
    holdForTick(this, data);
    // Near the high water mark: write out now, so that `send()` returns false as soon as
    // `bufferedAmount` reaches the mark and what the socket buffers is what counts.
    if (socket.writableLength + this.heldBytes >= this.config.highWaterMark) flushNow(this);
  }

  /** @internal Hands `data` (already counted in `bytesQueued`) to the socket. */
  writeOut(data: Uint8Array): void {
    const socket = this.socket;
    if (socket.destroyed) return;
    // Track the write that passes the high water mark and every write after it, so that one of their
    // completions sees the buffer fall to the low water mark.
    if (
      this.tracking ||
      this.needDrain ||
      socket.writableLength + data.byteLength >= this.config.highWaterMark
    ) {
      socket.write(data, this.writtenCallback());
    } else {
      socket.write(data);
    }
  }

  /** @internal Starts backpressure when the socket holds `highWaterMark` bytes or more. */
  checkBackpressure(): void {
    const socket = this.socket;
    if (this.needDrain || socket.destroyed) return;
    if (socket.writableLength >= this.config.highWaterMark) this.startBackpressure();
  }

  /** @internal Parses a received chunk (inside a write batch, see receive-batch.ts). */
  parseChunk(chunk: Uint8Array): void {
    this.protocol.receive(chunk);
  }

  /** @internal */
  onMessage(data: Uint8Array, isBinary: boolean): void {
    this.lastActivity = this.config.wheel.now;
    const metrics = this.metrics;
    if (metrics !== null) (isBinary ? metrics.binaryMessagesReceived : metrics.textMessagesReceived).inc();
    this.sink.onMessage(asBuffer(data), isBinary);
  }

  /** @internal */
  onPing(payload: Uint8Array): void {
    const metrics = this.metrics;
    if (metrics !== null) {
      metrics.pingsReceived.inc();
      // The protocol answers it itself, unless the peer's close came first (RFC 6455 §5.5.2).
      if (this.config.autoPong !== false && !this.protocol.closeReceived) metrics.pongsSent.inc();
    }
    this.sink.onPing(asBuffer(payload));
  }

  /** @internal */
  onPong(payload: Uint8Array): void {
    const answered = this.pongReceived();
    const metrics = this.metrics;
    if (metrics !== null) {
      metrics.pongsReceived.inc();
      if (answered) metrics.heartbeatRtt.observe(this.rtt / 1000);
    }
    this.sink.onPong(asBuffer(payload));
  }

  /** @internal The peer's close frame arrived (our reply, if due, is written). */
  onClose(): void {
    this.enterClosing();
    // RFC 6455 §7.1.1: once both close frames are exchanged the server closes the TCP connection first;
    // a client waits for the server to do it (the close timeout bounds the wait).
    if (this.config.role === 'server') this.endSocket();
  }

  /** @internal The peer broke the protocol; the close frame is written (RFC 6455 §7.1.7). */
  onError(error: ProtocolError): void {
    this.failCode = error.closeCode;
    if (this.readyState === ReadyState.OPEN) this.closedLocally = true;
    this.enterClosing();
    this.endSocket();
    this.sink.onError(error);
  }

  // --- Timers (see ConnectionTimers) -------------------------------------------------------------------

  protected isOpen(): boolean {
    return this.readyState === ReadyState.OPEN;
  }

  protected isBackpressured(): boolean {
    return (this.paused & PAUSED_BACKPRESSURE) !== 0;
  }

  protected sendPing(): void {
    this.protocol.ping();
    this.metrics?.pingsSent.inc();
  }

  protected heartbeatMissed(code: TransportErrorCode): void {
    this.sink.onError(new TransportError(code, 'The peer did not answer a ping in time'));
    this.terminate();
  }

  protected idleTimedOut(code: TransportErrorCode, closeCode: number, reason: string): void {
    this.closeFor(code, closeCode, reason);
  }

  protected closeTimedOut(): void {
    this.cut();
  }

  // --- Flow control and closing -------------------------------------------------------------------------

  /** Checks that a send may go ahead; applies the backpressure policy. */
  private admit(callback: SendCallback | undefined): boolean {
    if (this.readyState !== ReadyState.OPEN) {
      return this.refuse(callback, 'ERR_NOT_OPEN', 'The connection is closing or closed');
    }
    if (this.bufferedAmount <= this.config.maxBackpressure) return true;
    if (this.config.dropOnBackpressure) {
      this.metrics?.messagesDropped.inc();
      return this.refuse(callback, 'ERR_BACKPRESSURE_DROPPED', 'Message dropped: maxBackpressure exceeded');
    }
    this.closeFor('ERR_BACKPRESSURE_LIMIT', CloseCode.POLICY_VIOLATION, 'backpressure limit exceeded');
    return this.refuse(callback, 'ERR_BACKPRESSURE_LIMIT', 'Connection closed: maxBackpressure exceeded');
  }

  private refuse(callback: SendCallback | undefined, code: TransportErrorCode, message: string): false {
    if (callback !== undefined) process.nextTick(callback, new TransportError(code, message));
    return false;
  }

  /** Closes the connection because of a transport limit or timer and reports why. */
  private closeFor(code: TransportErrorCode, closeCode: number, reason: string): void {
    const error = new TransportError(code, `Connection closed with ${closeCode}: ${reason}`);
    this.close(closeCode, reason);
    this.sink.onError(error);
  }

  private addCallback(callback: SendCallback): void {
    this.callbacks ??= new SendCallbacks();
    this.callbacks.push(this.bytesQueued, callback);
  }

  private startBackpressure(): void {
    this.needDrain = true;
    this.metrics?.backpressureEvents.inc();
    // A server stops reading from a peer that does not read its replies, so that peer cannot make it
    // queue without bound. A client keeps reading, as browsers do: if both ends stopped reading while
    // their send buffers were full, an echo-style exchange of large messages would deadlock.
    if (this.config.role === 'server') this.pauseReading(PAUSED_BACKPRESSURE);
  }

  private enterClosing(): void {
    if (this.readyState !== ReadyState.OPEN) return;
    this.readyState = ReadyState.CLOSING;
    this.armCloseTimeout();
  }

  /**
   * Ends the connection at once. An HTTP/2 stream is reset with CANCEL first: RFC 8441 §5 maps a TCP reset
   * onto RST_STREAM(CANCEL), where a bare `destroy()` would send NO_ERROR.
   */
  private cut(): void {
    const socket = this.socket as Socket & MaybeHttp2Stream;
    if (socket.close !== undefined && !socket.destroyed) socket.close(HTTP2_CANCEL);
    socket.destroy();
  }

  /** Flushes what is queued, then half-closes (FIN, or END_STREAM); the socket closes when the peer ends too. */
  private endSocket(): void {
    if (this.ending) return;
    this.ending = true;
    flushNow(this);
    if (batchOwner() === this) flushBatch();
    this.socket.end();
  }

  // --- Socket events -------------------------------------------------------------------------------------

  /** Bound on first use: most connections never need write completions. */
  private onWritten: ((error?: Error | null) => void) | null = null;

  private writtenCallback(): (error?: Error | null) => void {
    this.onWritten ??= (error) => this.written(error);
    return this.onWritten;
  }

  private written(error: Error | null | undefined): void {
    if (error) return; // the 'close' handler fails what is pending
    const flushed = this.bytesQueued - this.socket.writableLength - this.unwrittenBytes();
    const callbacks = this.callbacks;
    if (callbacks !== null && callbacks.length > 0) {
      callbacks.runUpTo(flushed);
      this.tracking = callbacks.length > 0;
    } else {
      this.tracking = false;
    }
    if (this.needDrain && this.socket.writableLength <= this.config.lowWaterMark) {
      this.needDrain = false;
      this.resumeReading(PAUSED_BACKPRESSURE);
      this.sink.onDrain();
    }
  }

  /** @internal The peer half-closed: with or without a closing handshake, we are done (RFC 6455 §7.1.1). */
  socketEnded(): void {
    this.endSocket();
  }

  /** @internal The socket is closed (cleanly, reset, or destroyed by us). */
  socketClosed(): void {
    this.readyState = ReadyState.CLOSED;
    this.cancelTimers();
    const protocol = this.protocol;
    protocol.connectionLost();
    this.callbacks?.failAll(
      new TransportError('ERR_CONNECTION_CLOSED', 'The connection closed before the write'),
    );
    const code = protocol.closeReceived ? protocol.closeCode! : this.failCode || CloseCode.ABNORMAL;
    this.metrics?.closed(code, this.closedLocally ? 'local' : 'remote');
    this.sink.onClose(code, protocol.closeReceived ? protocol.closeReason : '');
  }
}
