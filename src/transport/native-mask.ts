/**
 * Loads the optional native masking accelerator (`native/mask.c`, built into `build/mask.node` by
 * `scripts/build-native.mjs` at install and build time). Without it Conduit masks with WebAssembly SIMD;
 * `CONDUIT_NATIVE=0` in the environment forces that fallback.
 * @module
 */
import { createRequire } from 'node:module';
import type { MaskAccelerator } from '../protocol/mask.js';

/** The addon's path from this module, both as TypeScript source and as compiled to `dist/src/transport`. */
const ADDON_PATHS = ['../../../build/mask.node', '../../build/mask.node'];

let cached: MaskAccelerator | null | undefined;

/** Returns the native accelerator, loading it on first call, or `null` when it is absent or disabled. */
export function loadNativeMask(): MaskAccelerator | null {
  if (cached === undefined) cached = process.env.CONDUIT_NATIVE === '0' ? null : load();
  return cached;
}

function load(): MaskAccelerator | null {
  const require = createRequire(import.meta.url);
  for (const path of ADDON_PATHS) {
    try {
      const addon = require(path) as Partial<MaskAccelerator>;
      if (typeof addon.xor === 'function' && typeof addon.xorInto === 'function')
        return addon as MaskAccelerator;
    } catch {
      // Not built here (or built for another platform): try the next location, then fall back.
    }
  }
  return null;
}
