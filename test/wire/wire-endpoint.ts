/**
 * One side of a WebSocket connection played by the wire suite over a real TCP socket, after the opening
 * handshake: it writes crafted frames (whole, or cut into timed writes) and reads what the peer under test
 * sends back, frame by frame or as Autobahn-style events (messages, pings, pongs, close), noting when the
 * peer closes TCP. Every wait is bounded; every frame from the peer is checked for RFC 6455 §5 mistakes.
 * @module
 */
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { FrameBuilder, joinBytes, OP } from '../conformance/harness.js';
import { FrameParser, frameViolation, type WireFrame } from './wire-frames.js';

/** What the peer under test did, in the terms Autobahn compares cases in. */
export type WireEvent =
  | { type: 'message'; binary: boolean; payload: Uint8Array; compressed: boolean; frames: number }
  | { type: 'ping' | 'pong'; payload: Uint8Array }
  | { type: 'close'; code: number; reason: Uint8Array }
  | { type: 'eof' };

/** Undoes permessage-deflate on one received message (RFC 7692 §7.2.2). */
export type MessageInflater = (payload: Uint8Array) => Promise<Uint8Array>;

/** Default bound of every wait, in ms. */
export const WAIT_MS = 2000;

/** The close codes a peer may put on the wire (RFC 6455 §7.4.1, §7.4.2 and the IANA registry). */
export function isSendableCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

/** Close codes a peer may send: RFC 6455 §7.4.1 (1000–1003, 1007–1011), IANA (1012–1014), §7.4.2 (3000–4999). */
export const VALID_CLOSE_CODES: readonly number[] = [
  1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999,
];

/** Close codes reserved, not to be sent, unassigned or out of range (RFC 6455 §7.4). */
export const INVALID_CLOSE_CODES: readonly number[] = [
  0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535,
];

/** Our side of a connection; `peerIsServer` tells which role the code under test plays. */
export class WireEndpoint {
  /** Frames received, in order. */
  readonly frames: WireFrame[] = [];
  /** RFC violations seen in what the peer sent. */
  readonly violations: string[] = [];
  /** Builds frames for our role: masked when we play the client (RFC 6455 §5.3). */
  readonly build: FrameBuilder;
  /** RSV bits the peer may set (RSV1 once permessage-deflate is negotiated). */
  allowedRsv = 0;
  /** Inflates compressed messages when permessage-deflate is negotiated. */
  inflate: MessageInflater | null = null;
  /** performance.now() when the peer ended (FIN) or the socket closed; null while open. */
  endedAt: number | null = null;
  closeFrameAt: number | null = null;

