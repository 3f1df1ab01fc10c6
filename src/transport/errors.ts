/**
 * Errors raised by the transport layer for its own limits and timers (the protocol's are ProtocolError).
 * @module
 */

/** Stable codes of {@link TransportError}. */
export type TransportErrorCode =
  /** A send found more than `maxBackpressure` bytes waiting and the policy is `close`. */
  | 'ERR_BACKPRESSURE_LIMIT'
  /** A send found more than `maxBackpressure` bytes waiting and the policy is `drop`: it was discarded. */
  | 'ERR_BACKPRESSURE_DROPPED'
  /** The peer did not answer a heartbeat ping within one interval: the connection was terminated. */
  | 'ERR_HEARTBEAT_TIMEOUT'
  /** Nothing was sent or received for `idleTimeout` ms: the connection was closed with 1001. */
  | 'ERR_IDLE_TIMEOUT'
  /** The send or close came after the connection started closing. */
  | 'ERR_NOT_OPEN'
  /** The connection ended before the data was written to the socket. */
  | 'ERR_CONNECTION_CLOSED';

/** A transport limit or timer ended a connection or refused a send. */
export class TransportError extends Error {
  readonly code: TransportErrorCode;

  constructor(code: TransportErrorCode, message: string) {
    super(message);
    this.name = 'TransportError';
    this.code = code;
  }
}
