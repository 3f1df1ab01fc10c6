/**
 * Payload masking (RFC 6455 §5.3): every payload byte `i` is XORed with byte `(i mod 4)` of the 4-byte
 * masking key. Masking and unmasking are the same operation.
 *
 * Strategies, picked per call by size (thresholds measured by `bench/mask.bench.ts`):
 * - short payloads: a byte loop, because creating typed-array views (and reading `byteOffset`/`buffer`,
 *   which V8 does not inline) or crossing into native code costs more than the loop itself;
 * - longer payloads: a native accelerator when the platform layer installed one (see
 *   {@link setMaskAccelerator}; the Node transport installs `native/mask.c`), which works on the bytes
 *   where they are;
 * - otherwise the WebAssembly SIMD kernel of `mask-wasm.ts`, fed in chunks copied in and out of its
 *   linear memory (even with both copies it runs about twice as fast as the word loop);
 * - where WebAssembly SIMD is unavailable too: a 32-bit word loop over the aligned middle.
 * @module
 */
import { loadXorKernel, XOR_KERNEL_CAPACITY, type XorKernel } from './mask-wasm.js';

/** Below this length the byte loop beats every strategy that needs a view or a copy. */
const BYTE_LOOP_MAX = 128;

/** Bytes handed to the kernel per call: a multiple of 4, so every chunk starts at the same key phase. */
const CHUNK_SIZE = XOR_KERNEL_CAPACITY;

/** The word loop reads key bytes through a Uint32Array, whose byte order is the platform's. */
const NATIVE_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

let kernel: XorKernel | null = loadXorKernel();

/**
 * A native XOR of payload bytes with a repeated 32-bit key (the 4 key bytes rotated to the phase of the
 * first byte, packed little-endian: byte 0 in the low 8 bits, as an unsigned number).
 */
export interface MaskAccelerator {
  /** XORs `data` in place. */
  xor(data: Uint8Array, key: number): void;
  /** Writes `source` XOR key into `target` at `targetOffset`; throws a RangeError when it does not fit. */
  xorInto(source: Uint8Array, key: number, target: Uint8Array, targetOffset: number): void;
}

/** Below this length a call into native code costs more than the byte loop or the kernel. */
const ACCELERATE_MIN = 256;

let accelerator: MaskAccelerator | null = null;

/**
 * Lets a platform layer install a native masking accelerator (or remove it with `null`). The protocol
 * core cannot load native code itself: it imports nothing platform-specific.
 */
export function setMaskAccelerator(native: MaskAccelerator | null): void {
  accelerator = native;
}

/**
 * Turns the WebAssembly SIMD path on or off (on by default where the engine supports it) and returns
 * whether it is now active. Meant for tests and benchmarks of the JavaScript fallback.
 */
export function useSimdMasking(enabled: boolean): boolean {
  kernel = enabled ? loadXorKernel() : null;
  return kernel !== null;
}

/**
 * XORs `data` in place with the 4-byte masking `key` (RFC 6455 §5.3). `keyOffset` is the position of
 * `data[0]` within the frame payload (only its value mod 4 matters), so a payload arriving in pieces can
 * be unmasked piece by piece.
 * @throws RangeError when the key is not 4 bytes.
 */
export function unmask(data: Uint8Array, key: Uint8Array, keyOffset = 0): void {
  checkKey(key);
  const length = data.length;
  if (length < BYTE_LOOP_MAX) xorBytes(data, 0, length, key, keyOffset);
  else if (accelerator !== null && length >= ACCELERATE_MIN)
    accelerator.xor(data, keyWordLE(key, keyOffset) >>> 0);
  else if (kernel !== null) xorThroughKernel(kernel, data, key, keyOffset, data, 0);
  else xorWords(data, key, keyOffset);
}

/**
 * Writes `source` XOR `key` into `target` starting at `targetOffset`, leaving `source` untouched
 * (RFC 6455 §5.3, client-to-server frames). The source and target ranges must not overlap.
 * @throws RangeError when the key is not 4 bytes or the masked bytes do not fit in `target`.
 */
