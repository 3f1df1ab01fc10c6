/**
 * Origin allow list: browsers send `Origin` with every WebSocket handshake and, unlike fetch, apply no
 * same-origin policy to WebSockets, so a page on any site can open a connection carrying the user's
 * cookies. Checking `Origin` is the defence against this cross-site WebSocket hijacking (RFC 6455 §10.2).
 * @module
 */
import type { UpgradeHook } from '../options.js';

/** Options of {@link originAllowList}. */
export interface OriginAllowListOptions {
  /**
   * Accept handshakes without an `Origin` header. Browsers always send one; non-browser clients
   * (servers, CLI tools, mobile apps) usually do not. Default false.
   */
  allowMissing?: boolean;
}

const DEFAULT_PORTS: Readonly<Record<string, string>> = {
  'http:': '80',
  'https:': '443',
  'ws:': '80',
  'wss:': '443',
};

/** Scheme, host and port of an origin, lowercased, with the scheme's default port made explicit. */
interface OriginParts {
  scheme: string;
  host: string;
  port: string;
}

/** Parses `scheme://host[:port]`; null for anything else (paths, credentials, `null`, lists). */
function parseOrigin(text: string): OriginParts | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  // An origin is only scheme, host and port (RFC 6454 §7): a path, query or userinfo means it is not one.
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') return null;
  if (url.pathname !== '/' && url.pathname !== '') return null;
  // WHATWG URL accepts `*` in hosts; in a pattern it is only meaningful as the leading `*.` label.
  if (url.hostname === '' || url.hostname.includes('*')) return null;
  // URL lowercases the scheme and host (and converts IDNs to punycode), and drops default ports.
  return { scheme: url.protocol, host: url.hostname, port: url.port || (DEFAULT_PORTS[url.protocol] ?? '') };
}

/** A pattern `scheme://*.domain[:port]`: any subdomain of `domain`, never `domain` itself. */
interface WildcardPattern {
  scheme: string;
  /** `.domain`, with the leading dot, so that `evil-domain` does not match. */
  suffix: string;
  port: string;
}

interface CompiledPatterns {
  any: boolean;
  exact: Set<string>;
  wildcards: WildcardPattern[];
}

function keyOf(parts: OriginParts): string {
  return `${parts.scheme}//${parts.host}:${parts.port}`;
}

function compilePatterns(patterns: readonly string[]): CompiledPatterns {
  const compiled: CompiledPatterns = { any: false, exact: new Set(), wildcards: [] };
  for (const pattern of patterns) {
    if (pattern === '*') {
      compiled.any = true;
      continue;
    }
    const wildcard = /^([a-z][a-z0-9+.-]*:\/\/)\*\.(.+)$/i.exec(pattern);
    const parts = parseOrigin(wildcard ? `${wildcard[1]}${wildcard[2]}` : pattern);
    if (parts === null) throw new TypeError(`Invalid origin pattern: ${JSON.stringify(pattern)}`);
    if (wildcard)
      compiled.wildcards.push({ scheme: parts.scheme, suffix: `.${parts.host}`, port: parts.port });
    else compiled.exact.add(keyOf(parts));
  }
  return compiled;
}

function matches(compiled: CompiledPatterns, origin: string): boolean {
  if (compiled.any) return true;
  const parts = parseOrigin(origin);
  if (parts === null) return false;
  if (compiled.exact.has(keyOf(parts))) return true;
  return compiled.wildcards.some(
    (w) =>
      w.scheme === parts.scheme &&
      w.port === parts.port &&
      parts.host.length > w.suffix.length &&
      parts.host.endsWith(w.suffix),
  );
}

/**
 * An upgrade hook accepting only handshakes whose `Origin` matches one of `patterns`:
 * - an exact origin, `https://app.example.com` (compared on scheme, host and port, case-insensitively,
 *   with default ports made explicit: `https://app.example.com:443` is the same origin);
 * - a wildcard subdomain, `https://*.example.com`: `https://a.example.com` and `https://a.b.example.com`
 *   match, `https://example.com` and `https://evil-example.com` do not;
 * - `*`: any origin (including `null`).
 *
 * Anything else, including a missing `Origin` unless `allowMissing`, is refused with 403. Invalid
 * patterns throw a TypeError here rather than silently matching nothing.
 */
export function originAllowList(
  patterns: readonly string[],
  options: OriginAllowListOptions = {},
): UpgradeHook {
  const compiled = compilePatterns(patterns);
  const allowMissing = options.allowMissing ?? false;
  return (request) => {
    const origin = request.origin;
    if (origin === undefined) {
      return allowMissing ? undefined : { status: 403, message: 'Origin header required' };
    }
    return matches(compiled, origin) ? undefined : { status: 403, message: 'Origin not allowed' };
  };
}
