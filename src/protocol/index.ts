/**
 * Conduit's protocol core: a sans-I/O implementation of RFC 6455 (The WebSocket Protocol) and RFC 7692
 * (permessage-deflate). Bytes go in, events and bytes come out; no sockets, timers or streams.
 * This entry adds the Node-only parts (SHA-1 of the handshake, zlib) to `./core.js`.
 * @module
 */
export * from './core.js';
export { trimDeflatePool } from './deflate-codec.js';
export { computeAccept, generateKey, parseSubprotocols } from './handshake.js';
export type {
  ClientRequestOptions,
  HandshakeOutcome,
  ServerResponseExpectations,
} from './handshake-client.js';
export { buildClientRequest, validateServerResponse } from './handshake-client.js';
export type {
  ClientRequestInfo,
  NegotiatedExtensions,
  ServerResponseOptions,
} from './handshake-server.js';
export {
  buildRejection,
  buildServerResponse,
  negotiateExtensions,
  selectSubprotocol,
  validateClientRequest,
} from './handshake-server.js';
export type { DeflateAgreement, IdleReleasable, PerMessageDeflateOptions } from './permessage-deflate.js';
export {
  isIdleReleasable,
  PERMESSAGE_DEFLATE,
  PerMessageDeflate,
  perMessageDeflate,
} from './permessage-deflate.js';