export function mask(source: Uint8Array, key: Uint8Array, target: Uint8Array, targetOffset: number): void {
  checkKey(key);
  const length = source.length;
  checkFits(length, target, targetOffset);
  if (length < BYTE_LOOP_MAX) {
    maskBytes(source, key, target, targetOffset);
  } else if (accelerator !== null && length >= ACCELERATE_MIN) {
    accelerator.xorInto(source, keyWordLE(key, 0) >>> 0, target, targetOffset);
  } else if (kernel !== null) {
    xorThroughKernel(kernel, source, key, 0, target, targetOffset);
  } else {
    target.set(source, targetOffset);
    xorWords(target.subarray(targetOffset, targetOffset + length), key, 0);
  }
}

/** Scratch key bytes for {@link maskWithWord}'s kernel path (masking is synchronous, so one is enough). */
const WORD_KEY = new Uint8Array(4);

/**
 * {@link mask} with the key held as a number: key byte 0 in the high 8 bits (the order the bytes go on
 * the wire). Spares the sender a 4-byte view per frame, which costs more than masking a short payload.
 * @throws RangeError when the masked bytes do not fit in `target`.
 */
export function maskWithWord(
  source: Uint8Array,
  key: number,
  target: Uint8Array,
  targetOffset: number,
): void {
  const length = source.length;
  if (length < BYTE_LOOP_MAX) {
    checkFits(length, target, targetOffset);
    maskBytesWord(source, key, target, targetOffset);
    return;
  }
  WORD_KEY[0] = key >>> 24;
  WORD_KEY[1] = (key >>> 16) & 0xff;
  WORD_KEY[2] = (key >>> 8) & 0xff;
  WORD_KEY[3] = key & 0xff;
  mask(source, WORD_KEY, target, targetOffset);
}

/** `target[offset + i] = source[i] ^ key byte (i mod 4)`, byte by byte, the key bytes taken from a number. */
function maskBytesWord(source: Uint8Array, key: number, target: Uint8Array, offset: number): void {
  const k0 = key >>> 24;
  const k1 = (key >>> 16) & 0xff;
  const k2 = (key >>> 8) & 0xff;
  const k3 = key & 0xff;
  const end = source.length;
  let i = 0;
  for (const last = end - 3; i < last; i += 4) {
    target[offset + i] = source[i]! ^ k0;
    target[offset + i + 1] = source[i + 1]! ^ k1;
    target[offset + i + 2] = source[i + 2]! ^ k2;
    target[offset + i + 3] = source[i + 3]! ^ k3;
  }
  if (i < end) target[offset + i] = source[i++]! ^ k0;
  if (i < end) target[offset + i] = source[i++]! ^ k1;
  if (i < end) target[offset + i] = source[i]! ^ k2;
}

function checkFits(length: number, target: Uint8Array, targetOffset: number): void {
  if (!(targetOffset >= 0 && targetOffset + length <= target.length)) {
    throw new RangeError(`cannot write ${length} masked bytes at offset ${targetOffset} of ${target.length}`);
  }
}

function checkKey(key: Uint8Array): void {
  // A short key would XOR with `undefined` (i.e. 0) and silently leave bytes unmasked.
  if (key.length !== 4) throw new RangeError(`masking key must be 4 bytes, got ${key.length}`);
}

/** The key rotated so that its first byte is the one applied at `keyOffset`, packed little-endian. */
function keyWordLE(key: Uint8Array, keyOffset: number): number {
  const word = key[0]! | (key[1]! << 8) | (key[2]! << 16) | (key[3]! << 24);
  const shift = (keyOffset & 3) << 3;
  return shift === 0 ? word : (word >>> shift) | (word << (32 - shift));
}

