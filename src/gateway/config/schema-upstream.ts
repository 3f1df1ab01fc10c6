/**
 * Schema of one entry of `upstreams:` — a named group of interchangeable backends, how one of them is
 * picked, and how their health is watched. Field reference in the TSDoc of each field below.
 * @module
 */
import { z } from 'zod';
import {
  backendUrl,
  duration,
  exactlyOne,
  headerName,
  http2Mode,
  integer,
  isWebSocketUrl,
  text,
} from './schema-fields.js';
import type {
  BackendConfig,
  BalanceConfig,
  HashKey,
  HealthCheckConfig,
  PassiveHealthConfig,
  UpstreamConfig,
  UpstreamHttp2,
} from './types.js';

/** Highest backend weight: `hash` balancing places 128 ring points per unit of weight. */
export const MAX_WEIGHT = 256;

/**
 * A backend: `url` (ws://, wss://; http:// or https:// for an upstream used only for plain HTTP
 * requests), `weight` (1–256, default 1) — its share under `weighted`, and its share of the hash
 * ring under `hash` — and `http2` (see the upstream's). A bare string is short for `{ url: <string> }`.
 */
const backendSchema = z
  .union([
    z.string(),
    z.strictObject({
      /** Where the backend listens: `ws://10.0.0.5:9001`, `wss://chat-1.internal/ws`. */
      url: z.string({ error: 'expected a ws:// or wss:// URL' }),
      /** Relative share of connections. Default 1. */
      weight: integer(1, MAX_WEIGHT).default(1),
      /** Overrides the upstream's `http2` for this backend. */
      http2: http2Mode().optional(),
    }),
  ])
  .transform((value) => (typeof value === 'string' ? { url: value, weight: 1 } : value))
  .pipe(
    z.object({
      url: backendUrl(),
      weight: z.number(),
      http2: z.union([z.boolean(), z.literal('auto')]).optional(),
    }),
  )
  .transform(
    (value): BackendConfig => ({
      url: value.url,
      weight: value.weight,
      ...(value.http2 === undefined ? {} : { http2: value.http2 }),
    }),
  );

/**
 * What `hash` balancing hashes: `ip` (the client address), or one of `{ header: <name> }`,
 * `{ cookie: <name> }`, `{ query: <parameter> }`. A request without the header, cookie or parameter
 * is placed by its client address instead.
 */
const hashKeySchema = z
  .union(
    [
      z.literal('ip'),
      z
        .strictObject({
          header: headerName().optional(),
          cookie: text().optional(),
          query: text().optional(),
        })
        .superRefine((value, ctx) => {
          exactlyOne(value, ['header', 'cookie', 'query'], ctx);
        }),
    ],
    { error: 'expected ip, { header: <name> }, { cookie: <name> } or { query: <name> }' },
  )
  .transform((value): HashKey => {
    if (value === 'ip') return { kind: 'ip' };
    if (value.header !== undefined) return { kind: 'header', name: value.header };
    if (value.cookie !== undefined) return { kind: 'cookie', name: value.cookie };
    return { kind: 'query', name: value.query! };
  });

/**
 * Backend selection: `least-connections` (default; fewest active connections per unit of weight),
 * `round-robin`, `weighted` (smooth weighted round-robin on backend weights), or
 * `{ hash: <key> }` — consistent hashing, so that the same key keeps reaching the same backend
 * (sticky sessions) and adding or removing one of n backends moves only about 1/n of the keys.
 */
const balanceSchema = z
  .union(
    [z.enum(['least-connections', 'round-robin', 'weighted']), z.strictObject({ hash: hashKeySchema })],
    {
      error:
        'expected least-connections, round-robin, weighted or { hash: ip | { header | cookie | query: <name> } }',
    },
  )
  .transform(
    (value): BalanceConfig =>
      typeof value === 'string' ? { kind: value } : { kind: 'hash', key: value.hash },
  );

/** Active health checks, run against every backend of the upstream. */
const healthCheckSchema = z
  .strictObject({
    /** `handshake` (default): open a WebSocket and close it; `http`: GET `path`, expecting a 2xx answer. */
    type: z.enum(['handshake', 'http']).default('handshake'),
    /** Path the check requests. Default `/`. */
    path: z.string().startsWith('/', { error: 'expected a path starting with /' }).default('/'),
    /** Time between two checks of a backend. Default 5s. */
    interval: duration(1).default(5000),
    /** A check that takes longer fails. Default 2s; at most `interval`. */
    timeout: duration(1).default(2000),
    /** Consecutive failed checks that take a backend out. Default 2. */
    unhealthyThreshold: integer(1, 1000).default(2),
    /** Consecutive successful checks that bring it back. Default 2. */
    healthyThreshold: integer(1, 1000).default(2),
  })
  .superRefine((value, ctx) => {
    if (value.timeout > value.interval) {
      ctx.issues.push({
        code: 'custom',
        path: ['timeout'],
        input: value.timeout,
        message: `expected a timeout no longer than the interval (${value.interval} ms)`,
      });
    }
  })
  .transform(
    (value): HealthCheckConfig => ({
      kind: value.type,
      path: value.path,
      intervalMs: value.interval,
      timeoutMs: value.timeout,
      unhealthyThreshold: value.unhealthyThreshold,
      healthyThreshold: value.healthyThreshold,
    }),
  );

