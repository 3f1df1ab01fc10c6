/**
 * What the settled options of `conduit serve` mean for the parts of a node: the hub's options and topic
 * rules, the Redis engine's options, the JWT verifier's, and the HTTP server (https with `listen.tls`).
 * Kept apart from serve-node.ts, which wires the parts together and owns their lifecycle.
 * @module
 */
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { HistoryOptions } from '../engines/engine.js';
import type { RedisEngineOptions } from '../engines/redis-options.js';
import { DEFAULT_TOPIC_POLICY, type HubOptions, type TopicRule } from '../hub/options.js';
import type { JwtVerifierOptions } from '../server/middleware/jwt.js';
import type { ServeOptions } from './serve-args.js';
import { CHAT_TOPIC_RULE } from './serve-demo.js';

/** The history of topics no rule sets otherwise: the flags', then the file's `hub.history`, then the hub's. */
function defaultHistory(options: ServeOptions): HistoryOptions {
  return {
    size: options.historySize ?? DEFAULT_TOPIC_POLICY.history.size,
    ttlMs: options.historyTtlMs ?? DEFAULT_TOPIC_POLICY.history.ttlMs,
  };
}

/**
 * The file's rules first (each completed with the default history and presence, so that `hub.history`
 * and `--presence` reach the fields a rule leaves out), then the chat demo's rule, then one rule for
 * every other topic when an option changes the defaults.
 */
export function serveTopicRules(options: ServeOptions): TopicRule[] {
  const history = defaultHistory(options);
  const fromFile = options.topics.map(
    (rule): TopicRule => ({
      ...rule,
      history: { ...history, ...rule.history },
      presence: rule.presence ?? options.presence,
    }),
  );
  const rules = [...fromFile, { ...CHAT_TOPIC_RULE, history }];
  if (options.presence || options.historySize !== undefined || options.historyTtlMs !== undefined) {
    rules.push({ match: '>', presence: options.presence, history });
  }
  return rules;
}

/** The JWT verifier's options, or undefined when no key is set (no authentication). */
export function serveJwtOptions(options: ServeOptions): JwtVerifierOptions | undefined {
  if (options.jwtSecret !== undefined) return { ...options.jwtChecks, secret: options.jwtSecret };
  if (options.jwksUrl !== undefined) return { ...options.jwtChecks, jwksUrl: options.jwksUrl };
  return undefined;
}

/** The hub's options, but its engine, logger and metrics (the node's own). */
export function serveHubOptions(options: ServeOptions): HubOptions {
  const hub: HubOptions = {
    ...options.limits,
    topics: serveTopicRules(options),
    presenceTtlMs: options.presenceTtlMs,
  };
  const jwt = serveJwtOptions(options);
  if (jwt !== undefined) hub.jwt = jwt;
  if (options.requireAuth !== undefined) hub.requireAuth = options.requireAuth;
  return hub;
}

/** The Redis engine's options, but its logger and registry; undefined for the in-memory engine. */
export function serveRedisOptions(options: ServeOptions): RedisEngineOptions | undefined {
  if (options.redis.length === 0) return undefined;
  // A dead node's clients leave within the ttl plus one sweep: keep the sweep well under the ttl.
  const sweep = Math.min(2000, Math.max(100, Math.floor(options.presenceTtlMs / 2)));
  return { presenceSweepIntervalMs: sweep, ...options.redisSettings, urls: options.redis };
}

/** The node's HTTP server: https with `listen.tls` (WebSockets then are wss://), plain http otherwise. */
export function createServeHttpServer(options: ServeOptions, listener: RequestListener): Server {
  if (options.tls === undefined) return createHttpServer(listener);
  // https.Server extends tls.Server, not http.Server, but serves requests and upgrades the same way.
  return createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, listener) as unknown as Server;
}

/** URL schemes of the node's endpoints. */
export function serveSchemes(options: ServeOptions): { ws: string; http: string } {
  return options.tls === undefined ? { ws: 'ws', http: 'http' } : { ws: 'wss', http: 'https' };
}
