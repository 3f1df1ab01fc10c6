/**
 * Errors of the client's connection phase that neither the protocol core (HandshakeError for a bad
 * response) nor the socket (ECONNREFUSED, TLS errors, ...) raise.
 * @module
 */

/** Stable codes of {@link ClientError}. */
export type ClientErrorCode =
  /** No complete opening handshake response arrived within `handshakeTimeout` ms. */
  | 'ERR_HANDSHAKE_TIMEOUT'
  /** The server closed the connection before its handshake response was complete. */
  | 'ERR_HANDSHAKE_ABORTED'
  /** `close()` was called while the connection was being established. */
  | 'ERR_CLOSED_WHILE_CONNECTING'
  /** A redirect response had no usable `Location` (missing, or not an http(s)/ws(s) URL). */
  | 'ERR_INVALID_REDIRECT'
  /** More than `maxRedirects` redirects were followed. */
  | 'ERR_TOO_MANY_REDIRECTS';

/** The connection could not be established, for one of the reasons in {@link ClientErrorCode}. */
export class ClientError extends Error {
  readonly code: ClientErrorCode;

  constructor(code: ClientErrorCode, message: string) {
    super(message);
    this.name = 'ClientError';
    this.code = code;
  }
}

/**
 * A `DOMException` named `name` (`SyntaxError`, `InvalidStateError`, `InvalidAccessError`), as the
 * WHATWG WebSocket standard throws them; an Error with that name on runtimes without DOMException.
 */
export function domException(message: string, name: string): Error {
  if (typeof DOMException === 'function') return new DOMException(message, name);
  const error = new Error(message);
  error.name = name;
  return error;
}
