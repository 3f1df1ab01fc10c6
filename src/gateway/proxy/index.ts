/**
 * The gateway's proxy core: dialing backends, the upgrade flow with retries, frame-aware pairs (with
 * permessage-deflate passed through where both sides agree), byte tunnels, and per-connection counters.
 * @module
 */

export type { UpstreamErrorCode } from './errors.js';
export { UpstreamError } from './errors.js';
export type { ForwardedRequest, ForwardOptions } from './forward-headers.js';
export { allowedSubprotocols, DEFAULT_FORWARDED_HEADERS, forwardedRequest } from './forward-headers.js';
export type { PairOptions } from './pair.js';
export { ProxyPair, pair } from './pair.js';
export type { PassthroughOutcome } from './passthrough.js';
export { PassthroughLink } from './passthrough.js';
export type { MessageValidator, ValidationResult } from './policies.js';
export { MessageRate } from './policies.js';
export type { PickBackend, ProxiedUpgrade, ProxyUpgradeOptions } from './proxy-upgrade.js';
export { dialerFor, isProxiedUpgrade, proxyUpgrade, upstreamUrl } from './proxy-upgrade.js';
export type { ProxyServerOptions } from './server-options.js';
export { proxyServerOptions } from './server-options.js';
export type { ProxyConnectionOptions, ProxySession } from './session.js';
export { ProxySessions, proxyConnection } from './session.js';
export type { Direction, DirectionStats, EndReason, ProxyObserver } from './stats.js';
export { ProxyStats } from './stats.js';
export type { TraceContext } from './traceparent.js';
export { continueTrace, formatTraceparent } from './traceparent.js';
export type { TunnelOptions } from './tunnel.js';
export { ProxyTunnel, tunnel } from './tunnel.js';
export type { DialAttempt, UpstreamDialOptions, UpstreamRequest } from './upstream-dial.js';
export { toUpstreamError, UpstreamDialer } from './upstream-dial.js';
export { UpstreamHandshake } from './upstream-handshake.js';
