/**
 * Upgrade middleware for `WebSocketServer`'s `upgrade` hook: JWT authentication, origin allow list, IP
 * filter and rate limits, composable with {@link composeUpgradeHooks}; and the per-connection message
 * rate limiter.
 * @module
 */

export { ipKey, normalizeIp } from './client-ip.js';
export { composeUpgradeHooks } from './compose.js';
export type { IpFilterOptions } from './ip-filter.js';
export { ipFilter } from './ip-filter.js';
export type {
  AuthErrorCode,
  AuthInfo,
  JwtVerifier,
  JwtVerifierOptions,
} from './jwt.js';
export { AuthError, authError, createJwtVerifier } from './jwt.js';
export type { AuthData, JwtAuthOptions } from './jwt-auth.js';
export { jwtAuth } from './jwt-auth.js';
export type { OriginAllowListOptions } from './origin.js';
export { originAllowList } from './origin.js';
export type {
  MessageRateLimiter,
  MessageRateLimitOptions,
  MessageVerdict,
  UpgradeRateLimitOptions,
} from './rate-limit.js';
export { createMessageRateLimiter, upgradeRateLimit } from './rate-limit.js';
export type { Clock, KeyedTokenBucketsOptions, TokenBucketOptions } from './token-bucket.js';
export { KeyedTokenBuckets, monotonicClock, TokenBucket } from './token-bucket.js';
