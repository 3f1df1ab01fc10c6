/**
 * The `conduit serve --config FILE` format (YAML or JSON) as a zod 4 schema. Every section is optional;
 * what a section leaves out keeps the command line's value, then the default. Durations are numbers of
 * ms or strings like `30s`; sizes are numbers of bytes or strings like `64KiB`. Unknown fields are
 * errors, so that a typo does not silently leave a limit at its default. docs/serve.md is the reference.
 * @module
 */
import { z } from 'zod';
import { isValidTopic } from '../engines/topic-pattern.js';
import {
  count,
  duration,
  flag,
  oneOf,
  oneOrMany,
  originPattern,
  rate,
  size,
  text,
  url,
} from './serve-config-fields.js';

/** Log levels of pino, as `--log-level` takes them. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** `listen`: where to serve, and TLS (https/wss) with PEM files read at load. */
const listenSchema = z.strictObject({
  port: count(0, 65_535).optional(),
  host: text().optional(),
  tls: z.strictObject({ cert: text(), key: text() }).optional(),
});

/** `engine: { redis: ... }`: RedisEngineOptions, with durations in the file's units. */
const redisSchema = z.strictObject({
  urls: oneOrMany(url(['redis:', 'rediss:'], 'expected a redis:// or rediss:// URL')),
  prefix: text().optional(),
  connectTimeout: duration(1).optional(),
  commandTimeout: duration(1).optional(),
  reconnectDelay: duration(1).optional(),
  maxReconnectDelay: duration(1).optional(),
  topicTtl: duration(1).optional(),
  idempotencyTtl: duration(1).optional(),
  presenceSweepInterval: duration(1).optional(),
  presenceSweepBatch: count(1).optional(),
  virtualNodes: count(1).optional(),
});

const engineSchema = z.union([z.literal('memory'), z.strictObject({ redis: redisSchema })], {
  error: 'expected memory or a mapping { redis: { urls: [...] } }',
});

/** History kept per topic: most publications, and for how long. */
const historySchema = z.strictObject({ size: count(0).optional(), ttl: duration().optional() });

const topicMatch = z.string().refine((match) => isValidTopic(match, true), {
  error: 'expected a topic or pattern like chat.* or prices.>',
});

/** One rule of `hub.topics`: the first rule matching a topic sets its policy. */
const topicRuleSchema = z.strictObject({
  match: topicMatch,
  history: historySchema.optional(),
  presence: flag().optional(),
  slowConsumer: oneOf(['drop-oldest', 'drop-newest', 'disconnect']).optional(),
  clientPublish: flag().optional(),
});

/** `hub`: every HubOptions limit, the default topic policy, and topic rules. */
const hubSchema = z.strictObject({
  presence: flag().optional(),
  history: historySchema.optional(),
  maxSubscriptions: count(0).optional(),
  maxPublishBytes: size().optional(),
  maxQueueBytes: size().optional(),
  messagesPerSecond: count(0).optional(),
  bytesPerSecond: size().optional(),
  rateLimitGrace: count(0).optional(),
  presenceTtl: duration(1).optional(),
  authTimeout: duration(1).optional(),
  tenantScoped: flag().optional(),
  topics: z.array(topicRuleSchema).optional(),
});

/** `auth.jwt`: JwtVerifierOptions; one of `secret` and `jwksUrl` is checked by the loader. */
const jwtSchema = z.strictObject({
  secret: text().optional(),
  jwksUrl: url(['http:', 'https:'], 'expected an http(s) URL').optional(),
  issuer: oneOrMany(text()).optional(),
  audience: oneOrMany(text()).optional(),
  tenantClaim: text().optional(),
  permissionsClaim: text().optional(),
  required: flag().optional(),
});

/** The whole file. */
export const serveConfigSchema = z.strictObject({
  listen: listenSchema.optional(),
  engine: engineSchema.optional(),
  workers: count(1, 256).optional(),
  hub: hubSchema.optional(),
  auth: z.strictObject({ jwt: jwtSchema.optional() }).optional(),
  origins: z.array(originPattern()).optional(),
  upgradeRateLimit: z.strictObject({ perSecond: rate(), burst: count(1).optional() }).optional(),
  log: z.strictObject({ level: oneOf(LOG_LEVELS).optional() }).optional(),
});

/** A validated configuration file (units converted: ms and bytes). */
export type ServeFileConfig = z.output<typeof serveConfigSchema>;

/** The Redis section of a validated file. */
export type ServeRedisConfig = z.output<typeof redisSchema>;

/** The JWT section of a validated file. */
export type ServeJwtConfig = z.output<typeof jwtSchema>;

/** The hub section of a validated file. */
export type ServeHubConfig = z.output<typeof hubSchema>;
