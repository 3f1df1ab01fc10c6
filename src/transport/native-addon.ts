/**
 * Finds one of Conduit's optional native addons in `build/` (built by `scripts/build-native.mjs`), for
 * the modules that wrap them (`native-mask.ts`, `native-relay.ts`, `native-heap.ts`).
 * @module
 */
import { createRequire } from 'node:module';

/**
 * Loads `build/<name>.node` and returns it when `usable` accepts its exports, else null (not built, built
 * for another platform, or disabled by `CONDUIT_NATIVE=0`).
 */
export function loadAddon<T>(name: string, usable: (exports: Partial<T>) => boolean): T | null {
  if (process.env.CONDUIT_NATIVE === '0') return null;
  const require = createRequire(import.meta.url);
  // From this module both as TypeScript source (src/transport) and as compiled (dist/src/transport).
  for (const path of [`../../../build/${name}.node`, `../../build/${name}.node`]) {
    try {
      const exports = require(path) as Partial<T>;
      if (usable(exports)) return exports as T;
    } catch {
      // Not at this location: try the next one, then let the caller fall back.
    }
  }
  return null;
}
