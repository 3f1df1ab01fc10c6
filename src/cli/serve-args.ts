/**
 * The command line of `conduit serve`: its usage text, its options, and their validation. With
 * `--config FILE`, the flags given override the file (serve-config-merge.ts).
 * @module
 */
import { parseArgs } from 'node:util';
import type { HistoryOptions } from '../engines/engine.js';
import type { RedisEngineOptions } from '../engines/redis-options.js';
import type { Environment } from '../gateway/config/interpolate.js';
import type { HubOptions, TopicRule } from '../hub/options.js';
import type { JwtVerifierOptions } from '../server/middleware/jwt.js';
import { originAllowList } from '../server/middleware/origin.js';
import type { UpgradeRateLimitOptions } from '../server/middleware/rate-limit.js';
import { CliError, parsePort } from './args.js';
import { loadServeConfig, MIN_SECRET_BYTES, type ServeTls } from './serve-config.js';
import { mergeServeOptions } from './serve-config-merge.js';
import { LOG_LEVELS } from './serve-config-schema.js';

/** Usage of `conduit serve`. */
export const SERVE_USAGE = `Usage: conduit serve --port PORT [options]
       conduit serve --config FILE [options]

Serves on one HTTP port:
  /hub        the realtime hub (conduit.v1 over WebSocket, docs/hub-protocol.md)
  /echo       a WebSocket echo endpoint (each message is sent back with its type)
  /           a chat demo page on the hub (rooms are topics chat.<room>, with presence)
  /dashboard  a live dashboard of the serving process (fed over /dashboard/feed)
  /metrics    Prometheus metrics: server, hub, engine, process (summed over workers)
  /healthz    200 "ok", or 503 while the engine (Redis) is unreachable

Options:
  --config FILE           read the settings from FILE (YAML or JSON, docs/serve.md#configuration-file):
                          listen (port, host, tls), engine, workers, hub limits and topic rules, auth,
                          origins, upgradeRateLimit, log; \${VAR} and \${VAR:-default} are read from the
                          environment; the options below override the file
  --check                 with --config: validate FILE (TLS files included), print "ok" and exit 0, or
                          print its problems and exit 2; nothing is started
  --port PORT             TCP port (0 picks a free one; the real one is printed); required without
                          --config, or when FILE has no listen.port
  --host HOST             address to listen on (default 127.0.0.1)
  --redis URL[,URL...]    keep topics in Redis (redis:// or rediss://) instead of in memory, so that
                          several processes or machines serve the same topics; several URLs shard topics
                          (every node must list the same URLs, spelled the same, in any order)
  --workers N             run N worker processes sharing the port, connections spread round-robin
                          (default 1; N >= 2 needs --redis); a worker that dies is restarted
  --jwt-secret SECRET     require a JWT signed with this HMAC secret (HS256/384/512, >= 32 bytes);
                          CONDUIT_JWT_SECRET in the environment keeps it out of the process list
  --jwks-url URL          require a JWT verified against this JWK Set (https://...)
  --origin ORIGIN         browsers may connect only from this origin (repeatable; https://*.example.com
                          matches subdomains; default: any origin; non-browser clients always may)
  --presence              track presence (join/leave, presence queries) on every topic
                          (topics chat.> always have it, for the chat demo)
  --presence-ttl SECONDS  a client of a node that died stays present this long at most (default 30)
  --history-size N        publications kept per topic for resume (default 100; 0 keeps none)
  --history-ttl SECONDS   how long they are kept (default 300)
  --log-level LEVEL       trace, debug, info, warn, error, fatal or silent (default info)
  --help                  show this help

Prints one line per endpoint ("hub: ws://HOST:PORT/hub", wss:// and https:// with listen.tls) once
ready, then logs JSON lines (pino) to stdout. SIGINT or SIGTERM closes every connection with 1001 and
exits with status 0. An invalid FILE prints one line per problem and exits with status 2.`;

/** A topic rule of the configuration file; what it leaves out follows the default topic policy. */
export interface ServeTopicRule extends Omit<TopicRule, 'history'> {
  history?: Partial<HistoryOptions>;
}

