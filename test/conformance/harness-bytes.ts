/**
 * Byte helpers of the conformance harness: a seeded PRNG, text and hex conversion, joining, and cutting
 * a stream into chunks the way a socket might deliver it. Separate from the frame builder and the peer
 * because every other harness module (and several tests) need them, and they know nothing of WebSocket.
 * @module
 */

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
