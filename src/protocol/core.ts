/**
 * The browser-safe part of the protocol core: framing, masking, UTF-8, close rules, HTTP heads and the
 * extension grammar, with no Node imports (`conduit/protocol/core`). The handshake's hashing and
 * permessage-deflate need Node and are exported from `conduit/protocol`.
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
export { parseExtensions, serializeExtensions } from './extension-header.js';
export type { Allocate } from './frame-writer.js';
export { encodeFrame, headerSize, writeHeader } from './frame-writer.js';
export type {
  HttpHeadParserOptions,
  HttpHeadResult,
  HttpRequestHead,
  HttpResponseHead,
} from './http-head.js';
export {
  DEFAULT_MAX_HEADER_SIZE,
  HttpHeadParser,
  HttpRequestParser,
  HttpResponseParser,
  isToken,
  parseRequestHead,
  parseResponseHead,
} from './http-head.js';
export { type MaskAccelerator, mask, setMaskAccelerator, unmask } from './mask.js';
export type { PreparedMessageOptions } from './prepared-message.js';
export { PreparedMessage } from './prepared-message.js';
export { MaskKeySource } from './random.js';
export type { ReceiverOptions, ReceiverSink } from './receiver.js';
export { Receiver } from './receiver.js';
export type { ProtocolHandler, ProtocolLimits, ProtocolOptions, Role } from './types.js';
export { isValidUtf8, setUtf8Accelerator, Utf8Validator } from './utf8.js';
