/**
 * Options of the Redis engine, their defaults, and their validation.
 * @module
 */
import type { RedisOptions } from 'ioredis';
import type { Registry } from 'prom-client';
import type { Logger } from '../observability/logger.js';

/** Options of `RedisEngine`; every one has a default (collected in {@link REDIS_ENGINE_DEFAULTS}). */
export interface RedisEngineOptions {
  /** The Redis instance: `redis://[user:pass@]host:port[/db]`, `rediss://` for TLS. Default `redis://127.0.0.1:6379`. */
  url?: string;
  /**
   * Several Redis instances: topics are spread over them by consistent hashing of the topic name, patterns
   * are subscribed on all. Every node must list the same URLs, spelled the same (the ring is built from
   * them). Takes precedence over `url`. Default: only `url`.
   */
  urls?: string[];
  /** Prefix of every key and channel, so that several deployments can share a Redis. Default `conduit`. */
  prefix?: string;
  /**
   * Extra ioredis options for every connection (TLS, credentials, db). Queueing, retries, resubscription
   * and timeouts stay the engine's. Default none.
   */
  redisOptions?: RedisOptions;
  /** How long `start()` waits for every instance, and the limit of each connection attempt (ms). Default 10 s. */
  connectTimeoutMs?: number;
  /**
   * Longest wait for an answer from a connection that looks alive (ms), then `ERR_ENGINE_TIMEOUT`. A closed
   * connection fails calls at once with `ERR_ENGINE_UNAVAILABLE`. Default 5 s.
   */
  commandTimeoutMs?: number;
  /** First delay before reconnecting (ms); it doubles per failed attempt, with ±25% jitter. Default 100. */
  reconnectDelayMs?: number;
  /** Longest delay between reconnection attempts (ms). Default 2 s. */
  maxReconnectDelayMs?: number;
  /**
   * How long a topic's offset and epoch outlive its last publish or position read (ms); never less than its
   * history ttl. After that the topic starts over with a new epoch. Default 24 h.
   */
  topicTtlMs?: number;
  /** How long an idempotency key is remembered when a publish does not say (ms). Default 5 min. */
  idempotencyTtlMs?: number;
  /** Mean interval between this node's sweeps of expired presence entries (ms), jittered ±50%. Default 2 s. */
  presenceSweepIntervalMs?: number;
  /** Most expired presence entries one sweep removes per instance (a full batch sweeps again at once). Default 100. */
  presenceSweepBatch?: number;
  /** Points per instance on the hash ring. Default 160. */
  virtualNodes?: number;
  /** A prom-client registry to report the engine's metrics on. Default none (`engine.metrics` always counts). */
  registry?: Registry;
  /** Prefix of the metric names. Default `conduit_`. */
  metricsPrefix?: string;
  /** A pino-compatible logger. Default silent. */
  logger?: Logger;
}

/** The defaults of {@link RedisEngineOptions}. */
export const REDIS_ENGINE_DEFAULTS = {
  url: 'redis://127.0.0.1:6379',
  prefix: 'conduit',
  connectTimeoutMs: 10_000,
  commandTimeoutMs: 5_000,
  reconnectDelayMs: 100,
  maxReconnectDelayMs: 2_000,
  topicTtlMs: 24 * 3600_000,
  idempotencyTtlMs: 5 * 60_000,
  presenceSweepIntervalMs: 2_000,
  presenceSweepBatch: 100,
  virtualNodes: 160,
  metricsPrefix: 'conduit_',
} as const;

/** Every option resolved, but the instances, registry and logger (which the engine uses directly). */
export type RedisSettings = Required<Omit<RedisEngineOptions, 'url' | 'urls' | 'registry' | 'logger'>>;

const POSITIVE = [
  'connectTimeoutMs',
  'commandTimeoutMs',
  'reconnectDelayMs',
  'maxReconnectDelayMs',
  'topicTtlMs',
  'idempotencyTtlMs',
  'presenceSweepIntervalMs',
  'presenceSweepBatch',
  'virtualNodes',
] as const;

/**
 * Applies the defaults.
 * @throws RangeError when a numeric option is not a positive number, or `prefix` is empty.
 */
export function resolveRedisSettings(options: RedisEngineOptions): RedisSettings {
  const d = REDIS_ENGINE_DEFAULTS;
  const settings: RedisSettings = {
    prefix: options.prefix ?? d.prefix,
    redisOptions: options.redisOptions ?? {},
    connectTimeoutMs: options.connectTimeoutMs ?? d.connectTimeoutMs,
    commandTimeoutMs: options.commandTimeoutMs ?? d.commandTimeoutMs,
    reconnectDelayMs: options.reconnectDelayMs ?? d.reconnectDelayMs,
    maxReconnectDelayMs: options.maxReconnectDelayMs ?? d.maxReconnectDelayMs,
    topicTtlMs: options.topicTtlMs ?? d.topicTtlMs,
    idempotencyTtlMs: options.idempotencyTtlMs ?? d.idempotencyTtlMs,
    presenceSweepIntervalMs: options.presenceSweepIntervalMs ?? d.presenceSweepIntervalMs,
    presenceSweepBatch: options.presenceSweepBatch ?? d.presenceSweepBatch,
    virtualNodes: options.virtualNodes ?? d.virtualNodes,
    metricsPrefix: options.metricsPrefix ?? d.metricsPrefix,
  };
  check(settings);
  return settings;
}

function check(settings: RedisSettings): void {
  for (const name of POSITIVE) {
    const value = settings[name];
    if (!(value > 0)) throw new RangeError(`RedisEngine option ${name} must be a number > 0, got ${value}`);
  }
  if (settings.prefix === '') throw new RangeError('RedisEngine option prefix must not be empty');
}
