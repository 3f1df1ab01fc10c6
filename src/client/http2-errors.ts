/**
 * Why a client WebSocket could not open over HTTP/2 (RFC 8441). With `http2: 'auto'` the
 * `ERR_HTTP2_UNSUPPORTED` cases fall back to HTTP/1.1 instead of failing.
 * @module
 */

/** Stable codes of {@link Http2ConnectError}. */
export type Http2ConnectErrorCode =
  /**
   * The server does not offer WebSockets over HTTP/2: TLS negotiated another protocol than `h2` (ALPN),
   * the HTTP/2 session failed before the server's SETTINGS, or they lack SETTINGS_ENABLE_CONNECT_PROTOCOL.
   */
  | 'ERR_HTTP2_UNSUPPORTED'
  /** The server reset the CONNECT stream (or the session went away) before it answered. */
  | 'ERR_HTTP2_STREAM_RESET';

/** An HTTP/2 opening handshake failed for one of the reasons in {@link Http2ConnectErrorCode}. */
export class Http2ConnectError extends Error {
  readonly code: Http2ConnectErrorCode;

  constructor(code: Http2ConnectErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'Http2ConnectError';
    this.code = code;
  }
}
