/**
 * Loads the optional native masking accelerator (`native/mask.c`, built into `build/mask.node` by
 * `scripts/build-native.mjs` at install and build time). Without it Conduit masks with WebAssembly SIMD;
 * `CONDUIT_NATIVE=0` in the environment forces that fallback.
 * @module
 */
import type { MaskAccelerator } from '../protocol/mask.js';
import { loadAddon } from './native-addon.js';

let cached: MaskAccelerator | null | undefined;

/** Returns the native accelerator, loading it on first call, or `null` when it is absent or disabled. */
export function loadNativeMask(): MaskAccelerator | null {
  if (cached === undefined) {
    cached = loadAddon<MaskAccelerator>(
      'mask',
      (addon) => typeof addon.xor === 'function' && typeof addon.xorInto === 'function',
    );
  }
  return cached;
}
