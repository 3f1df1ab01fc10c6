/**
 * Conduit's client: a WHATWG-compatible `WebSocket` for Node with Node extras.
 * @module
 */

export type { ClientErrorCode } from './errors.js';
export { ClientError } from './errors.js';
export type { CloseEventFields, ErrorEventFields } from './events.js';
export { CloseEvent, ErrorEvent } from './events.js';
export type { Http2ConnectErrorCode } from './http2-errors.js';
export { Http2ConnectError } from './http2-errors.js';
export type { SendData } from './message-data.js';
export type { BinaryType, ConnectionRequest, WebSocketOptions, WebSocketTlsOptions } from './options.js';
export { WebSocket } from './websocket.js';
