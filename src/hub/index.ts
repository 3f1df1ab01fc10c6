/**
 * The realtime hub (`conduit/hub`): topics, presence, history and resume over the `conduit.v1` protocol,
 * on the in-memory engine or on Redis.
 * @module
 */

export * from '../engines/index.js';
export type { HubErrorCode } from './errors.js';
export { HubError } from './errors.js';
export type { ServerPublishOptions } from './hub.js';
export { Hub } from './hub.js';
export type {
  AclHook,
  HubOptions,
  SlowConsumerPolicy,
  TokenVerifier,
  TopicPolicy,
  TopicRule,
} from './options.js';
export type { HubServerOptions } from './server.js';
export type { SessionInfo } from './session-info.js';
export { HUB_SUBPROTOCOL } from './wire.js';
