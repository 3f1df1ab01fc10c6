/**
 * Memory for outgoing frames. A small frame is carved from a shared slab (like `Buffer.allocUnsafe` does
 * below 4 KiB, but up to {@link POOLED_MAX}), so that a 4 KiB message framed with its header costs no
 * ArrayBuffer of its own. Frames live only until the socket wrote them; a slab is freed once all its
 * frames are.
 * @module
 */
import { Buffer } from 'node:buffer';

/** Size of one slab: small, so that a frame stuck in a slow socket pins little memory besides itself. */
const SLAB_SIZE = 32 * 1024;
/** Frames above this get a buffer of their own. */
export const POOLED_MAX = 8 * 1024;

let slab: ArrayBuffer = new ArrayBuffer(0);
let offset = 0;

/** Returns `size` bytes of uninitialized memory for a frame; the caller fills all of them. */
export function allocateFrame(size: number): Buffer {
  if (size > POOLED_MAX) return Buffer.allocUnsafe(size);
  if (offset + size > slab.byteLength) {
    slab = Buffer.allocUnsafeSlow(SLAB_SIZE).buffer as ArrayBuffer;
    offset = 0;
  }
  const frame = Buffer.from(slab, offset, size);
  // Keep 8-byte alignment for the next frame (word-wise copies are faster on aligned memory).
  offset = (offset + size + 7) & ~7;
  return frame;
}

/** Copies `parts` (`total` bytes in all) into one frame buffer. */
export function concatFrames(parts: readonly Uint8Array[], total: number): Buffer {
  const out = allocateFrame(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}
