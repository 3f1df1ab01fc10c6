/**
 * Route selection: the first route, in configuration order, whose host, path and header conditions all
 * hold for a request. Paths are compared after normalization (unreserved percent-escapes decoded,
 * repeated slashes merged, `.` and `..` segments resolved, RFC 3986 §5.2.4 and §6.2.2), so that
 * `/public/../admin` meets the rules of `/admin` and not those of `/public`.
 * @module
 */
import type { UpgradeRequest } from '../server/upgrade-request.js';
import type { PathMatch, RouteConfig } from './config/types.js';

/** What the router looks at: an `UpgradeRequest`, or the same fields of a plain HTTP request. */
export type RouteRequest = Pick<UpgradeRequest, 'pathname'> & {
  /** Header fields, names lowercased. */
  readonly headers: Readonly<Record<string, string | undefined>>;
};

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/** Decodes percent-escapes of unreserved characters; other escapes get uppercase hex (RFC 3986 §6.2.2). */
function decodeUnreserved(path: string): string {
  return path.replace(/%([0-9A-Fa-f]{2})/g, (_match, hex: string) => {
    const char = String.fromCharCode(Number.parseInt(hex, 16));
    return UNRESERVED.test(char) ? char : `%${hex.toUpperCase()}`;
  });
}

/** Resolves `.` and `..` segments and merges empty ones (repeated slashes). */
function resolveSegments(path: string): string {
  const segments = path.split('/');
  const last = segments.length - 1;
  const out: string[] = [];
  for (let i = 1; i <= last; i++) {
    const segment = segments[i]!;
    if (segment === '..') out.pop();
    else if (segment !== '.' && (segment !== '' || i === last)) out.push(segment);
    // A path ending in `/.` or `/..` names a directory: keep its trailing slash.
    if (i === last && (segment === '.' || segment === '..')) out.push('');
  }
  return `/${out.join('/')}`;
}

/** The path a route is matched against: see the module comment. Non-origin-form targets are unchanged. */
export function normalizePath(pathname: string): string {
  if (!pathname.startsWith('/')) return pathname;
  if (!/%|\/\/|\/\.(?:\/|\.?$|\.\/)/.test(pathname)) return pathname;
  return resolveSegments(decodeUnreserved(pathname));
}

/** Host name of a request (Host, or HTTP/2 `:authority`), lowercased, without port or trailing dot. */
export function hostOf(headers: RouteRequest['headers']): string | null {
  const value = headers.host ?? headers[':authority'];
  if (value === undefined || value === '') return null;
  let host = value.toLowerCase();
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end === -1 ? host : host.slice(0, end + 1);
  }
  const colon = host.indexOf(':');
  if (colon !== -1) host = host.slice(0, colon);
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

/** `regex.test`, safe for patterns built with the `g` or `y` flag (which make `test` stateful). */
function testRegex(regex: RegExp, text: string): boolean {
  regex.lastIndex = 0;
  return regex.test(text);
}

/** True when `host` matches `pattern` (`example.com`, or `*.example.com`: any subdomain, not the domain). */
export function hostMatches(pattern: string, host: string | null): boolean {
  if (host === null) return false;
  if (!pattern.startsWith('*.')) return host === pattern;
  const suffix = pattern.slice(1);
  return host.length > suffix.length && host.endsWith(suffix);
}

/** True when the (normalized) `path` matches: prefix on whole segments, exact, or regex. */
export function pathMatches(match: PathMatch, path: string): boolean {
  switch (match.kind) {
    case 'exact':
      return path === match.value;
    case 'regex':
      return testRegex(match.value, path);
    default: {
      const prefix = match.value;
      // `/chat` takes `/chat` and `/chat/...`, not `/chatroom`; a prefix ending in `/` takes what follows.
      if (prefix.endsWith('/')) return path.startsWith(prefix);
      return path === prefix || (path.startsWith(prefix) && path.charCodeAt(prefix.length) === 0x2f);
    }
  }
}

/** True when every header condition of `route` holds. */
function headersMatch(route: RouteConfig, headers: RouteRequest['headers']): boolean {
  for (const condition of route.headers) {
    const value = headers[condition.name];
    if (value === undefined) return false;
    if (typeof condition.value === 'string' ? value !== condition.value : !testRegex(condition.value, value))
      return false;
  }
  return true;
}

/** True when `route` takes the request (its path already normalized and host extracted). */
export function routeMatches(
  route: RouteConfig,
  path: string,
  host: string | null,
  request: RouteRequest,
): boolean {
  if (route.host !== null && !hostMatches(route.host, host)) return false;
  return pathMatches(route.path, path) && headersMatch(route, request.headers);
}

/** The routes of one configuration; immutable, so a reload simply builds a new router. */
export class Router {
  readonly routes: readonly RouteConfig[];

  constructor(routes: readonly RouteConfig[]) {
    this.routes = routes;
  }

  /** The first route taking `request`, or null (the gateway answers 404). */
  match(request: RouteRequest): RouteConfig | null {
    const path = normalizePath(request.pathname);
    const host = hostOf(request.headers);
    for (const route of this.routes) {
      if (routeMatches(route, path, host, request)) return route;
    }
    return null;
  }
}
