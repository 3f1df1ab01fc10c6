/**
 * How the Redis engine turns ioredis failures into {@link EngineError}s: anything that means "Redis cannot
 * answer now" becomes `ERR_ENGINE_UNAVAILABLE` (the hub answers `unavailable`, the client retries), a
 * command that got no answer in time becomes `ERR_ENGINE_TIMEOUT`, and a genuine Redis error reply (a bug)
 * passes through unchanged.
 * @module
 */
import { EngineError } from './engine.js';

/** Error replies that mean the server is up but cannot serve right now. */
const TRANSIENT_REPLY = /^(LOADING|BUSY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|READONLY)\b/;

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function isReplyError(err: unknown): boolean {
  return err instanceof Error && err.name === 'ReplyError';
}

/** True for the NOSCRIPT reply of EVALSHA (the server lost its script cache, e.g. after a restart). */
export function isNoScript(err: unknown): boolean {
  return isReplyError(err) && messageOf(err).startsWith('NOSCRIPT');
}

/** The error of an operation refused because Redis at `where` is not connected. */
export function unavailable(where: string): EngineError {
  return new EngineError('ERR_ENGINE_UNAVAILABLE', `Redis ${where} is unavailable`);
}

/** Maps an ioredis failure to an {@link EngineError}, or returns it unchanged when it is a real bug. */
export function toEngineError(err: unknown, where: string): Error {
  if (err instanceof EngineError) return err;
  const message = messageOf(err);
  if (message.includes('Command timed out')) {
    return new EngineError('ERR_ENGINE_TIMEOUT', `Redis ${where} did not answer in time`);
  }
  if (isReplyError(err) && !TRANSIENT_REPLY.test(message)) return err as Error;
  return new EngineError('ERR_ENGINE_UNAVAILABLE', `Redis ${where} is unavailable: ${message}`);
}

/**
 * A Redis URL without its password, fit for logs, errors and the hash ring (nodes rotating a password must
 * still agree on where topics live). A string that is no URL is returned as is: it holds no password field.
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}
