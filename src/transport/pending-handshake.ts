/**
 * A socket between TCP accept (or an `http.Server` 'upgrade' event) and the end of its opening handshake:
 * it reads the HTTP/1.1 request head incrementally (standalone listener), bounds the whole handshake in
 * time on the shared timer wheel (the slowloris cut), and notices a socket that goes away meanwhile.
 * @module
 */
import type { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import { HandshakeError } from '../protocol/errors.js';
import { type HttpRequestHead, HttpRequestParser } from '../protocol/http-head.js';
import { kSocketOwner, type OwnedSocket, setSocketOwner } from './socket-owner.js';
import { asBuffer } from './socket-transport.js';
import { type TimerWheel, UNSCHEDULED, type WheelEntry } from './timer-wheel.js';

/** Receives the outcome of a {@link PendingHandshake}. */
export interface HandshakeSink {
  /** The request head is complete; the socket is paused, `rest` holds the bytes that followed the head. */
  onRequestHead(pending: PendingHandshake, head: HttpRequestHead, rest: Buffer): void;
  /** The head is malformed (400) or too large (431). The socket is paused; answer and close it. */
  onRequestError(pending: PendingHandshake, error: HandshakeError): void;
  /** The socket closed, or the handshake timed out (socket destroyed), before {@link PendingHandshake.finish}. */
  onHandshakeAbort(pending: PendingHandshake): void;
}

/** Swallows socket errors during the handshake: the 'close' that follows does the cleanup. */
export function ignoreSocketError(): void {}

/** One handshake in progress. */
export class PendingHandshake implements WheelEntry {
  readonly socket: Socket;
  /** True once {@link finish} was called or the handshake was aborted. */
  done = false;
  /** True when the handshake timeout cut the socket (rather than the client closing it). */
  timedOut = false;
  wheelNext: WheelEntry | null = null;
  wheelPrev: WheelEntry | null = null;
  wheelSlot = UNSCHEDULED;
  wheelRounds = 0;
  private readonly sink: HandshakeSink;
  private readonly wheel: TimerWheel;
  private parser: HttpRequestParser | null;

  /**
   * Starts watching `socket`. With a `maxHeaderSize` the request head is read from the socket (standalone
   * listener); with `null` the head was already parsed by `node:http` and only the timer and the socket's
   * liveness are watched. `timeout` (ms, 0 for none) bounds the time until {@link finish}.
   */
  constructor(
    socket: Socket,
    sink: HandshakeSink,
    wheel: TimerWheel,
    timeout: number,
    maxHeaderSize: number | null,
  ) {
    this.socket = socket;
    this.sink = sink;
    this.wheel = wheel;
    this.parser = maxHeaderSize === null ? null : new HttpRequestParser({ maxHeaderSize });
    setSocketOwner(socket, this);
    socket.on('error', ignoreSocketError);
    socket.on('close', onPendingClose);
    if (this.parser !== null) socket.on('data', onPendingData);
    if (timeout > 0) wheel.schedule(this, timeout);
  }

  /** The handshake is over (101 written, or rejected): stop the timer and stop watching the socket. */
  finish(): void {
    if (this.done) return;
    this.done = true;
    this.wheel.cancel(this);
    this.socket.removeListener('close', onPendingClose);
    this.stopReading();
  }

  /** @internal The handshake timeout: cut the connection (slowloris). */
  onTimeout(): void {
    this.timedOut = true;
    this.socket.destroy();
  }

  private stopReading(): void {
    if (this.parser === null) return;
    this.parser = null;
    this.socket.removeListener('data', onPendingData);
    // Keep further bytes (the first frames) in the kernel until the connection is set up or rejected.
    this.socket.pause();
  }

  /** @internal Bytes of the request head. */
  onData(chunk: Buffer): void {
    const parser = this.parser;
    if (parser === null) return;
    let result: ReturnType<HttpRequestParser['feed']>;
    try {
      result = parser.feed(chunk);
    } catch (error) {
      this.stopReading();
      if (!(error instanceof HandshakeError)) throw error;
      this.sink.onRequestError(this, error);
      return;
    }
    if (result === null) return;
    this.stopReading();
    this.sink.onRequestHead(this, result.head, asBuffer(result.rest));
  }

  /** @internal The socket closed. */
  onClose(): void {
    if (this.done) return;
    this.done = true;
    this.wheel.cancel(this);
    this.stopReading();
    this.sink.onHandshakeAbort(this);
  }
}

// Shared listeners: a handshake costs no closures (see socket-owner.ts).
function onPendingData(this: OwnedSocket<PendingHandshake>, chunk: Buffer): void {
  this[kSocketOwner].onData(chunk);
}

function onPendingClose(this: OwnedSocket<PendingHandshake>): void {
  this[kSocketOwner].onClose();
}
