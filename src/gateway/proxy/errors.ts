/**
 * Errors of the upstream side of the proxy: why opening the WebSocket to a backend failed, and what
 * that means for the client (retry on another backend, pass a status through, answer 502).
 * @module
 */

/** Stable codes of {@link UpstreamError}. */
export type UpstreamErrorCode =
  /** The TCP/TLS connection failed or was reset before any response (ECONNREFUSED, ECONNRESET...). */
  | 'ERR_UPSTREAM_CONNECT'
  /** No complete response head arrived within `connectTimeoutMs`. */
  | 'ERR_UPSTREAM_TIMEOUT'
  /** The backend answered with an HTTP status other than 101 (see `status`). */
  | 'ERR_UPSTREAM_STATUS'
  /** The backend answered 101 but broke the handshake rules (bad accept, unoffered subprotocol...). */
  | 'ERR_UPSTREAM_HANDSHAKE'
  /** The upstream request could not be built (an invalid URL, header or subprotocol). */
  | 'ERR_UPSTREAM_REQUEST'
  /** The dial was aborted by the gateway (the client went away meanwhile). */
  | 'ERR_UPSTREAM_ABORTED'
  /** `pickBackend` had no backend to offer (none configured, all tried or all unhealthy). */
  | 'ERR_NO_BACKEND';

/** Failures where nothing reached the backend's application: another backend may be tried. */
const RETRYABLE: ReadonlySet<UpstreamErrorCode> = new Set([
  'ERR_UPSTREAM_CONNECT',
  'ERR_UPSTREAM_TIMEOUT',
  'ERR_UPSTREAM_HANDSHAKE',
]);

/** Opening the WebSocket to a backend failed. */
export class UpstreamError extends Error {
  readonly code: UpstreamErrorCode;
  /**
   * True when nothing reached the backend's application (no response at all, or a response that is not
   * a valid WebSocket handshake): the same request may be tried on another backend.
   */
  readonly retryable: boolean;
  /** The backend's HTTP status for `ERR_UPSTREAM_STATUS`, else 0. */
  readonly status: number;

  constructor(code: UpstreamErrorCode, message: string, status = 0, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UpstreamError';
    this.code = code;
    this.status = status;
    this.retryable = RETRYABLE.has(code);
  }

  /**
   * The status the client gets: a backend's 4xx is passed through (401, 403, 404... are the
   * application's answers), everything else (5xx, no answer, bad answer) is 502 Bad Gateway.
   */
  get clientStatus(): number {
    return this.status >= 400 && this.status <= 499 ? this.status : 502;
  }
}
