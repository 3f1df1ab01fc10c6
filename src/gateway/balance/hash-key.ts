/**
 * The value a sticky balancer hashes: a header, a cookie, a query parameter or the client address.
 * @module
 */
import { normalizeIp } from '../../server/middleware/client-ip.js';
import type { HashKey } from '../config/types.js';
import type { BalanceRequest } from './balancer.js';

/** Value of cookie `name` in a `Cookie` header (RFC 6265 §4.2.1: `a=1; b=2`), or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq === -1 || pair.slice(0, eq).trim() !== name) continue;
    let value = pair.slice(eq + 1).trim();
    // RFC 6265 allows a DQUOTE-wrapped value; the quotes are not part of it.
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    return value;
  }
  return undefined;
}

/** Value of query parameter `name` in a request target, or undefined. */
export function queryValue(target: string, name: string): string | undefined {
  const start = target.indexOf('?');
  if (start === -1) return undefined;
  const end = target.indexOf('#', start);
  const query = target.slice(start + 1, end === -1 ? undefined : end);
  return new URLSearchParams(query).get(name) ?? undefined;
}

/**
 * The string to hash for `request`: the configured header, cookie or query value, prefixed with its
 * kind; when the request lacks it (or it is empty), the client address, so that the client still
 * sticks to one backend.
 */
export function hashInput(key: HashKey, request: BalanceRequest): string {
  let value: string | undefined;
  if (key.kind === 'header') value = request.headers[key.name];
  else if (key.kind === 'cookie') value = cookieValue(request.headers.cookie, key.name);
  else if (key.kind === 'query') value = queryValue(request.url, key.name);
  if (value !== undefined && value !== '') return `${key.kind}:${value}`;
  return `ip:${normalizeIp(request.remoteAddress)}`;
}
