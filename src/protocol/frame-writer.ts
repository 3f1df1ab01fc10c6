/**
 * Serializes frames (RFC 6455 §5.2): header with the shortest length form, and masking for the client role.
 * @module
 */
import { FIN, MASK_BIT } from './constants.js';
import { mask, maskWithWord } from './mask.js';

/** Payloads up to this size are copied next to their header so the frame goes out as one buffer. */
export const COALESCE_LIMIT = 4096;

/** Size of the header for a payload of `length` bytes (RFC 6455 §5.2: 7-, 16- or 64-bit length). */
export function headerSize(length: number, masked: boolean): number {
  const base = length < 126 ? 2 : length < 0x10000 ? 4 : 10;
  return masked ? base + 4 : base;
}

/**
 * Writes a frame header into `target` at `offset` and returns the offset just after it (where the masking
 * key ends, when `maskKey` is given).
 */
export function writeHeader(
  target: Uint8Array,
  offset: number,
  opcode: number,
  fin: boolean,
  rsv: number,
  length: number,
  maskKey?: Uint8Array,
): number {
  target[offset] = (fin ? FIN : 0) | rsv | opcode;
  const maskBit = maskKey ? MASK_BIT : 0;
  let pos = offset + 2;
  if (length < 126) {
    target[offset + 1] = maskBit | length;
  } else if (length < 0x10000) {
    target[offset + 1] = maskBit | 126;
    target[pos++] = length >>> 8;
    target[pos++] = length & 0xff;
  } else {
    target[offset + 1] = maskBit | 127;
    // Lengths stay below 2^53, so the high word fits in 21 bits and the 64th bit stays clear (§5.2).
    const high = Math.floor(length / 0x100000000);
    const low = length >>> 0;
    target[pos++] = 0;
    target[pos++] = (high >>> 16) & 0xff;
    target[pos++] = (high >>> 8) & 0xff;
    target[pos++] = high & 0xff;
    target[pos++] = low >>> 24;
    target[pos++] = (low >>> 16) & 0xff;
    target[pos++] = (low >>> 8) & 0xff;
    target[pos++] = low & 0xff;
  }
  if (maskKey) {
    target[pos] = maskKey[0]!;
    target[pos + 1] = maskKey[1]!;
    target[pos + 2] = maskKey[2]!;
    target[pos + 3] = maskKey[3]!;
    pos += 4;
  }
  return pos;
}

/**
 * Frames one payload masked with `key` (a 32-bit number, first key byte in the high bits) into a
 * single buffer: the client role's frame writer, which must copy the payload to mask it anyway.
 */
export function encodeMaskedFrame(
  allocate: Allocate,
  opcode: number,
  payload: Uint8Array,
  fin: boolean,
  rsv: number,
  key: number,
): Uint8Array {
  const length = payload.length;
  const frame = allocate(headerSize(length, true) + length);
  // The header without a key, then the mask bit and the key (RFC 6455 §5.2).
  let start = writeHeader(frame, 0, opcode, fin, rsv, length);
  frame[1] = frame[1]! | MASK_BIT;
  frame[start] = key >>> 24;
  frame[start + 1] = (key >>> 16) & 0xff;
  frame[start + 2] = (key >>> 8) & 0xff;
  frame[start + 3] = key & 0xff;
  start += 4;
  maskWithWord(payload, key, frame, start);
  return frame;
}

/** Allocator for outgoing buffers; the Node layers pass `Buffer.allocUnsafe`. */
export type Allocate = (size: number) => Uint8Array;

/**
 * Frames one payload into a single buffer: header and payload (masked with `maskKey` when given) copied
 * together. Suits small payloads and the client role, which must copy to mask anyway.
 */
export function encodeFrameBuffer(
  allocate: Allocate,
  opcode: number,
  payload: Uint8Array,
  fin: boolean,
  rsv: number,
  maskKey?: Uint8Array,
): Uint8Array {
  const length = payload.length;
  const frame = allocate(headerSize(length, maskKey !== undefined) + length);
  const start = writeHeader(frame, 0, opcode, fin, rsv, length, maskKey);
  if (maskKey) mask(payload, maskKey, frame, start);
  else frame.set(payload, start);
  return frame;
}

/**
 * Frames one payload. Returns one buffer (header and payload together) when the payload is small or must
 * be masked anyway, otherwise the header and the untouched payload as two buffers, so that large payloads
 * are never copied in the server role.
 */
export function encodeFrame(
  allocate: Allocate,
  opcode: number,
  payload: Uint8Array,
  fin: boolean,
  rsv: number,
  maskKey?: Uint8Array,
): Uint8Array[] {
  const length = payload.length;
  if (maskKey || length <= COALESCE_LIMIT) {
    return [encodeFrameBuffer(allocate, opcode, payload, fin, rsv, maskKey)];
  }
  const size = headerSize(length, false);
  const header = allocate(size);
  writeHeader(header, 0, opcode, fin, rsv, length);
  return [header, payload];
}