/** Passive health: backends that keep failing real upgrades sit out for a while. */
const passiveHealthSchema = z
  .strictObject({
    /** Consecutive failed upgrades (connect error, timeout, 5xx) that eject a backend; 0: never. Default 3. */
    consecutiveFailures: integer(0, 1000).default(3),
    /** How long an ejected backend sits out (doubling, up to 8×, while it keeps failing). Default 30s. */
    ejectionTime: duration(1).default(30_000),
  })
  .transform(
    (value): PassiveHealthConfig => ({
      consecutiveFailures: value.consecutiveFailures,
      ejectionMs: value.ejectionTime,
    }),
  );

/** Reports `http2` on backends that are not WebSocket backends (plain HTTP is proxied over HTTP/1.1). */
function checkHttp2(
  backends: readonly BackendConfig[],
  http2: UpstreamHttp2,
  ctx: z.core.$RefinementCtx,
): void {
  backends.forEach((backend, index) => {
    const mode = backend.http2 ?? http2;
    if (mode === false || isWebSocketUrl(backend.url)) return;
    const path = backend.http2 === undefined ? ['http2'] : ['backends', index, 'http2'];
    ctx.issues.push({
      code: 'custom',
      path,
      input: mode,
      message: `expected http2 only for ws:// and wss:// backends (${backend.url.href} is plain HTTP)`,
    });
  });
}

/** Reports backends listed twice, and upstreams mixing WebSocket and HTTP backends. */
function checkBackends(backends: readonly BackendConfig[], ctx: z.core.$RefinementCtx): void {
  const seen = new Set<string>();
  const websocket = backends[0] !== undefined && isWebSocketUrl(backends[0].url);
  backends.forEach((backend, index) => {
    const href = backend.url.href;
    if (seen.has(href)) {
      ctx.issues.push({
        code: 'custom',
        path: ['backends', index, 'url'],
        input: href,
        message: 'expected each backend URL once',
      });
    }
    seen.add(href);
    if (isWebSocketUrl(backend.url) !== websocket) {
      const message = websocket
        ? 'expected a ws:// or wss:// URL like the first backend'
        : 'expected an http:// or https:// URL like the first backend';
      ctx.issues.push({ code: 'custom', path: ['backends', index, 'url'], input: href, message });
    }
  });
}

/** One upstream, as written under `upstreams.<name>`. */
export const upstreamSchema = z
  .strictObject({
    /** Backend selection; see {@link balanceSchema}. Default `least-connections`. */
    balance: balanceSchema.default({ kind: 'least-connections' }),
    /** The backends (at least one). */
    backends: z.array(backendSchema).min(1),
    /** Active health checks; absent: none (backends count as healthy unless ejected). */
    healthCheck: healthCheckSchema.optional(),
    /** Passive ejection settings. Default `{ consecutiveFailures: 3, ejectionTime: 30s }`. */
    passiveHealth: passiveHealthSchema.prefault({}),
    /** Time allowed to connect to a backend and receive its 101 (or response head). Default 5s. */
    connectTimeout: duration(1).default(5000),
    /** Backends tried for one upgrade before answering 502. Default 3. */
    maxAttempts: integer(1, 100).default(3),
    /**
     * How WebSockets to the backends are opened: `false` (default) HTTP/1.1 upgrades; `true` HTTP/2
     * extended CONNECT (RFC 8441), many WebSockets sharing one session per backend; `auto` HTTP/2 where a
     * backend offers it, else HTTP/1.1. A backend's own `http2` overrides it.
     */
    http2: http2Mode().default(false),
  })
  .superRefine((value, ctx) => {
    checkBackends(value.backends, ctx);
    checkHttp2(value.backends, value.http2, ctx);
  })
  .transform(
    (value): Omit<UpstreamConfig, 'name'> => ({
      balance: value.balance,
      backends: value.http2 === false ? value.backends : withHttp2(value.backends, value.http2),
      healthCheck: value.healthCheck ?? null,
      passiveHealth: value.passiveHealth,
      connectTimeoutMs: value.connectTimeout,
      maxAttempts: value.maxAttempts,
      ...(value.http2 === false ? {} : { http2: value.http2 }),
    }),
  );

/** `backends` with `http2` applied to those that set none. */
function withHttp2(backends: readonly BackendConfig[], http2: UpstreamHttp2): BackendConfig[] {
  return backends.map((backend) => (backend.http2 === undefined ? { ...backend, http2 } : backend));
}
