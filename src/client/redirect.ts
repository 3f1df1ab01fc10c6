/**
 * Following redirect responses to an opening handshake (RFC 6455 §4.1 allows it: "the client MAY
 * redirect"; RFC 9110 §15.4 defines the statuses), off by default.
 * @module
 */
import { ClientError } from './errors.js';
import { parseWebSocketUrl } from './url.js';

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** True for the statuses whose `Location` a client may follow (RFC 9110 §15.4). */
export function isRedirect(status: number): boolean {
  return REDIRECT_STATUSES.has(status);
}

/**
 * The URL a redirect points to: `location` resolved against the current URL (RFC 9110 §10.2.2), with
 * http(s) mapped to ws(s). Throws `ERR_INVALID_REDIRECT` for a missing or unusable location.
 */
export function redirectTarget(current: URL, location: string | undefined): URL {
  if (location === undefined || location === '') {
    throw new ClientError('ERR_INVALID_REDIRECT', 'Redirect response without a Location header');
  }
  let resolved: URL;
  try {
    resolved = new URL(location, current);
    // A fragment is meaningless for the handshake request; drop it rather than refuse.
    resolved.hash = '';
    return parseWebSocketUrl(resolved.href.replace(/#$/, ''));
  } catch {
    throw new ClientError('ERR_INVALID_REDIRECT', `Unusable redirect Location ${JSON.stringify(location)}`);
  }
}

/** Headers that carry credentials: not for another origin's eyes. */
const CREDENTIAL_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);

/**
 * The extra request headers to send to `to` after a redirect from `from`: all of them on the same host
 * and port without losing TLS, else all but the credential headers.
 */
export function redirectHeaders(
  headers: Readonly<Record<string, string>> | undefined,
  from: URL,
  to: URL,
): Record<string, string> | undefined {
  if (headers === undefined) return undefined;
  const downgrade = from.protocol === 'wss:' && to.protocol === 'ws:';
  if (from.host === to.host && !downgrade) return { ...headers };
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!CREDENTIAL_HEADERS.has(name.toLowerCase())) kept[name] = value;
  }
  return kept;
}
