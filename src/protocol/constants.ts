/**
 * Numbers and strings fixed by RFC 6455 and RFC 7692.
 * @module
 */

/** Frame opcodes (RFC 6455 §5.2, §11.8). */
export const Opcode = {
  CONTINUATION: 0x0,
  TEXT: 0x1,
  BINARY: 0x2,
  CLOSE: 0x8,
  PING: 0x9,
  PONG: 0xa,
} as const;
export type Opcode = (typeof Opcode)[keyof typeof Opcode];

/** Bits of the first header byte (RFC 6455 §5.2). */
export const FIN = 0x80;
export const RSV1 = 0x40;
export const RSV2 = 0x20;
export const RSV3 = 0x10;
/** Mask of all three reserved bits in the first header byte. */
export const RSV_ALL = RSV1 | RSV2 | RSV3;
/** MASK bit of the second header byte. */
export const MASK_BIT = 0x80;

/** Control frames carry at most 125 bytes of payload (RFC 6455 §5.5). */
export const MAX_CONTROL_PAYLOAD = 125;

/** Status codes used in close frames (RFC 6455 §7.4.1, IANA registry). */
export const CloseCode = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  PROTOCOL_ERROR: 1002,
  UNSUPPORTED_DATA: 1003,
  /** Reserved: never sent on the wire; reported when a close frame had no code. */
  NO_STATUS: 1005,
  /** Reserved: never sent on the wire; reported when the connection dropped without a close frame. */
  ABNORMAL: 1006,
  INVALID_PAYLOAD: 1007,
  POLICY_VIOLATION: 1008,
  MESSAGE_TOO_BIG: 1009,
  MANDATORY_EXTENSION: 1010,
  INTERNAL_ERROR: 1011,
  SERVICE_RESTART: 1012,
  TRY_AGAIN_LATER: 1013,
  BAD_GATEWAY: 1014,
  /** Reserved: never sent on the wire; reported when the TLS handshake failed. */
  TLS_HANDSHAKE: 1015,
} as const;

/** The GUID appended to Sec-WebSocket-Key before hashing (RFC 6455 §1.3). */
export const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** The only protocol version RFC 6455 defines (§4.1, §11.6). */
export const WEBSOCKET_VERSION = '13';

/** Connection states (RFC 6455 §4.1, §7.1.4); values match the WHATWG readyState numbers. */
export const ReadyState = {
  CONNECTING: 0,
  OPEN: 1,
  CLOSING: 2,
  CLOSED: 3,
} as const;
export type ReadyState = (typeof ReadyState)[keyof typeof ReadyState];
