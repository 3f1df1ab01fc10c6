/**
 * Heap tuning for processes that move large messages (`native/heap.c`, built into `build/heap.node` on
 * Linux). glibc hands freed memory back to the kernel early, so a steady stream of 64 KB messages faults
 * every page of every fresh buffer in again; raising its trim and mmap thresholds keeps freed buffers
 * for reuse (see the addon for the measurements). The `conduit gateway` and `conduit serve` commands
 * call {@link tuneHeapForLargeMessages} at start; an application embedding Conduit may call it too.
 * @module
 */
import { loadAddon } from './native-addon.js';

/** Settings of {@link tuneHeapForLargeMessages}. */
export interface HeapTuning {
  /** Free memory at the top of the heap kept before any is returned to the kernel, bytes. Default 32 MiB. */
  trimThreshold?: number;
  /** Blocks from this size up get their own mapping (returned at once when freed), bytes. Default 4 MiB. */
  mmapThreshold?: number;
}

interface HeapAddon {
  tune(trimThreshold: number, mmapThreshold: number): boolean;
}

/**
 * Keeps freed memory in the process heap for reuse (glibc on Linux). Returns true when the C library
 * took the settings; false without the addon, with another C library, or when disabled by
 * `CONDUIT_NATIVE=0` or `CONDUIT_HEAP_TUNING=0`. Process-wide: the last call wins.
 */
export function tuneHeapForLargeMessages(tuning: HeapTuning = {}): boolean {
  if (process.env.CONDUIT_HEAP_TUNING === '0' || process.platform !== 'linux') return false;
  const addon = loadAddon<HeapAddon>('heap', (exports) => typeof exports.tune === 'function');
  if (addon === null) return false;
  return addon.tune(tuning.trimThreshold ?? 32 * 1024 * 1024, tuning.mmapThreshold ?? 4 * 1024 * 1024);
}
