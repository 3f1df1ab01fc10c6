/**
 * Tells an HTTP/2 connection with prior knowledge (h2c, RFC 9113 §3.3) from an HTTP/1.1 one on a
 * cleartext port by its first bytes: HTTP/2 starts with the client connection preface
 * `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n` (RFC 9113 §3.4), which no HTTP/1.1 request starts with.
 * @module
 */
import { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import { ignoreSocketError } from '../transport/pending-handshake.js';
import { type TimerWheel, UNSCHEDULED, type WheelEntry } from '../transport/timer-wheel.js';

/** The client connection preface (RFC 9113 §3.4). */
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** Where a sniffed socket goes, with the bytes read from it so far. */
export interface PrefaceSink {
  http1(sniffer: PrefaceSniffer, head: Buffer): void;
  http2(sniffer: PrefaceSniffer, head: Buffer): void;
  /** The socket closed or timed out before it said which. */
  abandoned(sniffer: PrefaceSniffer): void;
}

/** Watches one socket until its first bytes tell which protocol it speaks. */
export class PrefaceSniffer implements WheelEntry {
  wheelNext: WheelEntry | null = null;
  wheelPrev: WheelEntry | null = null;
  wheelSlot = UNSCHEDULED;
  wheelRounds = 0;
  readonly socket: Socket;
  private readonly sink: PrefaceSink;
  private readonly wheel: TimerWheel;
  private head: Buffer = Buffer.alloc(0);
  private done = false;

  /** Starts reading; `timeout` (ms, 0 for none) bounds the wait for enough bytes. */
  constructor(socket: Socket, sink: PrefaceSink, wheel: TimerWheel, timeout: number) {
    this.socket = socket;
    this.sink = sink;
    this.wheel = wheel;
    socket.on('error', ignoreSocketError);
    socket.on('data', this.onData);
    socket.once('close', this.onClose);
    if (timeout > 0) wheel.schedule(this, timeout);
  }

  /** @internal Too slow to say anything: cut (as the handshake timeout would). */
  onTimeout(): void {
    this.socket.destroy();
  }

  private readonly onData = (chunk: Buffer): void => {
    this.head = this.head.length === 0 ? chunk : Buffer.concat([this.head, chunk]);
    const length = Math.min(this.head.length, PREFACE.length);
    const matches = this.head.subarray(0, length).equals(PREFACE.subarray(0, length));
    if (matches && length < PREFACE.length) return; // could still be either: wait for more
    this.finish();
    if (matches) this.sink.http2(this, this.head);
    else this.sink.http1(this, this.head);
  };

  private readonly onClose = (): void => {
    if (this.done) return;
    this.finish();
    this.sink.abandoned(this);
  };

  private finish(): void {
    this.done = true;
    this.wheel.cancel(this);
    const socket = this.socket;
    socket.removeListener('data', this.onData);
    socket.removeListener('close', this.onClose);
    socket.removeListener('error', ignoreSocketError);
    // The socket keeps flowing: the sink attaches its own 'data' listener before this tick ends.
  }
}
