/**
 * The hub client SDK: a `HubClient` speaking the hub's `conduit.v1` protocol (docs/hub-protocol.md).
 * Isomorphic: plain ES modules with no Node imports, for browsers and Node alike.
 * @module
 */

export type { ReconnectOptions } from './backoff.js';
export { HubClient } from './client.js';
export type { Listener } from './emitter.js';
export { Emitter } from './emitter.js';
export type { HubClientErrorCode, HubErrorCode, HubErrorDetails, HubServerErrorCode } from './errors.js';
export { HubError } from './errors.js';
export type { HubClientEvents, HubClientState, PendingPublishes, PublishOptions } from './events.js';
export type {
  HubClientOptions,
  HubSocket,
  HubSocketConstructor,
  SocketCloseEvent,
  SocketMessageEvent,
  TokenPlacement,
  TokenSource,
} from './options.js';
export type { PublishAck } from './outbox.js';
export type {
  MessageMeta,
  PresenceEvent,
  SubscribedInfo,
  SubscribeOptions,
  SubscriptionHandlers,
  SubscriptionState,
} from './subscription.js';
export { Subscription } from './subscription.js';
export type { PresenceEntry, StreamPosition } from './wire.js';
export { SUBPROTOCOL } from './wire.js';
