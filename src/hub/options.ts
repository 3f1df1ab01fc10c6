/**
 * Options of the hub and per-topic policies, with their defaults (docs/hub.md lists them).
 * @module
 */
import type { Registry } from 'prom-client';
import type { Engine, HistoryOptions } from '../engines/engine.js';
import type { Logger } from '../observability/logger.js';
import type { JwtVerifierOptions } from '../server/middleware/jwt.js';
import type { SessionInfo } from './session-info.js';

/** What happens to a subscriber whose queue is full. */
export type SlowConsumerPolicy = 'drop-oldest' | 'drop-newest' | 'disconnect';

/** Policies of the topics a rule matches. */
export interface TopicPolicy {
  /** History kept for resume. Default `{ size: 100, ttlMs: 300_000 }`; `{ size: 0, ... }` keeps none. */
  history?: HistoryOptions;
  /** Track presence (who is subscribed) and announce join/leave. Default false. */
  presence?: boolean;
  /** Full queue policy. Default `'drop-oldest'`. */
  slowConsumer?: SlowConsumerPolicy;
  /** Clients may publish (subject to the ACL). Default true. */
  clientPublish?: boolean;
}

/** A topic policy for the topics matching `match` (an exact topic or a pattern: `*`, `>`). */
export interface TopicRule extends TopicPolicy {
  match: string;
}

/** Decides whether a session may subscribe to or publish on a topic; may be async. */
export type AclHook = (session: SessionInfo, topic: string) => boolean | Promise<boolean>;

/** Verifies a token (a JWT) and says who it belongs to; throws to refuse it. */
export type TokenVerifier = (
  token: string,
) => Promise<{ user: string; tenant?: string; claims?: unknown; permissions?: string[] }>;

/** Options of {@link Hub}. */
export interface HubOptions {
  /** Where publications are numbered, stored and fanned out. Default: a new `MemoryEngine`. */
  engine?: Engine;
  /** Policies by topic; the first matching rule applies, then the defaults. */
  topics?: TopicRule[];
  /**
   * Verifies JWTs: at the upgrade (`Authorization: Bearer`, or the `token` query parameter; a bad token
   * is refused with 401) and in a first-message `auth`. Without `tenantClaim`, sessions have no tenant.
   */
  jwt?: JwtVerifierOptions;
  /** Verifies tokens sent as first message (`{"type":"auth"}`); upgrade-time tokens use the `upgrade` hook. */
  verifyToken?: TokenVerifier;
  /**
   * When true, a connection must be authenticated (at the upgrade, or by its first message within
   * `authTimeoutMs`) before anything else. Default: true when `verifyToken` is given.
   */
  requireAuth?: boolean;
  /** Time allowed for the first-message `auth`. Default 10 000 ms. */
  authTimeoutMs?: number;
  /** ACL for subscribe. Default: allow. */
  canSubscribe?: AclHook;
  /** ACL for publish. Default: allow (when the topic policy allows client publishes). */
  canPublish?: AclHook;
  /** Scope topics by the session's tenant (from the auth claims). Default true. */
  tenantScoped?: boolean;
  /** Subscriptions one connection may hold. Default 1000. */
  maxSubscriptions?: number;
  /** Largest `data` of a client publish, serialized, in bytes. Default 65 536. */
  maxPublishBytes?: number;
  /** Messages a connection may hold queued (not yet handed to its socket), in bytes. Default 1 MiB. */
  maxQueueBytes?: number;
  /** Client messages per second per connection (burst: one second's worth). Default 1000; 0 disables. */
  messagesPerSecond?: number;
  /** Client bytes per second per connection. Default 1 MiB; 0 disables. */
  bytesPerSecond?: number;
  /** Rate-limited messages tolerated within 10 s before closing with 1008. Default 20. */
  rateLimitGrace?: number;
  /** Presence entries expire this long after their last refresh (a dead node's entries vanish). Default 30 000 ms. */
  presenceTtlMs?: number;
  /** Where hub log lines go (pino-compatible). Default: none. */
  logger?: Logger;
  /** Registers the hub's metrics here (`conduit_hub_*`). Default: no metrics. */
  metrics?: { registry: Registry };
}

/** Every option resolved. */
export interface HubConfig {
  engine: Engine | null;
  topics: TopicRule[];
  verifyToken: TokenVerifier | null;
  requireAuth: boolean;
  authTimeoutMs: number;
  canSubscribe: AclHook | null;
  canPublish: AclHook | null;
  tenantScoped: boolean;
  maxSubscriptions: number;
  maxPublishBytes: number;
  maxQueueBytes: number;
  messagesPerSecond: number;
  bytesPerSecond: number;
  rateLimitGrace: number;
  presenceTtlMs: number;
  logger: Logger | null;
  registry: Registry | null;
}

/** The policy of topics no rule matches. */
export const DEFAULT_TOPIC_POLICY: Required<TopicPolicy> = {
  history: { size: 100, ttlMs: 300_000 },
  presence: false,
  slowConsumer: 'drop-oldest',
  clientPublish: true,
};

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`hub option ${name} must be a number >= 0`);
  return value;
}

/** Resolves options to a config, throwing a RangeError for a bad value. */
export function resolveHubOptions(options: HubOptions): HubConfig {
  return {
    engine: options.engine ?? null,
    topics: options.topics ?? [],
    verifyToken: options.verifyToken ?? null,
    requireAuth: options.requireAuth ?? options.verifyToken !== undefined,
    authTimeoutMs: nonNegative('authTimeoutMs', options.authTimeoutMs, 10_000),
    canSubscribe: options.canSubscribe ?? null,
    canPublish: options.canPublish ?? null,
    tenantScoped: options.tenantScoped ?? true,
    maxSubscriptions: nonNegative('maxSubscriptions', options.maxSubscriptions, 1000),
    maxPublishBytes: nonNegative('maxPublishBytes', options.maxPublishBytes, 65_536),
    maxQueueBytes: nonNegative('maxQueueBytes', options.maxQueueBytes, 1 << 20),
    messagesPerSecond: nonNegative('messagesPerSecond', options.messagesPerSecond, 1000),
    bytesPerSecond: nonNegative('bytesPerSecond', options.bytesPerSecond, 1 << 20),
    rateLimitGrace: nonNegative('rateLimitGrace', options.rateLimitGrace, 20),
    presenceTtlMs: nonNegative('presenceTtlMs', options.presenceTtlMs, 30_000),
    logger: options.logger ?? null,
    registry: options.metrics?.registry ?? null,
  };
}