/** The hub limits a configuration file may set; unset ones keep the hub's defaults. */
export type ServeHubLimits = Pick<
  HubOptions,
  | 'maxSubscriptions'
  | 'maxPublishBytes'
  | 'maxQueueBytes'
  | 'messagesPerSecond'
  | 'bytesPerSecond'
  | 'rateLimitGrace'
  | 'authTimeoutMs'
  | 'tenantScoped'
>;

/** Redis engine settings beyond the URLs; unset ones keep the engine's defaults. */
export type ServeRedisSettings = Omit<
  RedisEngineOptions,
  'url' | 'urls' | 'registry' | 'logger' | 'redisOptions' | 'metricsPrefix'
>;

/** JWT checks beyond the key; unset ones are not checked. */
export type ServeJwtChecks = Pick<
  JwtVerifierOptions,
  'issuer' | 'audience' | 'tenantClaim' | 'permissionsClaim'
>;

/** The parsed options of `conduit serve`: the flags over the configuration file over the defaults. */
export interface ServeOptions {
  port: number;
  host: string;
  /** Redis URLs; empty for the in-memory engine. */
  redis: string[];
  workers: number;
  jwtSecret: string | undefined;
  jwksUrl: string | undefined;
  origins: string[] | undefined;
  presence: boolean;
  presenceTtlMs: number;
  historySize: number | undefined;
  historyTtlMs: number | undefined;
  logLevel: string;
  /** Serve https and wss with this certificate chain and key (`listen.tls`). Default: plain http and ws. */
  tls: ServeTls | undefined;
  /** `engine.redis` settings besides the URLs. */
  redisSettings: ServeRedisSettings;
  /** `hub` limits. */
  limits: ServeHubLimits;
  /** `hub.topics`: tried in order, before the chat demo's rule. */
  topics: ServeTopicRule[];
  /** `auth.jwt` checks besides the key. */
  jwtChecks: ServeJwtChecks;
  /** `auth.jwt.required`; undefined: required whenever a JWT key is set. */
  requireAuth: boolean | undefined;
  /** Upgrades per second per client IP on /hub and on /echo (each counted apart). Default: unlimited. */
  upgradeRateLimit: UpgradeRateLimitOptions | undefined;
  /** The `--config` file, if any. */
  config: string | undefined;
  /** `--check`: validate and exit. */
  check: boolean;
}

/** What the command line says; undefined for the flags not given (the file and the defaults fill them). */
export interface ServeFlags {
  port?: number;
  host?: string;
  redis?: string[];
  workers?: number;
  jwtSecret?: string;
  jwksUrl?: string;
  origins?: string[];
  presence?: boolean;
  presenceTtlMs?: number;
  historySize?: number;
  historyTtlMs?: number;
  logLevel?: string;
  config?: string;
  check: boolean;
}

/** A sanity bound: more workers than this is a typo, not a deployment. */
const MAX_WORKERS = 256;

const OPTIONS = {
  config: { type: 'string' },
  check: { type: 'boolean' },
  port: { type: 'string' },
  host: { type: 'string' },
  redis: { type: 'string', multiple: true },
  workers: { type: 'string' },
  'jwt-secret': { type: 'string' },
  'jwks-url': { type: 'string' },
  origin: { type: 'string', multiple: true },
  presence: { type: 'boolean' },
  'presence-ttl': { type: 'string' },
  'history-size': { type: 'string' },
  'history-ttl': { type: 'string' },
  'log-level': { type: 'string' },
} as const;

function integer(option: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) {
    throw new CliError(`Invalid ${option} ${JSON.stringify(text)}: expected an integer ${min}..${max}`);
  }
  return value;
}

/** Seconds (decimals allowed) to milliseconds. */
function seconds(option: string, text: string): number {
  const value = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || !(value > 0) || value > 31_536_000) {
    throw new CliError(`Invalid ${option} ${JSON.stringify(text)}: expected a positive number of seconds`);
  }
  return Math.round(value * 1000);
}

