/**
 * Conduit's gateway (`conduit/gateway`): a frame-aware WebSocket reverse proxy configured by a YAML or
 * JSON file — listeners, routes, upstreams with balancing and health checks, upgrade middleware,
 * per-message policies, hot reload, drain, Prometheus metrics and an access log.
 * @module
 */

export type { BackendState, BackendStatus } from './backend.js';
export type { ConfigIssue } from './config/issues.js';
export { formatIssue, GatewayConfigError } from './config/issues.js';
export type { LoadOptions } from './config/load.js';
export { loadGatewayConfig, parseGatewayConfig, validateGatewayConfig } from './config/load.js';
export type { GatewayConfigInput } from './config/schema.js';
export type {
  AdminConfig,
  BackendConfig,
  BalanceConfig,
  CompressionPolicy,
  GatewayConfig,
  HashKey,
  HealthCheckConfig,
  ListenerConfig,
  PassiveHealthConfig,
  PathMatch,
  RouteConfig,
  RouteMiddleware,
  RoutePolicies,
  TlsConfig,
  UpstreamConfig,
} from './config/types.js';
export type { GatewayOptions, ReloadResult } from './gateway.js';
export { Gateway } from './gateway.js';
export type { AccessContext } from './gateway-access-log.js';
export type { ListenerInfo } from './gateway-listeners.js';
export type { GatewayStatus, RouteStatus } from './gateway-status.js';
export type { UpstreamStatus } from './upstream.js';
