/**
 * Runs the application's handshake hooks (`verifyClient`, then `upgrade`) and turns their answers into
 * one verdict. Synchronous hooks give a synchronous verdict: no promise is created unless a hook is async.
 * @module
 */
import type { UpgradeHook, UpgradeRejection, VerifyClient, VerifyClientInfo } from './options.js';
import type { UpgradeRequest } from './upgrade-request.js';

/** `null` accepts the handshake; a rejection refuses it. */
export type Verdict = UpgradeRejection | null;

type HookResult = ReturnType<UpgradeHook>;

/** True for promises and other thenables. */
export function isThenable<T>(value: unknown): value is PromiseLike<T> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as PromiseLike<T>).then === 'function'
  );
}

/** Maps the upgrade hook's answer to a verdict; a malformed rejection is a 500. */
function toVerdict(result: Awaited<HookResult>): Verdict {
  if (result === undefined || result === true) return null;
  if (result === false) return { status: 403 };
  if (
    typeof result === 'object' &&
    Number.isInteger(result.status) &&
    result.status >= 400 &&
    result.status <= 599
  ) {
    return result;
  }
  return { status: 500, message: 'Invalid answer of the upgrade hook' };
}

function runUpgradeHook(hook: UpgradeHook | undefined, request: UpgradeRequest): Verdict | Promise<Verdict> {
  if (hook === undefined) return null;
  const result = hook(request);
  return isThenable<Awaited<HookResult>>(result)
    ? Promise.resolve(result).then(toVerdict)
    : toVerdict(result);
}

function verifyAsync(verify: VerifyClient, info: VerifyClientInfo): Promise<Verdict> {
  return new Promise((resolve) => {
    verify(info, (result, code, message, headers) => {
      if (result) resolve(null);
      else
        resolve({
          status: code ?? 401,
          ...(message === undefined ? {} : { message }),
          ...(headers ? { headers } : {}),
        });
    });
  });
}

/**
 * Runs `verifyClient` (ws-compatible: a refusal without a code is 401) and then the `upgrade` hook.
 * Returns the verdict, or a promise of it when a hook is async. Hook exceptions propagate (sync) or
 * reject the promise; the caller answers 500.
 */
export function runHooks(
  verifyClient: VerifyClient | undefined,
  upgrade: UpgradeHook | undefined,
  request: UpgradeRequest,
): Verdict | Promise<Verdict> {
  if (verifyClient === undefined) return runUpgradeHook(upgrade, request);
  const info: VerifyClientInfo = { origin: request.origin, secure: request.secure, req: request };
  if (verifyClient.length >= 2) {
    return verifyAsync(verifyClient, info).then((verdict) => verdict ?? runUpgradeHook(upgrade, request));
  }
  if (!(verifyClient as (info: VerifyClientInfo) => boolean)(info)) return { status: 401 };
  return runUpgradeHook(upgrade, request);
}
