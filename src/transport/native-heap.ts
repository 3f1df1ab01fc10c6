/**
 * Heap tuning for processes that move large messages (`native/heap.c`, built into `build/heap.node` on
 * Linux). glibc hands freed memory back to the kernel early, so a steady stream of 64 KB messages faults
 * every page of every fresh buffer in again; raising its trim and mmap thresholds keeps freed buffers
 * for reuse (see the addon for the measurements). The `conduit gateway` and `conduit serve` commands
 * call {@link tuneHeapForLargeMessages} at start; an application embedding Conduit may call it too.
 * @module
 */
import { createRequire } from 'node:module';

/** The addon's path from this module, both as TypeScript source and as compiled to `dist/src/transport`. */
const ADDON_PATHS = ['../../../build/heap.node', '../../build/heap.node'];

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

function loadAddon(): HeapAddon | null {
  const require = createRequire(import.meta.url);
  for (const path of ADDON_PATHS) {
    try {
      const addon = require(path) as Partial<HeapAddon>;
      if (typeof addon.tune === 'function') return addon as HeapAddon;
    } catch {
      // Not built here (another platform, no compiler): try the next location.
    }
  }
  return null;
}

/**
 * Keeps freed memory in the process heap for reuse (glibc on Linux). Returns true when the C library
 * took the settings; false without the addon, with another C library, or when disabled by
 * `CONDUIT_NATIVE=0` or `CONDUIT_HEAP_TUNING=0`. Process-wide: the last call wins.
 */
export function tuneHeapForLargeMessages(tuning: HeapTuning = {}): boolean {
  if (process.env.CONDUIT_NATIVE === '0' || process.env.CONDUIT_HEAP_TUNING === '0') return false;
  if (process.platform !== 'linux') return false;
  const addon = loadAddon();
  if (addon === null) return false;
  return addon.tune(tuning.trimThreshold ?? 32 * 1024 * 1024, tuning.mmapThreshold ?? 4 * 1024 * 1024);
}
