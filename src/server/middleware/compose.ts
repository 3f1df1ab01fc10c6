/**
 * Chaining upgrade hooks: cheap checks first (IP filter, rate limit, origin), authentication last, the
 * first refusal wins. A chain of synchronous hooks stays synchronous, so the common case allocates no
 * promise per handshake.
 * @module
 */
import { isThenable } from '../hooks.js';
import type { UpgradeHook } from '../options.js';
import type { UpgradeRequest } from '../upgrade-request.js';

type HookResult = ReturnType<UpgradeHook>;
type SettledResult = Awaited<HookResult>;

/** True when a hook's answer lets the handshake go on. */
function accepts(result: SettledResult): boolean {
  return result === undefined || result === true;
}

/** Runs `hooks[start…]` in order; switches to promises only at the first hook that returns one. */
function runFrom(hooks: readonly UpgradeHook[], start: number, request: UpgradeRequest): HookResult {
  for (let i = start; i < hooks.length; i++) {
    const result = hooks[i]!(request);
    if (isThenable<SettledResult>(result)) {
      return Promise.resolve(result).then((settled) =>
        accepts(settled) ? runFrom(hooks, i + 1, request) : settled,
      );
    }
    if (!accepts(result)) return result;
  }
  return undefined;
}

/**
 * One upgrade hook running `hooks` in order and stopping at the first that refuses (returns `false` or
 * a rejection), whose answer becomes the chain's. It returns a promise only when one of the hooks that
 * ran did; an exception (or rejection) of a hook propagates, and the server answers 500.
 */
export function composeUpgradeHooks(...hooks: UpgradeHook[]): UpgradeHook {
  const chain = [...hooks];
  return (request) => runFrom(chain, 0, request);
}
