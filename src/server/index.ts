/**
 * Conduit's server API: `WebSocketServer` and its connections.
 * @module
 */

export type { Logger } from '../observability/logger.js';
export type { HandshakeFailureReason } from '../observability/metric-types.js';
export type { LoadSample } from '../observability/overload.js';
export type { MetricsOptions } from '../observability/server-metrics.js';
export type { ConnectionSendOptions, MessageData } from './connection.js';
export { WebSocketConnection } from './connection.js';
export type { HttpVersion } from './http2-connection.js';
export { Http2WebSocketConnection, httpVersionOf } from './http2-connection.js';
export type { Http2UpgradeRequest } from './http2-request.js';
export type { Message } from './message-iterator.js';
export * from './middleware/index.js';
export type {
  HandleProtocols,
  UpgradeHook,
  UpgradeRejection,
  VerifyClient,
  VerifyClientCallback,
  VerifyClientInfo,
  WebSocketServerOptions,
} from './options.js';
export type { OverloadOptions } from './overload-guard.js';
export type { BroadcastOptions, UpgradeCallback } from './server.js';
export { WebSocketServer } from './server.js';
export type { UpgradeRequest } from './upgrade-request.js';
