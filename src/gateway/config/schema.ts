/**
 * The gateway configuration file format (YAML or JSON), as a zod 4 schema producing {@link GatewayConfig}.
 * The TSDoc of each field is the field reference: what it means, the spellings it accepts, its default.
 *
 * Conventions: durations are numbers of milliseconds or strings like `250ms`, `30s`, `1m30s`, `2h`;
 * sizes are numbers of bytes or strings like `64KiB`, `16MiB`, `1MB`; numbers may also be written as
 * numeric strings (what `${VAR}` interpolation produces). Unknown fields are errors, so typos do not
 * pass silently.
 *
 * ```yaml
 * listen:
 *   - port: 8080
 * upstreams:
 *   echo:
 *     balance: least-connections
 *     backends:
 *       - url: ws://127.0.0.1:9001
 *       - url: ws://127.0.0.1:9002
 * routes:
 *   - path: /
 *     upstream: echo
 * admin:
 *   port: 9901
 * ```
 * @module
 */
import { z } from 'zod';
import { duration, flag, hostPattern, name, port, text } from './schema-fields.js';
import { routeSchema, toRouteConfig } from './schema-route.js';
import { upstreamSchema } from './schema-upstream.js';
import type { AdminConfig, GatewayConfig, ListenerConfig, TlsConfig, UpstreamConfig } from './types.js';

/**
 * TLS of a listener (clients then connect with wss://): PEM file paths `cert` and `key`, and `sni`, a
 * list of `{ serverName, cert, key }` chosen by the name the client asks for (exact, or
 * `*.example.com`); the default pair answers everything else.
 */
const tlsSchema = z.strictObject({
  /** PEM certificate chain file. */
  cert: text(),
  /** PEM private key file. */
  key: text(),
  /** Certificates by server name. Default none. */
  sni: z.array(z.strictObject({ serverName: hostPattern(), cert: text(), key: text() })).default([]),
});

/** A port clients connect to. */
const listenerSchema = z
  .strictObject({
    /** TCP port; 0 picks a free one. */
    port: port(),
    /** Address to bind. Default `0.0.0.0`. */
    host: text().default('0.0.0.0'),
    /** TLS; see {@link tlsSchema}. Default: none (plain ws://). */
    tls: tlsSchema.optional(),
    /**
     * Also take WebSockets over HTTP/2 (RFC 8441) on this port, HTTP/1.1 still served: with `tls` the
     * client's ALPN choice decides (h2), without it the first bytes do (h2c with prior knowledge).
     * Default false.
     */
    http2: flag().default(false),
  })
  .transform(
    (value): ListenerConfig => ({
      port: value.port,
      host: value.host,
      tls: (value.tls as TlsConfig) ?? null,
      // Only when on: configurations written before HTTP/2 keep their exact shape.
      ...(value.http2 ? { http2: true } : {}),
    }),
  );

/** The admin listener: /metrics, /healthz, /status, POST /reload and the dashboard. */
const adminSchema = z.strictObject({
  /** TCP port. */
  port: port(),
  /** Address to bind. Default `127.0.0.1`: the admin API should not face the internet. */
  host: text().default('127.0.0.1'),
});

/** The whole file. */
export const gatewayConfigSchema = z
  .strictObject({
    /** Listeners (at least one); see {@link listenerSchema}. */
    listen: z.array(listenerSchema).min(1),
    /** Upstreams by name (letters, digits, `_`, `.`, `-`); see `upstreamSchema` in schema-upstream.ts. */
    upstreams: z.record(name(), upstreamSchema),
    /** Routes (at least one), tried in order; see `routeSchema` in schema-route.ts. */
    routes: z.array(routeSchema).min(1),
    /** Admin listener; absent: none. */
    admin: adminSchema.optional(),
    /** On SIGTERM clients get 1001 at once; time their close handshakes may take. Default 30s. */
    drainTimeout: duration().default(30_000),
  })
  .transform(
    (value): GatewayConfig => ({
      listen: value.listen,
      upstreams: new Map(
        Object.entries(value.upstreams).map(([key, upstream]): [string, UpstreamConfig] => [
          key,
          { name: key, ...upstream },
        ]),
      ),
      routes: value.routes.map(toRouteConfig),
      admin: (value.admin as AdminConfig | undefined) ?? null,
      drainTimeoutMs: value.drainTimeout,
    }),
  );

/** The configuration as written (before defaults), e.g. for building one in code. */
export type GatewayConfigInput = z.input<typeof gatewayConfigSchema>;
