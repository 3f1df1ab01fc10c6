/**
 * The incremental frame parser and message assembler (RFC 6455 §5). It accepts any chunking of the
 * input, handles every complete frame of a chunk in one pass, never consumes a partial frame header, and
 * unmasks, decompresses and validates payload piece by piece as it arrives, so that invalid UTF-8 fails
 * in the very chunk where it appears and memory stays bounded by the limits.
 * @module
 */
import { CloseCode, Opcode } from './constants.js';
import { ProtocolError } from './errors.js';
import type { Extension } from './extension.js';
import { checkFrameHeader, type FrameContext } from './frame-checks.js';
import type { Allocate } from './frame-writer.js';
import { mask, unmask } from './mask.js';
import { Utf8Validator } from './utf8.js';

const EMPTY = new Uint8Array(0);
const TWO_POW_32 = 0x100000000;
/** Largest frame header: 2 + 8 (64-bit length) + 4 (masking key) bytes (RFC 6455 §5.2). */
const MAX_HEADER = 14;
/**
 * The masking key in the form `unmask` takes, filled from a receiver's number just before each call and
 * shared by every receiver (unmasking is synchronous), so that a connection holds no typed array for it.
 */
const KEY = new Uint8Array(4);

/** Reads the 4-byte masking key at `k` as one unsigned 32-bit number (RFC 6455 §5.2, §5.3). */
function readMaskKey(buf: Uint8Array, k: number): number {
  return ((buf[k]! << 24) | (buf[k + 1]! << 16) | (buf[k + 2]! << 8) | buf[k + 3]!) >>> 0;
}

/** Unmasks `piece` with the key held as a number; `offset` is the piece's position in the payload. */
function unmaskWith(piece: Uint8Array, key: number, offset: number): void {
  KEY[0] = key >>> 24;
  KEY[1] = (key >>> 16) & 0xff;
  KEY[2] = (key >>> 8) & 0xff;
  KEY[3] = key & 0xff;
  unmask(piece, KEY, offset);
}

/**
 * Writes `piece` unmasked into `target` at `targetOffset`; `offset` is the piece's position in the payload
 * (RFC 6455 §5.3: byte i uses key byte i mod 4, so the key is rotated to start at `offset`).
 */
function unmaskInto(piece: Uint8Array, key: number, offset: number, target: Uint8Array, at: number): void {
  const rotated = offset & 3 ? ((key << (8 * (offset & 3))) | (key >>> (32 - 8 * (offset & 3)))) >>> 0 : key;
  KEY[0] = rotated >>> 24;
  KEY[1] = (rotated >>> 16) & 0xff;
  KEY[2] = (rotated >>> 8) & 0xff;
  KEY[3] = rotated & 0xff;
  mask(piece, KEY, target, at);
}

/** Where the receiver delivers what it parsed. */
export interface ReceiverSink {
  /** A complete, validated data message. */
  message(data: Uint8Array, isBinary: boolean): void;
  /** A complete control frame (close, ping or pong). */
  control(opcode: number, payload: Uint8Array): void;
}

/** Settings of a {@link Receiver}; limits are already resolved to numbers. */
export interface ReceiverOptions {
  server: boolean;
  maxFrameSize: number;
  maxMessageSize: number;
  extensions: readonly Extension[];
  allocate: Allocate;
}

