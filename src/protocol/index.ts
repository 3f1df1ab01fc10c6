/**
 * Conduit's protocol core: a sans-I/O implementation of RFC 6455 (The WebSocket Protocol) and RFC 7692
 * (permessage-deflate). Bytes go in, events and bytes come out; no sockets, timers or streams.
 * @module
 */

export type { ClosePayload } from './close.js';
export { buildClosePayload, isValidWireCloseCode, parseClosePayload, truncateReason } from './close.js';
export type { ProtocolInternals, SendOptions } from './connection.js';
export { DEFAULT_MAX_MESSAGE_SIZE, WebSocketProtocol } from './connection.js';
export {
  CloseCode,
  FIN,
  MASK_BIT,
  MAX_CONTROL_PAYLOAD,
  Opcode,
  ReadyState,
  RSV1,
  RSV2,
  RSV3,
  WEBSOCKET_GUID,
  WEBSOCKET_VERSION,
} from './constants.js';
export type { HandshakeErrorCode, ProtocolErrorCode } from './errors.js';
export { HandshakeError, ProtocolError } from './errors.js';
export type {
  Extension,
  ExtensionFactory,
  ExtensionOffer,
  ExtensionParams,
  OutgoingMessageInfo,
} from './extension.js';
export type { Allocate } from './frame-writer.js';
export { encodeFrame, headerSize, writeHeader } from './frame-writer.js';
export { mask, unmask } from './mask.js';
export type { PreparedMessageOptions } from './prepared-message.js';
export { PreparedMessage } from './prepared-message.js';
export { MaskKeySource } from './random.js';
export type { ReceiverOptions, ReceiverSink } from './receiver.js';
export { Receiver } from './receiver.js';
export type { ProtocolHandler, ProtocolLimits, ProtocolOptions, Role } from './types.js';
export { isValidUtf8, setUtf8Accelerator, Utf8Validator } from './utf8.js';
