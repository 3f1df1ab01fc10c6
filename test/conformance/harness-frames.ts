/**
 * Raw WebSocket frames for the conformance suite: a builder that writes frames byte by byte (independently
 * of the project's frame writer, so the suite does not trust the code under test, and able to write what
 * a conforming sender never would), and a decoder for the bytes a protocol wrote. Separate from the peer,
 * which only feeds and records, so the wire format is checked in one place.
 * @module
 */
import assert from 'node:assert/strict';
import { concat, decodeText, joinBytes, prng, utf8 } from './harness-bytes.js';

/** Opcodes, written out here rather than imported so the suite checks the constants too (RFC 6455 §5.2). */
export const OP = { CONT: 0x0, TEXT: 0x1, BINARY: 0x2, CLOSE: 0x8, PING: 0x9, PONG: 0xa } as const;
/** Reserved bits of the first header byte. */
export const RSV1 = 0x40;
export const RSV2 = 0x20;
export const RSV3 = 0x10;

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

/** A client-role frame builder (masks) and a server-role one (does not). */
export const fromClient = new FrameBuilder(true, 11);
export const fromServer = new FrameBuilder(false, 13);

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