function concatBytes(a: Uint8Array, b: Uint8Array, allocate: Allocate): Uint8Array {
  const out = allocate(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** Size of a frame header from its second byte (RFC 6455 §5.2). */
function headerLength(secondByte: number): number {
  const len7 = secondByte & 0x7f;
  const base = len7 < 126 ? 2 : len7 === 126 ? 4 : 10;
  return secondByte & 0x80 ? base + 4 : base;
}

function readLength(buf: Uint8Array, p: number, len7: number): number {
  if (len7 < 126) return len7;
  if (len7 === 126) {
    const length = (buf[p]! << 8) | buf[p + 1]!;
    if (length < 126) throw new ProtocolError('ERR_NON_MINIMAL_LENGTH', 'non-minimal 16-bit length (§5.2)');
    return length;
  }
  const high = ((buf[p]! << 24) | (buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!) >>> 0;
  const low = ((buf[p + 4]! << 24) | (buf[p + 5]! << 16) | (buf[p + 6]! << 8) | buf[p + 7]!) >>> 0;
  // RFC 6455 §5.2: the most significant bit of a 64-bit length must be 0.
  if (high >= 0x80000000) throw new ProtocolError('ERR_LENGTH_64BIT', '64-bit length with its top bit set');
  const length = high * TWO_POW_32 + low;
  if (length < 0x10000) throw new ProtocolError('ERR_NON_MINIMAL_LENGTH', 'non-minimal 64-bit length (§5.2)');
  return length;
}

/** Parses frames for one connection. Create one per connection; feed it with {@link receive}. */
export class Receiver implements FrameContext {
  /** Set to stop parsing, even in the middle of a chunk (close received, connection failed). */
  stopped = false;
  /** See {@link pause}. */
  paused = false;
  /** Bytes received while paused (bounded by what the transport read before it stopped reading). */
  private held: Uint8Array | null = null;
  readonly server: boolean;
  readonly maxFrameSize: number;
  readonly allowedRsv: number;
  /** RSV bits of {@link Extension.opaque} extensions: their messages stay encoded, unchecked as text. */
  private readonly opaqueRsv: number;
  messageOpcode = 0;

  private readonly maxMessageSize: number;
  private readonly extensions: readonly Extension[];
  private readonly allocate: Allocate;
  private readonly sink: ReceiverSink;
  // An incomplete header carried over from the previous chunk (allocated the first time a header is split).
  private scratch: Uint8Array | null = null;
  private scratchLength = 0;
  // The frame whose payload is being read; the masking key as a number, not a typed array (memory).
  private maskKey = 0;
  private inPayload = false;
  private fin = false;
  private opcode = 0;
  private masked = false;
  private frameLength = 0;
  private frameReceived = 0;
  // The data message being assembled: one view while it has one piece, then a growing buffer.
  private messageRsv = 0;
  private messageSize = 0;
  private first: Uint8Array | null = null;
  private buffer: Uint8Array | null = null;
  private validator: Utf8Validator | null = null;
  // A control frame whose payload spans chunks.
  private control: Uint8Array | null = null;
  private controlLength = 0;

  constructor(options: ReceiverOptions, sink: ReceiverSink) {
    this.server = options.server;
    this.maxFrameSize = options.maxFrameSize;
    this.maxMessageSize = options.maxMessageSize;
    this.extensions = options.extensions;
    this.allocate = options.allocate;
    this.sink = sink;
    let rsv = 0;
    let opaque = 0;
    for (const extension of options.extensions) {
      rsv |= extension.rsv;
      if (extension.opaque === true) opaque |= extension.rsv;
    }
    this.allowedRsv = rsv;
    this.opaqueRsv = opaque;
  }

  /**
   * Parses a chunk of received bytes. Masked payloads are unmasked in place, so the chunk is modified.
   * Throws a ProtocolError when the peer breaks the protocol or a limit.
   */
  receive(chunk: Uint8Array): void {
    if (this.held !== null) {
      // Still paused with bytes held back: keep the order by queueing behind them.
      this.held = concatBytes(this.held, chunk, this.allocate);
      return;
    }
    const end = chunk.length;
    let pos = 0;
    while (pos < end && !this.stopped) {
      if (this.paused) {
        this.held = chunk.subarray(pos);
        return;
      }
      pos = this.inPayload ? this.readPayload(chunk, pos) : this.readHeader(chunk, pos);
    }
  }

  /**
   * Stops parsing after the message, frame piece or control frame being delivered, even in the middle of
   * a chunk; the rest is held until {@link resume}. The transport pauses when the application falls
   * behind, so that one chunk full of messages cannot queue unbounded replies.
   */
  pause(): void {
    this.paused = true;
  }

  /** Parses what {@link pause} held back; events may be delivered before this returns. */
  resume(): void {
    this.paused = false;
    const held = this.held;
    this.held = null;
    if (held !== null) this.receive(held);
  }

  private readHeader(chunk: Uint8Array, pos: number): number {
    const available = chunk.length - pos;
    // Fast path: the whole header is in this chunk.
    if (this.scratchLength === 0 && available >= 2) {
      const size = headerLength(chunk[pos + 1]!);
      if (available >= size) {
        this.parseHeader(chunk, pos);
        return pos + size;
      }
    }
    this.scratch ??= new Uint8Array(MAX_HEADER);
    const scratch = this.scratch;
    while (pos < chunk.length) {
      scratch[this.scratchLength++] = chunk[pos++]!;
      if (this.scratchLength >= 2 && this.scratchLength === headerLength(scratch[1]!)) {
        this.scratchLength = 0;
        this.parseHeader(scratch, 0);
        break;
      }
    }
    return pos;
  }

  private parseHeader(buf: Uint8Array, p: number): void {
    const b0 = buf[p]!;
    const b1 = buf[p + 1]!;
    const fin = (b0 & 0x80) !== 0;
    const rsv = b0 & 0x70;
    const opcode = b0 & 0x0f;
    const masked = (b1 & 0x80) !== 0;
    const len7 = b1 & 0x7f;
    const length = readLength(buf, p + 2, len7);
    checkFrameHeader(this, fin, rsv, opcode, masked, length);
    if (masked) this.maskKey = readMaskKey(buf, p + headerLength(b1) - 4);
    this.fin = fin;
    this.opcode = opcode;
    this.masked = masked;
    this.frameLength = length;
    this.frameReceived = 0;
    if (opcode < 0x8) this.startDataFrame(rsv, opcode, length);
    if (length > 0) this.inPayload = true;
    else if (opcode >= 0x8) this.sink.control(opcode, EMPTY);
    else this.dataPiece(EMPTY, true);
  }

  private startDataFrame(rsv: number, opcode: number, length: number): void {
    if (opcode !== Opcode.CONTINUATION) {
      this.messageOpcode = opcode;
      this.messageRsv = rsv;
      this.messageSize = 0;
      if (opcode === Opcode.TEXT) this.validator ??= new Utf8Validator();
    }
    // Without decompression the final size is known early: refuse before buffering anything.
    if (this.messageRsv === 0 && this.messageSize + length > this.maxMessageSize) this.tooBig();
  }

  private readPayload(chunk: Uint8Array, pos: number): number {
    const take = Math.min(this.frameLength - this.frameReceived, chunk.length - pos);
    const piece = chunk.subarray(pos, pos + take);
    if (this.masked && this.opcode < 0x8 && this.messageRsv === 0) {
      // A message that spans chunks must be copied anyway: unmask while copying (one pass less).
      if (this.buffer !== null || this.frameReceived + take < this.frameLength) {
        this.unmaskIntoMessage(piece);
        return pos + take;
      }
    }
    if (this.masked) unmaskWith(piece, this.maskKey, this.frameReceived);
    this.frameReceived += take;
    const frameDone = this.frameReceived === this.frameLength;
    if (frameDone) this.inPayload = false;
    if (this.opcode >= 0x8) this.controlPiece(piece, frameDone);
    else this.dataPiece(piece, frameDone);
    return pos + take;
  }

  /** Unmasks a piece of an uncompressed data frame straight into the message buffer. */
  private unmaskIntoMessage(piece: Uint8Array): void {
    const offset = this.messageSize;
    const size = offset + piece.length;
    if (size > this.maxMessageSize) this.tooBig();
    const keyOffset = this.frameReceived;
    this.frameReceived += piece.length;
    if (this.buffer === null || this.buffer.length < size) this.grow(offset, size);
    const target = this.buffer!;
    unmaskInto(piece, this.maskKey, keyOffset, target, offset);
    this.messageSize = size;
    const frameDone = this.frameReceived === this.frameLength;
    if (frameDone) this.inPayload = false;
    // RFC 6455 §8.1: fail as soon as the text can no longer be valid UTF-8.
    if (this.messageOpcode === Opcode.TEXT && !this.validator!.feed(target.subarray(offset, size))) {
      this.invalidUtf8();
    }
    if (frameDone && this.fin) this.finishMessage();
  }

  private controlPiece(piece: Uint8Array, frameDone: boolean): void {
    if (frameDone && this.controlLength === 0) {
      this.sink.control(this.opcode, piece);
      return;
    }
    this.control ??= new Uint8Array(125);
    this.control.set(piece, this.controlLength);
    this.controlLength += piece.length;
    if (frameDone) {
      const payload = this.control.slice(0, this.controlLength);
      this.controlLength = 0;
      this.sink.control(this.opcode, payload);
    }
  }

  private dataPiece(piece: Uint8Array, frameDone: boolean): void {
    const last = frameDone && this.fin;
    const data = this.messageRsv === 0 ? piece : this.decode(piece, last);
    if (data.length > 0) {
      // RFC 6455 §8.1: fail as soon as the text can no longer be valid UTF-8 (unless it is still encoded).
      if (this.checksText() && !this.validator!.feed(data)) this.invalidUtf8();
      this.append(data);
    }
    if (last) this.finishMessage();
  }

  /** True while receiving a text message whose bytes are its text (not left encoded by an opaque extension). */
  private checksText(): boolean {
    return this.messageOpcode === Opcode.TEXT && (this.messageRsv & this.opaqueRsv) === 0;
  }

  private decode(piece: Uint8Array, last: boolean): Uint8Array {
    let data = piece;
    // Incoming messages undo the extensions in the reverse of their negotiated order (RFC 6455 §9.1).
    for (let i = this.extensions.length - 1; i >= 0; i--) {
      const extension = this.extensions[i]!;
      if ((this.messageRsv & extension.rsv) === 0) continue;
      try {
        data = extension.decode(data, last, this.maxMessageSize - this.messageSize);
      } catch (error) {
        if (error instanceof ProtocolError) throw error;
        const reason = error instanceof Error ? error.message : String(error);
        throw new ProtocolError('ERR_EXTENSION', `${extension.name}: ${reason}`, CloseCode.INVALID_PAYLOAD);
      }
    }
    return data;
  }

  private append(data: Uint8Array): void {
    const filled = this.messageSize;
    const size = filled + data.length;
    if (size > this.maxMessageSize) this.tooBig();
    this.messageSize = size;
    if (this.buffer === null && this.first === null) {
      this.first = data;
      return;
    }
    if (this.buffer === null || this.buffer.length < size) this.grow(filled, size);
    this.buffer!.set(data, filled);
  }

  /** Moves the message into a buffer with room for at least `size` bytes. */
  private grow(filled: number, size: number): void {
    // The last frame of an uncompressed message tells exactly how much is still to come; otherwise double.
    const exact = this.fin && this.messageRsv === 0;
    const wanted = exact ? size + this.frameLength - this.frameReceived : Math.max(size * 2, 1024);
    const next = this.allocate(Math.max(size, Math.min(wanted, this.maxMessageSize)));
    const current = this.buffer ?? this.first;
    if (current !== null && filled > 0) next.set(current.subarray(0, filled), 0);
    this.first = null;
    this.buffer = next;
  }

  private finishMessage(): void {
    const isBinary = this.messageOpcode === Opcode.BINARY;
    if (this.checksText() && !this.validator!.end()) this.invalidUtf8();
    const data = this.buffer ? this.buffer.subarray(0, this.messageSize) : (this.first ?? EMPTY);
    this.messageOpcode = 0;
    this.messageRsv = 0;
    this.messageSize = 0;
    this.first = null;
    this.buffer = null;
    this.sink.message(data, isBinary);
  }

  private tooBig(): never {
    throw new ProtocolError('ERR_MESSAGE_TOO_BIG', 'message over the size limit', CloseCode.MESSAGE_TOO_BIG);
  }

  private invalidUtf8(): never {
    throw new ProtocolError('ERR_INVALID_UTF8', 'invalid UTF-8 in a text message', CloseCode.INVALID_PAYLOAD);
  }
}
