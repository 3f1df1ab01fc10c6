/**
 * Typed errors of the protocol core. Every error has a stable `code` string so that callers and logs can
 * match on it without parsing messages.
 * @module
 */
import { CloseCode } from './constants.js';

/** Stable error codes raised while reading frames and messages. */
export type ProtocolErrorCode =
  | 'ERR_RESERVED_OPCODE'
  | 'ERR_UNEXPECTED_RSV'
  | 'ERR_MASK_REQUIRED'
  | 'ERR_MASK_FORBIDDEN'
  | 'ERR_CONTROL_TOO_LONG'
  | 'ERR_CONTROL_FRAGMENTED'
  | 'ERR_NON_MINIMAL_LENGTH'
  | 'ERR_LENGTH_64BIT'
  | 'ERR_UNEXPECTED_CONTINUATION'
  | 'ERR_EXPECTED_CONTINUATION'
  | 'ERR_INVALID_UTF8'
  | 'ERR_INVALID_CLOSE_PAYLOAD'
  | 'ERR_INVALID_CLOSE_CODE'
  | 'ERR_FRAME_TOO_BIG'
  | 'ERR_MESSAGE_TOO_BIG'
  | 'ERR_EXTENSION'
  | 'ERR_INVALID_STATE';

/**
 * The peer broke RFC 6455/7692 or a configured limit. `closeCode` is the status code the connection is
 * closed with (1002, 1007, 1009, ...).
 */
export class ProtocolError extends Error {
  readonly code: ProtocolErrorCode;
  readonly closeCode: number;

  constructor(code: ProtocolErrorCode, message: string, closeCode: number = CloseCode.PROTOCOL_ERROR) {
    super(message);
    this.name = 'ProtocolError';
    this.code = code;
    this.closeCode = closeCode;
  }
}

/** Stable error codes raised while validating an opening handshake. */
export type HandshakeErrorCode =
  | 'ERR_HANDSHAKE_METHOD'
  | 'ERR_HANDSHAKE_HTTP_VERSION'
  | 'ERR_HANDSHAKE_HOST'
  | 'ERR_HANDSHAKE_UPGRADE'
  | 'ERR_HANDSHAKE_CONNECTION'
  | 'ERR_HANDSHAKE_KEY'
  | 'ERR_HANDSHAKE_VERSION'
  | 'ERR_HANDSHAKE_HEADER_TOO_LARGE'
  | 'ERR_HANDSHAKE_MALFORMED'
  | 'ERR_HANDSHAKE_STATUS'
  | 'ERR_HANDSHAKE_ACCEPT'
  | 'ERR_HANDSHAKE_SUBPROTOCOL'
  | 'ERR_HANDSHAKE_EXTENSION';

/**
 * An opening handshake was refused. On the server side `status` and `headers` describe the HTTP response
 * to send (400, 426 with `Sec-WebSocket-Version: 13`, 431, ...); on the client side the connection fails.
 */
export class HandshakeError extends Error {
  readonly code: HandshakeErrorCode;
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    code: HandshakeErrorCode,
    message: string,
    status = 400,
    headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'HandshakeError';
    this.code = code;
    this.status = status;
    this.headers = headers;
  }
}
