/**
 * The connection under test: a {@link WebSocketProtocol} with a recording handler, fed under any chunking,
 * and the assertions the suite makes about how a connection ends (RFC 6455 §5.5.1, §7.1.7). Separate from
 * frame building and decoding, which it only uses.
 * @module
 */
import assert from 'node:assert/strict';
import { WebSocketProtocol } from '../../src/protocol/connection.js';
import type { ProtocolError } from '../../src/protocol/errors.js';
import type { ProtocolOptions, Role } from '../../src/protocol/types.js';
import { type Chunking, chunk, decodeText, joinBytes } from './harness-bytes.js';
import { type DecodedFrame, decodeFrames, OP, parseClose } from './harness-frames.js';

/** What a protocol reported, in order. */
export type ProtocolEvent =
  | { kind: 'message'; data: Uint8Array; isBinary: boolean }
  | { kind: 'ping'; payload: Uint8Array }
  | { kind: 'pong'; payload: Uint8Array }
  | { kind: 'close'; code: number; reason: string }
  | { kind: 'error'; error: ProtocolError };

/**
 * A protocol connection under test with a recording handler. `role` is the role of the connection
 * under test: a 'server' peer receives masked client frames.
 */
export class Peer {
  readonly protocol: WebSocketProtocol;
  readonly events: ProtocolEvent[] = [];
  readonly writes: Uint8Array[] = [];
  /** The message buffers exactly as handed out, to check later that they were not reused. */
  private readonly views: { view: Uint8Array; copy: Uint8Array }[] = [];
  private forwarded = 0;

  constructor(
    readonly role: Role,
    options: Omit<ProtocolOptions, 'role'> = {},
  ) {
    this.protocol = new WebSocketProtocol(
      {
        // Copies: the protocol may reuse or share what it hands out (prepared frames, views of chunks).
        write: (data) => this.writes.push(data.slice()),
        onMessage: (data, isBinary) => {
          const copy = data.slice();
          this.views.push({ view: data, copy });
          this.events.push({ kind: 'message', data: copy, isBinary });
        },
        onPing: (payload) => this.events.push({ kind: 'ping', payload: payload.slice() }),
        onPong: (payload) => this.events.push({ kind: 'pong', payload: payload.slice() }),
        onClose: (code, reason) => this.events.push({ kind: 'close', code, reason }),
        onError: (error) => this.events.push({ kind: 'error', error }),
      },
      { role, ...options },
    );
  }

  /** Feeds frames (joined into one stream) under a chunking; each piece is a fresh copy. */
  feed(data: Uint8Array | Uint8Array[], chunking: Chunking = 'whole', seed = 7): this {
    const stream = Array.isArray(data) ? joinBytes(data) : data;
    for (const piece of chunk(stream, chunking, seed)) this.protocol.receive(piece.slice());
    return this;
  }

  /** Complete messages received, in order. */
  get messages(): { data: Uint8Array; isBinary: boolean }[] {
    return this.events.flatMap((e) => (e.kind === 'message' ? [{ data: e.data, isBinary: e.isBinary }] : []));
  }

  /** Text messages received, decoded. */
  get texts(): string[] {
    return this.messages.filter((m) => !m.isBinary).map((m) => decodeText(m.data));
  }

  get errors(): ProtocolError[] {
    return this.events.flatMap((e) => (e.kind === 'error' ? [e.error] : []));
  }

  /** Event kinds in order, e.g. `['message', 'ping', 'error']`. */
  get kinds(): string[] {
    return this.events.map((e) => e.kind);
  }

  /** Everything written so far, decoded into frames. */
  written(): DecodedFrame[] {
    return decodeFrames(joinBytes(this.writes));
  }

  /** Decoded frames written with the given opcode. */
  writtenOf(opcode: number): DecodedFrame[] {
    return this.written().filter((f) => f.opcode === opcode);
  }

  /** The close frames written, decoded. */
  closesWritten(): { code: number; reason: string }[] {
    return this.writtenOf(OP.CLOSE).map((f) => parseClose(f.payload));
  }

  /**
   * ProtocolHandler.onMessage: a message's bytes "stay valid" after delivery. Checks that no buffer
   * handed out was later overwritten (by a reused reassembly or inflate buffer, or in-place unmasking).
   */
  assertMessagesIntact(): void {
    this.views.forEach(({ view, copy }, i) => {
      assert.ok(Buffer.from(view).equals(Buffer.from(copy)), `message ${i} was modified after delivery`);
    });
  }

  /** Clears recorded writes and events (the protocol keeps its state). */
  reset(): void {
    this.writes.length = 0;
    this.events.length = 0;
    this.views.length = 0;
    this.forwarded = 0;
  }

  /** Feeds what this peer wrote since the last call to `to`, under a chunking: a wire between them. */
  forward(to: Peer, chunking: Chunking = 'whole', seed = 7): void {
    const pending = this.writes.slice(this.forwarded);
    this.forwarded = this.writes.length;
    if (pending.length > 0) to.feed(pending, chunking, seed);
  }
}

/**
 * RFC 6455 §5.5.1: after its close frame an endpoint sends no more data frames and no second close. The
 * only frame allowed later is a pong: §5.5.2 requires answering pings until the peer's close arrives.
 */
export function assertNothingAfterClose(peer: Peer): void {
  const frames = peer.written();
  const index = frames.findIndex((f) => f.opcode === OP.CLOSE);
  if (index < 0) return;
  const after = frames.slice(index + 1).map((f) => f.opcode);
  assert.deepEqual(
    after.filter((opcode) => opcode !== OP.PONG),
    [],
    'frames other than pongs were written after the close frame',
  );
}

/**
 * The connection was failed (RFC 6455 §7.1.7): exactly one error with `closeCode`, a close frame with that
 * code as the last thing written, no event after the error, and the state CLOSED.
 */
export function assertFailed(peer: Peer, closeCode: number, errorCode?: string): void {
  const errors = peer.errors;
  assert.equal(errors.length, 1, `expected one error, got ${peer.kinds.join(',')}`);
  assert.equal(errors[0]!.closeCode, closeCode, `error ${errors[0]!.code}: ${errors[0]!.message}`);
  if (errorCode !== undefined) assert.equal(errors[0]!.code, errorCode);
  assert.equal(peer.kinds.at(-1), 'error', 'an event followed the error');
  const closes = peer.closesWritten();
  assert.equal(closes.length, 1, 'expected exactly one close frame written');
  assert.equal(closes[0]!.code, closeCode);
  assertNothingAfterClose(peer);
  assert.equal(peer.protocol.readyState, 3);
}

/** The peer's close was answered with `code` (RFC 6455 §5.5.1) and no error was reported. */
export function assertEchoedClose(peer: Peer, code: number): void {
  assert.deepEqual(peer.errors, []);
  const closes = peer.closesWritten();
  assert.equal(closes.length, 1, 'expected exactly one close frame written');
  assert.equal(closes[0]!.code, code);
  assertNothingAfterClose(peer);
}
