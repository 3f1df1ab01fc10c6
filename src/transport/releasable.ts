/**
 * Extensions that hold per-connection resources worth releasing when the connection goes quiet
 * (permessage-deflate's zlib contexts). The transport's timer calls `releaseIdle` on them.
 * @module
 */
import type { Extension } from '../protocol/extension.js';
import { type IdleReleasable, isIdleReleasable } from '../protocol/permessage-deflate.js';

/** A negotiated extension with idle resources. */
export type ReleasableExtension = Extension & IdleReleasable;

/**
 * The extensions of `extensions` that can release idle resources, sorted by their idle time (shortest
 * first), or `null` when there are none (the common case costs one field).
 */
export function releasableExtensions(extensions: readonly Extension[]): ReleasableExtension[] | null {
  const found = extensions.filter(isIdleReleasable).filter((extension) => extension.idleTimeoutMs > 0);
  if (found.length === 0) return null;
  return found.sort((a, b) => a.idleTimeoutMs - b.idleTimeoutMs);
}
