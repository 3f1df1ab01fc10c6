/**
 * What every balancing policy has in common: pick one available backend for a request, skipping those
 * the caller already tried. Balancers hold only their own cursor or ring; health and connection counts
 * live on the {@link Backend} objects, which several balancers (before and after a reload) may share.
 * @module
 */
import type { Backend } from '../backend.js';

/** The parts of a request a balancer may look at (an `UpgradeRequest` or a plain HTTP request). */
export interface BalanceRequest {
  /** Request target, e.g. `/chat?room=1` (the query feeds `{ hash: { query } }`). */
  readonly url: string;
  /** Header fields, names lowercased. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** Client address (`{ hash: ip }`, and the fallback key of the other hash keys). */
  readonly remoteAddress: string;
}

/** A backend selection policy over a fixed list of backends. */
export interface Balancer {
  /** The backends it chooses from, in configuration order. */
  readonly backends: readonly Backend[];
  /**
   * An available backend not in `exclude` (the ones already tried for this request), or null when
   * there is none. The caller counts the connection with `backend.acquire()` right away.
   */
  pick(request: BalanceRequest, exclude?: ReadonlySet<Backend>): Backend | null;
}

/** The empty exclusion set. */
export const NONE: ReadonlySet<Backend> = new Set();

/** True when `backend` may be picked: available and not excluded. */
export function eligible(backend: Backend, exclude: ReadonlySet<Backend>): boolean {
  return backend.available && !exclude.has(backend);
}