/** Every `--redis` value, commas split, each a redis:// or rediss:// URL; undefined when none is given. */
function redisUrls(values: string[] | undefined): string[] | undefined {
  if (values === undefined) return undefined;
  const urls = values.flatMap((value) => value.split(',')).map((url) => url.trim());
  for (const url of urls) {
    let protocol = '';
    try {
      protocol = new URL(url).protocol;
    } catch {
      // Reported below with the others.
    }
    if (protocol !== 'redis:' && protocol !== 'rediss:') {
      throw new CliError(
        `Invalid --redis ${JSON.stringify(url)}: expected redis://HOST:PORT or rediss://...`,
      );
    }
  }
  return urls;
}

/** The JWT key flags; CONDUIT_JWT_SECRET is read later, as the last resort after the file. */
function checkJwtFlags(secret: string | undefined, jwksUrl: string | undefined): void {
  if (secret !== undefined && jwksUrl !== undefined) {
    throw new CliError('conduit serve: --jwt-secret and --jwks-url exclude each other');
  }
  if (secret !== undefined && Buffer.byteLength(secret) < MIN_SECRET_BYTES) {
    throw new CliError(`conduit serve: the JWT secret must have at least ${MIN_SECRET_BYTES} bytes`);
  }
  if (jwksUrl !== undefined && !/^https?:\/\/[^/]/.test(jwksUrl)) {
    throw new CliError(`Invalid --jwks-url ${JSON.stringify(jwksUrl)}: expected an http(s) URL`);
  }
}

function origins(values: string[] | undefined): string[] | undefined {
  if (values === undefined) return undefined;
  try {
    originAllowList(values); // compiles the patterns: a bad one throws here, not at the first browser
  } catch (error) {
    throw new CliError(`Invalid --origin: ${(error as Error).message}`);
  }
  return values;
}

function logLevel(text: string | undefined): string | undefined {
  if (text !== undefined && !(LOG_LEVELS as readonly string[]).includes(text)) {
    throw new CliError(`Invalid --log-level ${JSON.stringify(text)}`);
  }
  return text;
}

/** `parse(text)`, or undefined for a flag that was not given. */
function maybe<T>(text: string | undefined, parse: (text: string) => T): T | undefined {
  return text === undefined ? undefined : parse(text);
}

/**
 * Parses and checks the flags alone; a flag not given stays undefined, so that the file fills it.
 * Throws a {@link CliError} (or a parseArgs error) for invalid ones.
 */
export function parseServeFlags(args: string[]): ServeFlags {
  const { values } = parseArgs({ args, strict: true, allowPositionals: false, options: OPTIONS });
  if (values.config === undefined && values.port === undefined) {
    throw new CliError('conduit serve: --port is required (or --config FILE with listen.port)');
  }
  if (values.check && values.config === undefined) {
    throw new CliError('conduit serve: --check needs --config');
  }
  checkJwtFlags(values['jwt-secret'], values['jwks-url']);
  return {
    config: values.config,
    check: values.check ?? false,
    port: maybe(values.port, parsePort),
    host: values.host,
    redis: redisUrls(values.redis),
    workers: maybe(values.workers, (text) => integer('--workers', text, 1, MAX_WORKERS)),
    jwtSecret: values['jwt-secret'],
    jwksUrl: values['jwks-url'],
    origins: origins(values.origin),
    presence: values.presence,
    presenceTtlMs: maybe(values['presence-ttl'], (text) => seconds('--presence-ttl', text)),
    historySize: maybe(values['history-size'], (text) => integer('--history-size', text, 0, 1e9)),
    historyTtlMs: maybe(values['history-ttl'], (text) => seconds('--history-ttl', text)),
    logLevel: logLevel(values['log-level']),
  };
}

/**
 * Parses the arguments after `serve`: the flags, then the `--config` file if given (flags win), then the
 * defaults. Throws a {@link CliError} (or a parseArgs error) for invalid flags, and a
 * `ServeConfigError` listing the problems of an invalid file.
 */
export function parseServeArgs(args: string[], env: Environment = process.env): ServeOptions {
  const flags = parseServeFlags(args);
  const loaded = flags.config === undefined ? undefined : loadServeConfig(flags.config, env);
  return mergeServeOptions(flags, loaded, env);
}
