/**
 * The command line of `conduit serve`: its usage text, its options, and their validation.
 * @module
 */
import { parseArgs } from 'node:util';
import { originAllowList } from '../server/middleware/origin.js';
import { CliError, parsePort } from './args.js';

/** Usage of `conduit serve`. */
export const SERVE_USAGE = `Usage: conduit serve --port PORT [options]

Serves on one HTTP port:
  /hub        the realtime hub (conduit.v1 over WebSocket, docs/hub-protocol.md)
  /echo       a WebSocket echo endpoint (each message is sent back with its type)
  /           a chat demo page on the hub (rooms are topics chat.<room>, with presence)
  /dashboard  a live dashboard of the serving process (fed over /dashboard/feed)
  /metrics    Prometheus metrics: server, hub, engine, process (summed over workers)
  /healthz    200 "ok", or 503 while the engine (Redis) is unreachable

Options:
  --port PORT             TCP port (0 picks a free one; the real one is printed)
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

Prints one line per endpoint ("hub: ws://HOST:PORT/hub", ...) once ready, then logs JSON lines (pino)
to stdout. SIGINT or SIGTERM closes every connection with 1001 and exits with status 0.`;

/** The parsed options of `conduit serve`. */
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
}

const LOG_LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);
/** A sanity bound: more workers than this is a typo, not a deployment. */
const MAX_WORKERS = 256;
/** RFC 7518 §3.2: an HMAC key for HS256 is at least 256 bits. */
const MIN_SECRET_BYTES = 32;

const OPTIONS = {
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

/** Every `--redis` value, commas split, each a redis:// or rediss:// URL. */
function redisUrls(values: string[] | undefined): string[] {
  const urls = (values ?? []).flatMap((value) => value.split(',')).map((url) => url.trim());
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

function jwtOptions(secretArg: string | undefined, jwksUrl: string | undefined): [string?, string?] {
  const fromEnv = jwksUrl === undefined ? process.env.CONDUIT_JWT_SECRET : undefined;
  const secret = secretArg ?? (fromEnv === '' ? undefined : fromEnv);
  if (secretArg !== undefined && jwksUrl !== undefined) {
    throw new CliError('conduit serve: --jwt-secret and --jwks-url exclude each other');
  }
  if (secret !== undefined && Buffer.byteLength(secret) < MIN_SECRET_BYTES) {
    throw new CliError(`conduit serve: the JWT secret must have at least ${MIN_SECRET_BYTES} bytes`);
  }
  if (jwksUrl !== undefined && !/^https?:\/\/[^/]/.test(jwksUrl)) {
    throw new CliError(`Invalid --jwks-url ${JSON.stringify(jwksUrl)}: expected an http(s) URL`);
  }
  return [secret, jwksUrl];
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

function logLevel(text: string | undefined): string {
  if (text === undefined) return 'info';
  if (!LOG_LEVELS.has(text)) throw new CliError(`Invalid --log-level ${JSON.stringify(text)}`);
  return text;
}

/** Parses the arguments after `serve`. Throws a {@link CliError} (or a parseArgs error) for invalid ones. */
export function parseServeArgs(args: string[]): ServeOptions {
  const { values } = parseArgs({ args, strict: true, allowPositionals: false, options: OPTIONS });
  if (values.port === undefined) throw new CliError('conduit serve: --port is required');
  const redis = redisUrls(values.redis);
  const workers = values.workers === undefined ? 1 : integer('--workers', values.workers, 1, MAX_WORKERS);
  if (workers >= 2 && redis.length === 0) {
    throw new CliError('conduit serve: --workers 2 or more needs --redis (workers share topics through it)');
  }
  const [jwtSecret, jwksUrl] = jwtOptions(values['jwt-secret'], values['jwks-url']);
  const historySize = values['history-size'];
  const historyTtl = values['history-ttl'];
  const presenceTtl = values['presence-ttl'];
  return {
    port: parsePort(values.port),
    host: values.host ?? '127.0.0.1',
    redis,
    workers,
    jwtSecret,
    jwksUrl,
    origins: origins(values.origin),
    presence: values.presence ?? false,
    presenceTtlMs: presenceTtl === undefined ? 30_000 : seconds('--presence-ttl', presenceTtl),
    historySize: historySize === undefined ? undefined : integer('--history-size', historySize, 0, 1e9),
    historyTtlMs: historyTtl === undefined ? undefined : seconds('--history-ttl', historyTtl),
    logLevel: logLevel(values['log-level']),
  };
}