/** XORs `data[start, end)` byte by byte; unrolled by 4 so each key byte stays in a local. */
function xorBytes(data: Uint8Array, start: number, end: number, key: Uint8Array, keyOffset: number): void {
  const phase = keyOffset + start;
  const k0 = key[phase & 3]!;
  const k1 = key[(phase + 1) & 3]!;
  const k2 = key[(phase + 2) & 3]!;
  const k3 = key[(phase + 3) & 3]!;
  let i = start;
  for (const last = end - 3; i < last; i += 4) {
    data[i]! ^= k0;
    data[i + 1]! ^= k1;
    data[i + 2]! ^= k2;
    data[i + 3]! ^= k3;
  }
  if (i < end) data[i++]! ^= k0;
  if (i < end) data[i++]! ^= k1;
  if (i < end) data[i]! ^= k2;
}

/** `target[offset + i] = source[i] ^ key[i mod 4]`, byte by byte. */
function maskBytes(source: Uint8Array, key: Uint8Array, target: Uint8Array, offset: number): void {
  maskBytesWord(source, ((key[0]! << 24) | (key[1]! << 16) | (key[2]! << 8) | key[3]!) >>> 0, target, offset);
}

/**
 * XORs through the SIMD kernel: each chunk is copied into its memory, XORed there and copied to
 * `target`. The key phase is the same for every chunk because CHUNK_SIZE is a multiple of 4.
 *
 * The chunk is placed at the source's address mod 16 (backing stores are 16-byte aligned, so that is
 * `byteOffset` mod 16): memmove implementations that use `rep movsb` can run 10x slower when the
 * destination sits 1..15 bytes past the source modulo 4 KiB, and equal alignment rules that out for
 * both copies of `unmask` (measured on AMD Zen 4 with glibc). The kernel then XORs from offset 0 with
 * the key rotated back by `start`, so that its 16-byte loads and stores are aligned; the bytes before
 * `start` are scratch.
 */
function xorThroughKernel(
  simd: XorKernel,
  source: Uint8Array,
  key: Uint8Array,
  keyOffset: number,
  target: Uint8Array,
  targetOffset: number,
): void {
  const memory = simd.memory;
  const length = source.length;
  const start = source.byteOffset & 15;
  const word = keyWordLE(key, keyOffset - start);
  for (let offset = 0; offset < length; offset += CHUNK_SIZE) {
    const size = Math.min(CHUNK_SIZE, length - offset);
    memory.set(size === length ? source : source.subarray(offset, offset + size), start);
    simd.xor(start + size, word);
    target.set(memory.subarray(start, start + size), targetOffset + offset);
  }
}

/**
 * XORs `data` in place a 32-bit word at a time. Uint32Array needs 4-byte alignment, so the bytes before
 * the first aligned address (Node's pooled Buffers often start mid-word) and the last 0..3 bytes go
 * through the byte loop, and the key word is rotated to the phase of the first aligned byte.
 */
function xorWords(data: Uint8Array, key: Uint8Array, keyOffset: number): void {
  const length = data.length;
  const byteOffset = data.byteOffset;
  const head = Math.min(length, (4 - (byteOffset & 3)) & 3);
  xorBytes(data, 0, head, key, keyOffset);
  const count = (length - head) >>> 2;
  const words = new Uint32Array(data.buffer, byteOffset + head, count);
  const le = keyWordLE(key, keyOffset + head);
  const word = NATIVE_LITTLE_ENDIAN ? le : byteSwap(le);
  let i = 0;
  for (const last = count - 3; i < last; i += 4) {
    words[i]! ^= word;
    words[i + 1]! ^= word;
    words[i + 2]! ^= word;
    words[i + 3]! ^= word;
  }
  for (; i < count; i++) words[i]! ^= word;
  xorBytes(data, head + count * 4, length, key, keyOffset);
}

function byteSwap(word: number): number {
  return ((word & 0xff) << 24) | ((word & 0xff00) << 8) | ((word >>> 8) & 0xff00) | (word >>> 24);
}
