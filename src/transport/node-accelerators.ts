/**
 * Hands Node's native helpers to the portable protocol core, which cannot import `node:` modules itself.
 * @module
 */
import { isUtf8 } from 'node:buffer';
import { setMaskAccelerator } from '../protocol/mask.js';
import { setUtf8Accelerator } from '../protocol/utf8.js';
import { loadNativeMask } from './native-mask.js';

let installed = false;

/**
 * Installs `buffer.isUtf8` (simdutf) as the UTF-8 validator of whole messages, and the native masking
 * accelerator when it was built. Idempotent; called when the transport module loads.
 */
export function installNodeAccelerators(): void {
  if (installed) return;
  installed = true;
  // `isUtf8` exists from Node 18.14 / 19.4; Node >= 20 is required, the check only guards odd runtimes.
  if (typeof isUtf8 === 'function') setUtf8Accelerator(isUtf8);
  const nativeMask = loadNativeMask();
  if (nativeMask !== null) setMaskAccelerator(nativeMask);
}
