/**
 * Incremental frame parsing for the wire suite: bytes arrive from a real socket in whatever pieces TCP
 * delivers, so frames are cut out of a chunk list without re-copying what is buffered (a 16 MiB echo
 * arrives in hundreds of chunks). Every frame the peer under test wrote is also checked against the
 * RFC 6455 §5.2 rules a strict fuzzer would notice (masking direction, minimal length, control frames).
 * @module
 */
import type { DecodedFrame } from '../conformance/harness.js';

/** A frame as read from the wire, with how its length was encoded. */
export interface WireFrame extends DecodedFrame {
  /** 7, 16 or 64: the length form the sender chose (RFC 6455 §5.2 asks for the minimal one). */
  lengthForm: 7 | 16 | 64;
}

interface Header {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  maskKey: Uint8Array | null;
  length: number;
  lengthForm: 7 | 16 | 64;
}

function headerSize(secondByte: number): number {
  const len7 = secondByte & 0x7f;
  const base = len7 < 126 ? 2 : len7 === 126 ? 4 : 10;
  return (secondByte & 0x80) !== 0 ? base + 4 : base;
}

function parseHeader(bytes: Uint8Array): Header {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len7 = bytes[1]! & 0x7f;
  let length = len7;
  let lengthForm: 7 | 16 | 64 = 7;
  let pos = 2;
  if (len7 === 126) {
    length = view.getUint16(2);
    lengthForm = 16;
    pos = 4;
  } else if (len7 === 127) {
    length = Number(view.getBigUint64(2));
    lengthForm = 64;
    pos = 10;
  }
  const masked = (bytes[1]! & 0x80) !== 0;
  return {
    fin: (bytes[0]! & 0x80) !== 0,
    rsv: bytes[0]! & 0x70,
    opcode: bytes[0]! & 0x0f,
    masked,
    maskKey: masked ? bytes.slice(pos, pos + 4) : null,
    length,
    lengthForm,
  };
}

/** Cuts frames out of a byte stream delivered in arbitrary chunks. */
export class FrameParser {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private header: Header | null = null;

  /** Adds received bytes; returns the frames they completed. */
  push(chunk: Uint8Array): WireFrame[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: WireFrame[] = [];
    for (let frame = this.next(); frame !== null; frame = this.next()) frames.push(frame);
    return frames;
  }

  /** Bytes received that do not make a complete frame yet. */
  get pending(): number {
    return this.buffered;
  }

  private next(): WireFrame | null {
    if (this.header === null) {
      if (this.buffered < 2) return null;
      const size = headerSize(this.peek(2)[1]!);
      if (this.buffered < size) return null;
      this.header = parseHeader(this.take(size));
    }
    const header = this.header;
    if (this.buffered < header.length) return null;
    this.header = null;
    const payload = this.take(header.length).slice();
    const key = header.maskKey;
    if (key !== null) for (let i = 0; i < payload.length; i++) payload[i]! ^= key[i & 3]!;
    const { length: _length, ...rest } = header;
    return { ...rest, payload };
  }

  private peek(n: number): Uint8Array {
    const first = this.chunks[0]!;
    if (first.length >= n) return first.subarray(0, n);
    const out = new Uint8Array(n);
    let filled = 0;
    for (const chunk of this.chunks) {
      const part = chunk.subarray(0, n - filled);
      out.set(part, filled);
      filled += part.length;
      if (filled === n) break;
    }
    return out;
  }

  private take(n: number): Uint8Array {
    this.buffered -= n;
    const first = this.chunks[0];
    if (n === 0) return new Uint8Array(0);
    if (first !== undefined && first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[0]!;
      const part = chunk.subarray(0, n - filled);
      out.set(part, filled);
      filled += part.length;
      if (part.length === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(part.length);
    }
    return out;
  }
}

/** What a frame from the peer under test breaks of RFC 6455 §5, or null when it is well formed. */
export function frameViolation(frame: WireFrame, fromServer: boolean, allowedRsv: number): string | null {
  // RFC 6455 §5.1: a server never masks, a client always does.
  if (fromServer && frame.masked) return 'a server frame is masked (RFC 6455 §5.1)';
  if (!fromServer && !frame.masked) return 'a client frame is not masked (RFC 6455 §5.1)';
  const length = frame.payload.length;
  // RFC 6455 §5.2: "the minimal number of bytes MUST be used to encode the length".
  const minimal = length < 126 ? 7 : length < 0x10000 ? 16 : 64;
  if (frame.lengthForm !== minimal)
    return `payload length ${length} encoded in the ${frame.lengthForm}-bit form`;
  if (frame.opcode >= 0x8) {
    if (frame.opcode > 0xa) return `reserved control opcode ${frame.opcode}`;
    if (!frame.fin) return 'fragmented control frame (RFC 6455 §5.5)';
    if (length > 125) return 'control frame over 125 bytes (RFC 6455 §5.5)';
    if (frame.rsv !== 0) return 'RSV bits on a control frame';
    return null;
  }
  if (frame.opcode > 0x2) return `reserved data opcode ${frame.opcode}`;
  if ((frame.rsv & ~allowedRsv) !== 0) return `RSV bits 0x${frame.rsv.toString(16)} not negotiated`;
  if (frame.opcode === 0 && frame.rsv !== 0) return 'RSV1 on a continuation frame (RFC 7692 §6.1)';
  return null;
}
