/**
 * The JWT upgrade hook: takes a bearer token from the handshake, verifies it, and hands who it speaks
 * for to the connection through `request.data.auth`; refusals follow RFC 6750 §3 (401 with a
 * `WWW-Authenticate: Bearer` challenge).
 * @module
 */
import type { UpgradeHook, UpgradeRejection } from '../options.js';
import type { UpgradeRequest } from '../upgrade-request.js';
import { AuthError, type AuthInfo, type JwtVerifier } from './jwt.js';

/** Options of {@link jwtAuth}. */
export interface JwtAuthOptions {
  /**
   * Refuse handshakes without a token. Default true. When false they are accepted without `auth`, and
   * the application may authenticate later (e.g. with a token in the first message).
   */
  required?: boolean;
  /**
   * Query parameter that may carry the token, for browsers, which cannot set headers on a WebSocket
   * handshake; false to accept only the `Authorization` header. Beware that URLs end up in access
   * logs. Default `token`.
   */
  queryParam?: string | false;
  /** `realm` of the challenge. Default: none. */
  realm?: string;
}

/** What the hook puts in `request.data`, merged with what earlier hooks put there. */
export interface AuthData {
  auth: AuthInfo;
}

const BEARER = /^bearer(?:\s+(.*))?$/i;

/** The token from `Authorization: Bearer …` (RFC 6750 §2.1) or the query parameter; undefined if none. */
function tokenOf(request: UpgradeRequest, queryParam: string | false): string | undefined {
  const authorization = request.headers.authorization;
  const match = authorization === undefined ? null : BEARER.exec(authorization.trim());
  if (match) return match[1] ?? '';
  if (queryParam === false) return undefined;
  const query = request.url.indexOf('?');
  if (query === -1) return undefined;
  return new URLSearchParams(request.url.slice(query + 1)).get(queryParam) ?? undefined;
}

/** An auth-param value as a quoted-string without the characters RFC 6750 §3 excludes. */
function quoted(value: string): string {
  return `"${value.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, '')}"`;
}

function challenge(realm: string | undefined, params: string[] = []): string {
  const all = realm === undefined ? params : [`realm=${quoted(realm)}`, ...params];
  return all.length === 0 ? 'Bearer' : `Bearer ${all.join(', ')}`;
}

/** The refusal for a failed verification: 401 with an `invalid_token` challenge, or 503 when keys are unreachable. */
function refusal(error: unknown, realm: string | undefined): UpgradeRejection {
  // Anything but an AuthError is a bug, not a bad token: let the server answer 500.
  if (!(error instanceof AuthError)) throw error;
  if (error.code === 'unavailable') return { status: 503, message: error.message };
  const params = [`error="invalid_token"`, `error_description=${quoted(error.message)}`];
  return { status: 401, message: error.message, headers: { 'WWW-Authenticate': challenge(realm, params) } };
}

/**
 * An upgrade hook authenticating handshakes with `verifier`. The token comes from `Authorization:
 * Bearer` or, failing that, the `queryParam` query parameter. A valid token sets `request.data` to
 * `{ ...request.data, auth }` (so it becomes `connection.data.auth`). An invalid, expired or
 * wrongly-addressed token is refused with 401 and `WWW-Authenticate: Bearer error="invalid_token",
 * error_description="…"`; a missing one with 401 and `WWW-Authenticate: Bearer` when `required`, and
 * accepted otherwise. When the JWKS cannot be fetched the answer is 503. Without a token the hook
 * answers synchronously.
 */
export function jwtAuth(verifier: JwtVerifier, options: JwtAuthOptions = {}): UpgradeHook {
  const required = options.required ?? true;
  const queryParam = options.queryParam ?? 'token';
  const realm = options.realm;
  return (request) => {
    const token = tokenOf(request, queryParam);
    if (token === undefined) {
      if (!required) return undefined;
      return { status: 401, message: 'No token', headers: { 'WWW-Authenticate': challenge(realm) } };
    }
    return verifier.verify(token).then(
      (auth) => {
        const previous = typeof request.data === 'object' && request.data !== null ? request.data : {};
        request.data = { ...previous, auth };
        return undefined;
      },
      (error: unknown) => refusal(error, realm),
    );
  };
}
