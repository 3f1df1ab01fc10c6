/**
 * How `conduit serve` settles its options: a flag given on the command line wins over the configuration
 * file, which wins over the defaults. The JWT secret has one more, last source, `CONDUIT_JWT_SECRET`, so
 * that a file or a command line need not hold it. Problems that only show once both are known (no port at
 * all, several workers without Redis) name the file's field and the flag.
 * @module
 */
import type { Environment } from '../gateway/config/interpolate.js';
import { CliError } from './args.js';
import type {
  ServeFlags,
  ServeHubLimits,
  ServeJwtChecks,
  ServeOptions,
  ServeRedisSettings,
  ServeTopicRule,
} from './serve-args.js';
import { type LoadedServeConfig, MIN_SECRET_BYTES, ServeConfigError } from './serve-config.js';
import type { ServeFileConfig, ServeHubConfig, ServeRedisConfig } from './serve-config-schema.js';

/** The same object without its undefined fields (so that spreading it never unsets a default). */
function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}

function listenPart(flags: ServeFlags, loaded: LoadedServeConfig | undefined) {
  const listen = loaded?.config.listen;
  const port = flags.port ?? listen?.port;
  if (port === undefined) {
    // parseServeFlags asks for --port when there is no file; here the file has none either.
    const issue = { path: 'listen.port', expected: 'a port (or --port PORT)', found: 'nothing' };
    throw new ServeConfigError(loaded?.source ?? 'config', [issue]);
  }
  return { port, host: flags.host ?? listen?.host ?? '127.0.0.1', tls: loaded?.tls };
}

function redisSettingsOf(redis: ServeRedisConfig | undefined): ServeRedisSettings {
  if (redis === undefined) return {};
  return defined({
    prefix: redis.prefix,
    connectTimeoutMs: redis.connectTimeout,
    commandTimeoutMs: redis.commandTimeout,
    reconnectDelayMs: redis.reconnectDelay,
    maxReconnectDelayMs: redis.maxReconnectDelay,
    topicTtlMs: redis.topicTtl,
    idempotencyTtlMs: redis.idempotencyTtl,
    presenceSweepIntervalMs: redis.presenceSweepInterval,
    presenceSweepBatch: redis.presenceSweepBatch,
    virtualNodes: redis.virtualNodes,
  });
}

function enginePart(flags: ServeFlags, loaded: LoadedServeConfig | undefined) {
  const file = loaded?.config;
  const redisConfig = typeof file?.engine === 'object' ? file.engine.redis : undefined;
  // --redis replaces the file's URLs only: its other Redis settings still apply.
  const redis = flags.redis ?? redisConfig?.urls ?? [];
  const workers = flags.workers ?? file?.workers ?? 1;
  if (workers >= 2 && redis.length === 0) {
    if (loaded === undefined) {
      throw new CliError(
        'conduit serve: --workers 2 or more needs --redis (workers share topics through it)',
      );
    }
    const expected = '1 with the memory engine (2 or more need engine.redis or --redis)';
    throw new ServeConfigError(loaded.source, [{ path: 'workers', expected, found: String(workers) }]);
  }
  return { redis, workers, redisSettings: redisSettingsOf(redisConfig) };
}

/** The key: --jwt-secret or --jwks-url, else the file's, else CONDUIT_JWT_SECRET (an empty one is unset). */
function jwtKey(flags: ServeFlags, file: ServeFileConfig, env: Environment) {
  if (flags.jwtSecret !== undefined || flags.jwksUrl !== undefined) {
    return { jwtSecret: flags.jwtSecret, jwksUrl: flags.jwksUrl };
  }
  const jwt = file.auth?.jwt;
  if (jwt !== undefined) return { jwtSecret: jwt.secret, jwksUrl: jwt.jwksUrl };
  const fromEnv = env.CONDUIT_JWT_SECRET;
  if (fromEnv === undefined || fromEnv === '') return { jwtSecret: undefined, jwksUrl: undefined };
  if (Buffer.byteLength(fromEnv) < MIN_SECRET_BYTES) {
    throw new CliError(`conduit serve: the JWT secret must have at least ${MIN_SECRET_BYTES} bytes`);
  }
  return { jwtSecret: fromEnv, jwksUrl: undefined };
}

function authPart(flags: ServeFlags, file: ServeFileConfig, env: Environment) {
  const jwt = file.auth?.jwt;
  const jwtChecks: ServeJwtChecks = defined({
    issuer: jwt?.issuer,
    audience: jwt?.audience,
    tenantClaim: jwt?.tenantClaim,
    permissionsClaim: jwt?.permissionsClaim,
  });
  return { ...jwtKey(flags, file, env), jwtChecks, requireAuth: jwt?.required };
}

function limitsOf(hub: ServeHubConfig | undefined): ServeHubLimits {
  if (hub === undefined) return {};
  return defined({
    maxSubscriptions: hub.maxSubscriptions,
    maxPublishBytes: hub.maxPublishBytes,
    maxQueueBytes: hub.maxQueueBytes,
    messagesPerSecond: hub.messagesPerSecond,
    bytesPerSecond: hub.bytesPerSecond,
    rateLimitGrace: hub.rateLimitGrace,
    authTimeoutMs: hub.authTimeout,
    tenantScoped: hub.tenantScoped,
  });
}

function topicsOf(hub: ServeHubConfig | undefined): ServeTopicRule[] {
  return (hub?.topics ?? []).map(({ history, ...rule }) => {
    const out: ServeTopicRule = defined(rule);
    if (history !== undefined) out.history = defined({ size: history.size, ttlMs: history.ttl });
    return out;
  });
}

function hubPart(flags: ServeFlags, file: ServeFileConfig) {
  const hub = file.hub;
  return {
    presence: flags.presence ?? hub?.presence ?? false,
    presenceTtlMs: flags.presenceTtlMs ?? hub?.presenceTtl ?? 30_000,
    historySize: flags.historySize ?? hub?.history?.size,
    historyTtlMs: flags.historyTtlMs ?? hub?.history?.ttl,
    limits: limitsOf(hub),
    topics: topicsOf(hub),
  };
}

/**
 * The options `conduit serve` runs with: `flags` over the file `loaded` (if any) over the defaults.
 * Throws a {@link ServeConfigError} (or, without a file, a {@link CliError}) when they do not add up.
 */
export function mergeServeOptions(
  flags: ServeFlags,
  loaded: LoadedServeConfig | undefined,
  env: Environment = process.env,
): ServeOptions {
  const file: ServeFileConfig = loaded?.config ?? {};
  const rateLimit = file.upgradeRateLimit;
  return {
    ...listenPart(flags, loaded),
    ...enginePart(flags, loaded),
    ...authPart(flags, file, env),
    ...hubPart(flags, file),
    origins: flags.origins ?? file.origins,
    upgradeRateLimit: rateLimit === undefined ? undefined : defined(rateLimit),
    logLevel: flags.logLevel ?? file.log?.level ?? 'info',
    config: flags.config,
    check: flags.check,
  };
}
