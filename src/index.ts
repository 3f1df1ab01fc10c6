/**
 * Conduit: a WebSocket platform for Node.js. The main entry exports the server API and the public
 * protocol API (constants, errors, prepared messages, permessage-deflate options).
 * @module
 */

export * from './client/index.js';
export type {
  Extension,
  ExtensionFactory,
  HandshakeErrorCode,
  PreparedMessageOptions,
  ProtocolErrorCode,
} from './protocol/index.js';
export {
  CloseCode,
  HandshakeError,
  Opcode,
  PreparedMessage,
  ProtocolError,
  ReadyState,
  WEBSOCKET_GUID,
  WEBSOCKET_VERSION,
} from './protocol/index.js';
export type { PerMessageDeflateOptions } from './protocol/permessage-deflate.js';
export { perMessageDeflate } from './protocol/permessage-deflate.js';
export * from './server/index.js';
export type { TransportErrorCode } from './transport/errors.js';
export { TransportError } from './transport/errors.js';
export type { BackpressurePolicy, TransportOptions } from './transport/options.js';
export type { SendCallback } from './transport/send-callbacks.js';
