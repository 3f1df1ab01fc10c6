/**
 * What the hub's hooks (ACL, logs) know about a connection.
 * @module
 */

/** A read-only view of one hub connection. */
export interface SessionInfo {
  /** The connection's client id, unique across nodes (`<node>-<seq>`). */
  readonly client: string;
  /** The authenticated user id, '' when anonymous. */
  readonly user: string;
  /** The tenant (from the auth claims), '' for none. Topics are scoped by it. */
  readonly tenant: string;
  /** The verified token's claims, or null. */
  readonly claims: unknown;
  /** Shown to others in presence (from the upgrade hook's `data.info`, or the claims' `info`). */
  readonly info: unknown;
  /** The peer's IP address. */
  readonly remoteAddress: string;
  /** The W3C trace id of the upgrade request (from `traceparent`), or a new one. */
  readonly traceId: string;
}
