/**
 * Schema of one entry of `routes:` — which requests it takes (host, path, headers), where they go, the
 * per-message policies of the connections it carries and the upgrade middleware in front of them. Field
 * reference in the TSDoc of each field below.
 * @module
 */
import { z } from 'zod';
import {
  duration,
  exactlyOne,
  headerName,
  hostPattern,
  integer,
  ipRule,
  name,
  originPattern,
  positiveNumber,
  regex,
  size,
  subprotocol,
  text,
} from './schema-fields.js';
import type { PathMatch, RouteConfig, RouteMiddleware, RoutePolicies } from './types.js';

const absolutePath = () => z.string().startsWith('/', { error: 'expected a path starting with /' });

/**
 * Path match: a string is a prefix on whole segments (`/chat` takes `/chat` and `/chat/room`, not
 * `/chatroom`; `/` takes everything); `{ exact: /x }` takes only `/x`; `{ regex: '^/v[0-9]+/' }` tests
 * a JavaScript regular expression against the path; `{ prefix: /chat }` is the long form of a string.
 * Paths are matched after `.`/`..` segments are resolved.
 */
const pathSchema = z
  .union(
    [
      absolutePath(),
      z
        .strictObject({
          prefix: absolutePath().optional(),
          exact: absolutePath().optional(),
          regex: regex().optional(),
        })
        .superRefine((value, ctx) => {
          exactlyOne(value, ['prefix', 'exact', 'regex'], ctx);
        }),
    ],
    { error: "expected a path like /chat, { exact: /x } or { regex: '^/v[0-9]+/' }" },
  )
  .transform((value): PathMatch => {
    if (typeof value === 'string') return { kind: 'prefix', value };
    if (value.exact !== undefined) return { kind: 'exact', value: value.exact };
    if (value.regex !== undefined) return { kind: 'regex', value: value.regex };
    return { kind: 'prefix', value: value.prefix! };
  });

/** A header condition: an exact value, or `{ regex: <source> }` tested against the value. */
const headerValueSchema = z.union([z.string(), z.strictObject({ regex: regex() })], {
  error: "expected a header value or { regex: '...' }",
});

/**
 * Header conditions, all of which must hold: `{ x-version: "2", user-agent: { regex: Mobile } }`.
 * Names are case-insensitive; values are compared as sent.
 */
const headersSchema = z.record(headerName(), headerValueSchema).transform((record) =>
  Object.entries(record).map(([header, value]) => ({
    name: header,
    value: typeof value === 'string' ? value : value.regex,
  })),
);

/**
 * Plain HTTP requests (not upgrades) on this route: `reject` (426 Upgrade Required, the default),
 * `{ reject: <status 400-599> }`, or `{ proxy: <upstream> }` to forward them to that upstream.
 */
const httpSchema = z
  .union(
    [
      z.literal('reject'),
      z
        .strictObject({ reject: integer(400, 599).optional(), proxy: name().optional() })
        .superRefine((value, ctx) => {
          exactlyOne(value, ['reject', 'proxy'], ctx);
        }),
    ],
    { error: 'expected reject, { reject: <status> } or { proxy: <upstream> }' },
  )
  .transform((value): RouteConfig['http'] => {
    if (value === 'reject') return { kind: 'reject', status: 426 };
    if (value.proxy !== undefined) return { kind: 'proxy', upstream: value.proxy };
    return { kind: 'reject', status: value.reject! };
  });

/**
 * JWT authentication of the upgrade (401 without a valid token): exactly one of `secret` (HMAC, at
 * least 32 bytes) and `jwksUrl`; optional `issuer`, `audience`; `queryParam` (default `token`, false to
 * accept only the `Authorization: Bearer` header).
 */
const jwtSchema = z
  .strictObject({
    secret: z.string().min(32, { error: 'expected an HMAC secret of at least 32 characters' }).optional(),
    jwksUrl: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }).optional(),
    issuer: text().optional(),
    audience: text().optional(),
    queryParam: z.union([text(), z.literal(false)]).default('token'),
  })
  .superRefine((value, ctx) => {
    exactlyOne(value, ['secret', 'jwksUrl'], ctx);
  });

/** Upgrades per second per client IP, as a number (`5`) or `{ perSecond: 5, burst: 10 }`. */
const upgradeRateSchema = z
  .union([positiveNumber(), z.strictObject({ perSecond: positiveNumber(), burst: integer(1).optional() })], {
    error: 'expected a number of upgrades per second or { perSecond, burst }',
  })
  .transform((value) => {
    const perSecond = typeof value === 'number' ? value : value.perSecond;
    const burst = typeof value === 'number' ? undefined : value.burst;
    return { perSecond, burst: burst ?? Math.max(1, Math.ceil(perSecond)) };
  });