  private readonly parser = new FrameParser();
  private cursor = 0;
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly socket: Socket,
    readonly peerIsServer: boolean,
    head: Uint8Array,
    seed = 17,
  ) {
    this.build = new FrameBuilder(peerIsServer, seed);
    socket.on('data', (chunk: Buffer) => this.received(chunk));
    socket.on('end', () => this.ended());
    socket.on('close', () => this.ended());
    // ECONNRESET or EPIPE after the peer closed: 'close' follows, which is what the cases judge.
    socket.on('error', () => {});
    if (head.length > 0) this.received(head);
  }

  /** True once the peer closed its side of the TCP connection (or the socket is gone). */
  get tcpClosed(): boolean {
    return this.endedAt !== null;
  }

  /** Writes frames in one TCP write. */
  write(...frames: Uint8Array[]): void {
    this.writeFrames(frames);
  }

  /** Writes a list of frames (any length: no argument spreading) in one TCP write. */
  writeFrames(frames: readonly Uint8Array[]): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(joinBytes(frames));
  }

  /** Writes `bytes` in pieces of the given sizes (the last repeats) with `pauseMs` between writes. */
  async writeChunked(bytes: Uint8Array, sizes: number | number[], pauseMs = 0): Promise<void> {
    const list = typeof sizes === 'number' ? [sizes] : sizes;
    let offset = 0;
    for (let i = 0; offset < bytes.length; i++) {
      const size = list[Math.min(i, list.length - 1)]!;
      this.write(bytes.subarray(offset, offset + size));
      offset += size;
      if (offset < bytes.length && pauseMs > 0) await sleep(pauseMs);
      else if (i % 64 === 63) await sleep(0); // let the socket drain without a pause
    }
  }

  /** The next frame, or null when the peer closed TCP first; rejects after `timeoutMs`. */
  nextFrame(timeoutMs = WAIT_MS): Promise<WireFrame | null> {
    return this.waitFor(
      () => {
        if (this.cursor < this.frames.length) return this.frames[this.cursor++]!;
        return this.endedAt !== null ? null : undefined;
      },
      timeoutMs,
      'a frame',
    );
  }

  /** The next message, ping, pong or close (data frames reassembled, inflated when compressed). */
  async nextEvent(timeoutMs = WAIT_MS): Promise<WireEvent> {
    const deadline = performance.now() + timeoutMs;
    const first = await this.nextFrame(timeoutMs);
    if (first === null) return { type: 'eof' };
    if (first.opcode === OP.PING || first.opcode === OP.PONG) {
      return { type: first.opcode === OP.PING ? 'ping' : 'pong', payload: first.payload };
    }
    if (first.opcode === OP.CLOSE) return closeEvent(first.payload);
    const parts = [first.payload];
    let last = first;
    // Control frames may come between fragments; none of this suite's peers interleaves them, so any
    // frame other than a continuation here is reported as a violation of RFC 6455 §5.4.
    while (!last.fin) {
      const frame = await this.nextFrame(Math.max(1, deadline - performance.now()));
      if (frame === null) return { type: 'eof' };
      if (frame.opcode !== OP.CONT)
        this.violations.push(`opcode ${frame.opcode} inside a fragmented message`);
      parts.push(frame.payload);
      last = frame;
    }
    const compressed = (first.rsv & 0x40) !== 0;
    let payload = joinBytes(parts);
    if (compressed) {
      if (this.inflate === null) this.violations.push('RSV1 message without permessage-deflate');
      else payload = await this.inflate(payload);
    }
    return { type: 'message', binary: first.opcode === OP.BINARY, payload, compressed, frames: parts.length };
  }

  /** Resolves true once the peer closed TCP, false when `timeoutMs` passed first. */
  waitTcpClosed(timeoutMs = WAIT_MS): Promise<boolean> {
    return this.waitFor(() => (this.endedAt !== null ? true : undefined), timeoutMs, '').catch(() => false);
  }

  /** Waits `ms` and returns the frames that arrived meanwhile (they are consumed). */
  async framesWithin(ms: number): Promise<WireFrame[]> {
    await sleep(ms);
    const got = this.frames.slice(this.cursor);
    this.cursor = this.frames.length;
    return got;
  }

  /** Closes our side of TCP (FIN). */
  end(): void {
    this.socket.end();
  }

  /** Drops the socket. */
  destroy(): void {
    this.socket.destroy();
    for (const wake of this.waiters) wake();
  }

  private received(chunk: Uint8Array): void {
    for (const frame of this.parser.push(chunk)) {
      if (this.closeFrameAt !== null)
        this.violations.push(`frame (opcode ${frame.opcode}) after a close frame`);
      const problem = frameViolation(frame, this.peerIsServer, this.allowedRsv);
      if (problem !== null) this.violations.push(problem);
      if (frame.opcode === OP.CLOSE) this.checkClose(frame.payload);
      this.frames.push(frame);
    }
    this.wake();
  }

  private checkClose(payload: Uint8Array): void {
    this.closeFrameAt = performance.now();
    const event = closeEvent(payload);
    if (payload.length === 1) this.violations.push('close frame with a 1-byte payload');
    else if (payload.length >= 2 && !isSendableCloseCode(event.code)) {
      this.violations.push(`close code ${event.code} may not be sent (RFC 6455 §7.4)`);
    }
  }

  private ended(): void {
    this.endedAt ??= performance.now();
    this.wake();
  }

  private wake(): void {
    for (const wake of this.waiters) wake();
  }

  private waitFor<T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    const now = check();
    if (now !== undefined) return Promise.resolve(now);
    return new Promise<T>((resolve, reject) => {
      const wake = (): void => {
        const value = check();
        if (value === undefined && !this.socket.destroyed) return;
        this.waiters.delete(wake);
        clearTimeout(timer);
        if (value === undefined) reject(new Error(`socket destroyed while waiting for ${what}`));
        else resolve(value);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(wake);
        reject(new Error(`no ${what} from the peer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.add(wake);
    });
  }
}

function closeEvent(payload: Uint8Array): Extract<WireEvent, { type: 'close' }> {
  if (payload.length < 2) return { type: 'close', code: 1005, reason: new Uint8Array(0) };
  return { type: 'close', code: (payload[0]! << 8) | payload[1]!, reason: payload.subarray(2) };
}
