/**
 * Test harness of the conformance suite. It builds raw frames byte by byte (independently of the
 * project's frame writer, so the suite does not trust the code under test), feeds them to a
 * {@link WebSocketProtocol} under any chunking, and records what comes out: events in order, and the
 * written bytes decoded back into frames.
 * @module
 */
import assert from 'node:assert/strict';
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { WebSocketProtocol } from '../../src/protocol/connection.js';
import type { ProtocolError } from '../../src/protocol/errors.js';
import type { Extension, ExtensionParams } from '../../src/protocol/extension.js';
import { parseExtensions, serializeExtensions } from '../../src/protocol/extension-header.js';
import { type PerMessageDeflateOptions, perMessageDeflate } from '../../src/protocol/permessage-deflate.js';
import type { ProtocolOptions, Role } from '../../src/protocol/types.js';

/** Opcodes, written out here rather than imported so the suite checks the constants too (RFC 6455 §5.2). */
export const OP = { CONT: 0x0, TEXT: 0x1, BINARY: 0x2, CLOSE: 0x8, PING: 0x9, PONG: 0xa } as const;
/** Reserved bits of the first header byte. */
export const RSV1 = 0x40;
export const RSV2 = 0x20;
export const RSV3 = 0x10;

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true });

/** A small seeded PRNG (xorshift32): reproducible "random" chunkings, payloads and masking keys. */
export function prng(seed: number): () => number {
  // Spread the seed so that nearby seeds start far apart; xorshift needs a non-zero state.
  let state = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 0x100000000;
  };
}

