/**
 * Conduit's server API: `WebSocketServer` and its connections.
 * @module
 */

export type { ConnectionSendOptions, MessageData } from './connection.js';
export { WebSocketConnection } from './connection.js';
export type { Message } from './message-iterator.js';
export type {
  HandleProtocols,
  UpgradeHook,
  UpgradeRejection,
  VerifyClient,
  VerifyClientCallback,
  VerifyClientInfo,
  WebSocketServerOptions,
} from './options.js';
export type { BroadcastOptions, UpgradeCallback } from './server.js';
export { WebSocketServer } from './server.js';
export type { UpgradeRequest } from './upgrade-request.js';