/** Upgrade middleware; each part is off unless given. */
const middlewareSchema = z
  .strictObject({
    /** JWT authentication; see {@link jwtSchema}. */
    jwt: jwtSchema.optional(),
    /** Allowed `Origin`s (403 otherwise): `https://app.example.com`, `https://*.example.com`, `*`. */
    origins: z.array(originPattern()).optional(),
    /** Only these client addresses or CIDR blocks may connect (403 otherwise). */
    ipAllow: z.array(ipRule()).optional(),
    /** These client addresses or CIDR blocks may never connect; checked before `ipAllow`. */
    ipDeny: z.array(ipRule()).optional(),
    /** Concurrent connections per client IP; 0: unlimited. Default 0. */
    maxConnectionsPerIp: integer(0).default(0),
    /** Upgrade rate per client IP (429 beyond); see {@link upgradeRateSchema}. Default: unlimited. */
    upgradeRateLimit: upgradeRateSchema.optional(),
  })
  .transform(
    (value): RouteMiddleware => ({
      jwt: value.jwt ?? null,
      origins: value.origins ?? null,
      ipAllow: value.ipAllow ?? null,
      ipDeny: value.ipDeny ?? null,
      maxConnectionsPerIp: value.maxConnectionsPerIp,
      upgradeRateLimit: value.upgradeRateLimit ?? null,
    }),
  );

/** One route, as written in `routes:`; routes are tried in order and the first match wins. */
export const routeSchema = z.strictObject({
  /** Name in metrics and logs. Default `route<index>`. */
  name: name().optional(),
  /** Host header to match, `example.com` or `*.example.com` (any subdomain); absent: any host. */
  host: hostPattern().optional(),
  /** Path match; see {@link pathSchema}. Default `/` (every path). */
  path: pathSchema.default({ kind: 'prefix', value: '/' }),
  /** Header conditions; see {@link headersSchema}. */
  headers: headersSchema.default([]),
  /** The upstream (a key of `upstreams`, with ws:// or wss:// backends) that takes the connections. */
  upstream: name(),
  /** `frames` (default): frame-aware proxying with the policies below; `tunnel`: bytes only, after the 101. */
  mode: z.enum(['frames', 'tunnel']).default('frames'),
  /** Plain HTTP requests; see {@link httpSchema}. Default `reject` (426). */
  http: httpSchema.default({ kind: 'reject', status: 426 }),
  /** Subprotocols clients may ask for; others are not offered upstream. Default: any. */
  subprotocols: z.array(subprotocol()).default([]),
  /** permessage-deflate: `negotiate` (default; each side on its own), `passthrough` (end to end), `off`. */
  compression: z.enum(['negotiate', 'passthrough', 'off']).default('negotiate'),
  /** Close both sides after this long without a message either way; 0: never. Default 0. */
  idleTimeout: duration().default(0),
  /** Largest message either way (1009 beyond). Default 16MiB. */
  maxMessageSize: size(1).default(16 * 1024 * 1024),
  /** Client messages per second, bursting one second's worth (1008 beyond); 0: unlimited. Default 0. */
  maxMessagesPerSecond: integer(0).default(0),
  /** Ping both sides this often; 0: never. Default 30s. */
  pingInterval: duration().default(30_000),
  /** Upgrade middleware; see {@link middlewareSchema}. */
  middleware: middlewareSchema.prefault({}),
});

/** A parsed route before it gets its default name. */
export type ParsedRoute = z.output<typeof routeSchema>;

/** The route as the gateway uses it; `index` names unnamed routes (`route0`, `route1`, ...). */
export function toRouteConfig(route: ParsedRoute, index: number): RouteConfig {
  const policies: RoutePolicies = {
    subprotocols: route.subprotocols,
    compression: route.compression,
    idleTimeoutMs: route.idleTimeout,
    maxMessageBytes: route.maxMessageSize,
    maxMessagesPerSecond: route.maxMessagesPerSecond,
    pingIntervalMs: route.pingInterval,
  };
  return {
    name: route.name ?? `route${index}`,
    host: route.host ?? null,
    path: route.path,
    headers: route.headers,
    upstream: route.upstream,
    mode: route.mode,
    http: route.http,
    policies,
    middleware: route.middleware,
  };
}