/** `n` pseudo-random bytes from `seed`. */
export function randomBytes(n: number, seed = n): Uint8Array {
  const next = prng(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (next() * 256) | 0;
  return out;
}

/** The UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Bytes from hex digits; spaces are ignored. */
export function hex(digits: string): Uint8Array {
  const clean = digits.replace(/\s+/g, '');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Decodes bytes as UTF-8, throwing on invalid input (so a test notices corrupt text). */
export function decodeText(bytes: Uint8Array): string {
  return strictDecoder.decode(bytes);
}

/** Joins byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  return joinBytes(parts);
}

/** Joins a list of byte arrays (any length: no argument spreading). */
export function joinBytes(parts: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const part of parts) size += part.length;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Everything a raw frame may say, including what a conforming sender never would. */
export interface FrameSpec {
  opcode: number;
  payload?: Uint8Array | string;
  /** Default true. */
  fin?: boolean;
  /** Reserved bits as they sit in the first byte (RSV1 = 0x40, RSV2 = 0x20, RSV3 = 0x10). */
  rsv?: number;
  /** `true`: a masking key from the builder; bytes: that key; `false`: unmasked. */
  mask?: boolean | Uint8Array;
  /** Force a length form (7, 16 or 64 bits) even when it is not the minimal one (RFC 6455 §5.2). */
  lengthForm?: 7 | 16 | 64;
  /** Declared payload length when it should differ from the payload's real length. */
  length?: number;
  /** Raw upper 32 bits of a 64-bit length (to set its most significant bit). */
  lengthHigh?: number;
}

function writeLength(out: number[], masked: boolean, length: number, spec: FrameSpec): void {
  const form = spec.lengthForm ?? (length < 126 ? 7 : length < 0x10000 ? 16 : 64);
  const maskBit = masked ? 0x80 : 0;
  if (form === 7) {
    out.push(maskBit | length);
  } else if (form === 16) {
    out.push(maskBit | 126, (length >>> 8) & 0xff, length & 0xff);
  } else {
    const high = spec.lengthHigh ?? Math.floor(length / 0x100000000);
    const low = length >>> 0;
    out.push(maskBit | 127, high >>> 24, (high >>> 16) & 0xff, (high >>> 8) & 0xff, high & 0xff);
    out.push(low >>> 24, (low >>> 16) & 0xff, (low >>> 8) & 0xff, low & 0xff);
  }
}

/** Builds raw frames; a masking builder plays a client, an unmasked one a server (RFC 6455 §5.1, §5.3). */
export class FrameBuilder {
  private readonly nextKey: () => number;

  constructor(
    readonly masked: boolean,
    seed = 1,
  ) {
    this.nextKey = prng(seed);
  }

  /** A frame exactly as `spec` describes it. */
  raw(spec: FrameSpec): Uint8Array {
    const payload =
      typeof spec.payload === 'string' ? utf8(spec.payload) : (spec.payload ?? new Uint8Array(0));
    const key = this.keyFor(spec.mask ?? this.masked);
    const header: number[] = [((spec.fin ?? true) ? 0x80 : 0) | (spec.rsv ?? 0) | spec.opcode];
    writeLength(header, key !== null, spec.length ?? payload.length, spec);
    if (key !== null) header.push(...key);
    const frame = new Uint8Array(header.length + payload.length);
    frame.set(header, 0);
    frame.set(payload, header.length);
    if (key !== null) {
      for (let i = 0; i < payload.length; i++) frame[header.length + i]! ^= key[i & 3]!;
    }
    return frame;
  }

  text(payload: Uint8Array | string, extra: Partial<FrameSpec> = {}): Uint8Array {
    return this.raw({ opcode: OP.TEXT, payload, ...extra });
  }

  binary(payload: Uint8Array | string, extra: Partial<FrameSpec> = {}): Uint8Array {
    return this.raw({ opcode: OP.BINARY, payload, ...extra });
  }

  cont(payload: Uint8Array | string, extra: Partial<FrameSpec> = {}): Uint8Array {
    return this.raw({ opcode: OP.CONT, payload, ...extra });
  }

  ping(payload: Uint8Array | string = '', extra: Partial<FrameSpec> = {}): Uint8Array {
    return this.raw({ opcode: OP.PING, payload, ...extra });
  }

  pong(payload: Uint8Array | string = '', extra: Partial<FrameSpec> = {}): Uint8Array {
    return this.raw({ opcode: OP.PONG, payload, ...extra });
  }

  /** A close frame with a status code (as two bytes) and reason; no code gives an empty payload. */
  close(code?: number, reason: Uint8Array | string = '', extra: Partial<FrameSpec> = {}): Uint8Array {
    const why = typeof reason === 'string' ? utf8(reason) : reason;
    const payload = code === undefined ? why : concat(new Uint8Array([code >>> 8, code & 0xff]), why);
    return this.raw({ opcode: OP.CLOSE, payload, ...extra });
  }

  /** A message split into frames of the given payload sizes (the last size repeats until the end). */
  fragmented(
    opcode: number,
    payload: Uint8Array,
    sizes: number[],
    extra: Partial<FrameSpec> = {},
  ): Uint8Array[] {
    const frames: Uint8Array[] = [];
    let offset = 0;
    let index = 0;
    do {
      const size = sizes[Math.min(index, sizes.length - 1)]!;
      const end = Math.min(offset + size, payload.length);
      const first = offset === 0;
      const piece = payload.subarray(offset, end);
      const spec = { ...extra, rsv: first ? extra.rsv : 0 };
      frames.push(
        this.raw({ ...spec, opcode: first ? opcode : OP.CONT, payload: piece, fin: end === payload.length }),
      );
      offset = end;
      index++;
    } while (offset < payload.length);
    return frames;
  }

  private keyFor(mask: boolean | Uint8Array): Uint8Array | null {
    if (mask === false) return null;
    if (mask !== true) return mask;
    // A zero key would hide masking mistakes; draw until one has no zero byte.
    const key = new Uint8Array(4);
    for (let i = 0; i < 4; i++) key[i] = 1 + ((this.nextKey() * 255) | 0);
    return key;
  }
}

/** How a byte stream is cut before it reaches `receive`. */
export type Chunking = 'whole' | number | 'random' | readonly number[];

/** Cuts `data` into pieces: whole, fixed-size, random sizes from `seed`, or an explicit size list. */
export function chunk(data: Uint8Array, chunking: Chunking = 'whole', seed = 7): Uint8Array[] {
  if (chunking === 'whole') return [data];
  const pieces: Uint8Array[] = [];
  const next = prng(seed);
  let offset = 0;
  let index = 0;
  while (offset < data.length) {
    let size: number;
    if (typeof chunking === 'number') size = chunking;
    else if (chunking === 'random') size = 1 + Math.floor(next() * Math.min(4096, 1 + data.length / 3));
    else size = chunking[Math.min(index, chunking.length - 1)]!;
    pieces.push(data.subarray(offset, offset + size));
    offset += size;
    index++;
  }
  return pieces;
}

/** One frame decoded from bytes a protocol wrote. */
export interface DecodedFrame {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  maskKey: Uint8Array | null;
  /** Unmasked payload. */
  payload: Uint8Array;
}

function readFrameLength(data: Uint8Array, pos: number): { length: number; next: number } {
  const len7 = data[pos]! & 0x7f;
  if (len7 < 126) return { length: len7, next: pos + 1 };
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (len7 === 126) return { length: view.getUint16(pos + 1), next: pos + 3 };
  return { length: Number(view.getBigUint64(pos + 1)), next: pos + 9 };
}

/** Decodes a byte stream into frames; the stream must end on a frame boundary. */
export function decodeFrames(data: Uint8Array): DecodedFrame[] {
  const frames: DecodedFrame[] = [];
  let pos = 0;
  while (pos < data.length) {
    const b0 = data[pos]!;
    const masked = (data[pos + 1]! & 0x80) !== 0;
    const { length, next } = readFrameLength(data, pos + 1);
    let start = next;
    let maskKey: Uint8Array | null = null;
    if (masked) {
      maskKey = data.slice(start, start + 4);
      start += 4;
    }
    assert.ok(start + length <= data.length, 'written bytes end inside a frame');
    const payload = data.slice(start, start + length);
    if (maskKey !== null) for (let i = 0; i < length; i++) payload[i]! ^= maskKey[i & 3]!;
    frames.push({ fin: (b0 & 0x80) !== 0, rsv: b0 & 0x70, opcode: b0 & 0x0f, masked, maskKey, payload });
    pos = start + length;
  }
  return frames;
}

/** The status code and reason of a close frame payload; code 1005 when the payload is empty. */
export function parseClose(payload: Uint8Array): { code: number; reason: string } {
  if (payload.length < 2) return { code: 1005, reason: '' };
  return { code: (payload[0]! << 8) | payload[1]!, reason: decodeText(payload.subarray(2)) };
}

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

/** A client-role frame builder (masks) and a server-role one (does not). */
export const fromClient = new FrameBuilder(true, 11);
export const fromServer = new FrameBuilder(false, 13);

/** The trailing bytes a sender removes from a compressed message (RFC 7692 §7.2.1). */
const DEFLATE_TAIL = Uint8Array.of(0x00, 0x00, 0xff, 0xff);

/**
 * Compresses a message with node:zlib the way RFC 7692 §7.2.1 describes, independently of the code
 * under test: a sync flush with the trailing 00 00 ff ff removed, or (`bfinal`) a finished stream whose
 * last block has BFINAL set (§7.2.3.4).
 */
export function deflateMessage(payload: Uint8Array, windowBits = 15, bfinal = false): Uint8Array {
  const flush = bfinal ? constants.Z_FINISH : constants.Z_SYNC_FLUSH;
  const out = new Uint8Array(deflateRawSync(payload, { windowBits, finishFlush: flush }));
  return bfinal ? out : out.subarray(0, out.length - 4);
}

/**
 * Inflates compressed message payloads with node:zlib and a window of `windowBits`: one stream over all
 * messages when the sender may use context takeover, a fresh one per message otherwise. zlib refuses
 * back-references beyond its window, so this also checks the sender kept to the negotiated window and
 * to no_context_takeover (RFC 7692 §7.1.1, §7.1.2).
 */
export function inflateMessages(payloads: Uint8Array[], windowBits: number, takeover: boolean): Uint8Array[] {
  // Small output chunks: zlib only checks distances against the window for bytes of earlier chunks.
  const options = { windowBits, finishFlush: constants.Z_SYNC_FLUSH, chunkSize: 64 };
  if (!takeover) return payloads.map((p) => new Uint8Array(inflateRawSync(concat(p, DEFLATE_TAIL), options)));
  const joined = inflateRawSync(joinBytes(payloads.flatMap((p) => [p, DEFLATE_TAIL])), options);
  return [new Uint8Array(joined)];
}

/** A message as it went over the wire: opcode and RSV bits of its first frame, payload joined. */
export interface WireMessage {
  opcode: number;
  rsv: number;
  payload: Uint8Array;
  frames: number;
}

/** Groups decoded data frames into messages (control frames are skipped). */
export function wireMessages(frames: DecodedFrame[]): WireMessage[] {
  const messages: WireMessage[] = [];
  let current: { opcode: number; rsv: number; parts: Uint8Array[] } | null = null;
  for (const frame of frames) {
    if (frame.opcode >= 0x8) continue;
    current ??= { opcode: frame.opcode, rsv: frame.rsv, parts: [] };
    current.parts.push(frame.payload);
    if (frame.fin) {
      messages.push({
        opcode: current.opcode,
        rsv: current.rsv,
        payload: joinBytes(current.parts),
        frames: current.parts.length,
      });
      current = null;
    }
  }
  return messages;
}

/** The outcome of a permessage-deflate negotiation. */
export interface DeflatePair {
  client: Extension;
  server: Extension;
  /** The server's response parameters, as the client read them from the header. */
  response: ExtensionParams;
}

/**
 * Negotiates permessage-deflate like a handshake would: the client's offer and the server's response
 * go through the Sec-WebSocket-Extensions header syntax (RFC 6455 §9.1, RFC 7692 §7.1).
 */
export function negotiateDeflate(
  clientOptions: PerMessageDeflateOptions = {},
  serverOptions: PerMessageDeflateOptions = {},
): DeflatePair {
  const clientFactory = perMessageDeflate(clientOptions);
  const serverFactory = perMessageDeflate(serverOptions);
  const offerHeader = serializeExtensions(
    clientFactory.offer().map((params) => ({ name: clientFactory.name, params })),
  );
  const offers = parseExtensions(offerHeader).filter((o) => o.name === serverFactory.name);
  const accepted = serverFactory.accept(offers.map((o) => o.params));
  assert.ok(accepted, `the server declined ${offerHeader}`);
  const [answer] = parseExtensions(
    serializeExtensions([{ name: serverFactory.name, params: accepted.params }]),
  );
  const response = { ...answer!.params };
  return { client: clientFactory.confirm(response), server: accepted.extension, response };
}
