/**
 * Who may read a dashboard feed. The feed names topics, routes and backends, so a page of another site
 * must not read it through its visitor's browser (RFC 6455 §10.2: the server checks Origin). Browsers
 * of the server itself may, and so may clients that send no Origin at all (scripts, which may read
 * /metrics as well). The servers turn this verdict into their upgrade hooks.
 * @module
 */

/**
 * Where a feed request comes from: `none` (no Origin: not a browser), `same` (a page of the server the
 * request went to), or `foreign` (any other site, or an Origin that is not a URL).
 */
export type FeedOrigin = 'none' | 'same' | 'foreign';

/** The {@link FeedOrigin} of a request with these `Origin` and `Host` headers. */
export function feedOrigin(origin: string | undefined, host: string | undefined): FeedOrigin {
  if (origin === undefined) return 'none';
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    return 'foreign'; // `null` (sandboxed frames, file: pages) and garbage alike
  }
  // URL.host is lowercase; the Host header may not be.
  return host !== undefined && originHost === host.toLowerCase() ? 'same' : 'foreign';
}
