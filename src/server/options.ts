/**
 * Options of a {@link WebSocketServer}, and their resolution into the settings it runs with.
 * @module
 */
import type { Server as HttpServer } from 'node:http';
import type { Http2SecureServer, Http2Server, ServerOptions as Http2ServerOptions } from 'node:http2';
import type { Server as HttpsServer } from 'node:https';
import type { TlsOptions } from 'node:tls';
import { activeLogger, type Logger } from '../observability/logger.js';
import type { ServerMetrics } from '../observability/metric-types.js';
import { createServerMetrics, type MetricsOptions } from '../observability/server-metrics.js';
import type { ExtensionFactory } from '../protocol/extension.js';
import { HttpRequestParser } from '../protocol/http-head.js';
import { type PerMessageDeflateOptions, perMessageDeflate } from '../protocol/permessage-deflate.js';
import {
  resolveTransportOptions,
  type TransportConfig,
  type TransportOptions,
} from '../transport/options.js';
import type { TimerWheel } from '../transport/timer-wheel.js';
import { type OverloadConfig, type OverloadOptions, resolveOverloadOptions } from './overload-guard.js';
import type { UpgradeRequest } from './upgrade-request.js';

/** How the upgrade hook refuses a handshake: an HTTP status (400–599) with optional message and headers. */
export interface UpgradeRejection {
  status: number;
  message?: string;
  headers?: Record<string, string>;
}

/**
 * Decides whether a handshake goes ahead. Return nothing or `true` to accept, `false` to refuse with
 * 403, or an {@link UpgradeRejection}; it may be async. It may set `request.data` and
 * `request.responseHeaders`. Throwing (or rejecting) refuses with 500.
 */
export type UpgradeHook = (
  request: UpgradeRequest,
) => undefined | boolean | UpgradeRejection | Promise<undefined | boolean | UpgradeRejection>;

/** What the ws-compatible `verifyClient` receives. */
export interface VerifyClientInfo {
  origin: string | undefined;
  secure: boolean;
  req: UpgradeRequest;
}

/** Completion of an async `verifyClient`: refuse with `code` (default 401), `message` and `headers`. */
export type VerifyClientCallback = (
  result: boolean,
  code?: number,
  message?: string,
  headers?: Record<string, string>,
) => void;

/**
 * ws-compatible client verification. Declared with one parameter it is synchronous and returns the
 * answer; declared with two it is asynchronous and answers through `callback` (its return value is ignored).
 */
export type VerifyClient = (info: VerifyClientInfo, callback: VerifyClientCallback) => boolean | undefined;

/** Chooses a subprotocol among those offered (ws-compatible): return one of them, or false for none. */
export type HandleProtocols = (protocols: Set<string>, request: UpgradeRequest) => string | false | undefined;

/** Options of a {@link WebSocketServer}. Exactly one of `port`, `server` and `noServer` is required. */
export interface WebSocketServerOptions extends TransportOptions {
  /** Standalone: listen on this port (0 picks a free one) with Conduit's own HTTP/1.1 upgrade parser. */
  port?: number;
  /** Standalone: the address to listen on. Default: all interfaces (as `net.Server.listen`). */
  host?: string;
  /** Standalone: listen backlog. */
  backlog?: number;
  /** Standalone: serve wss (TLS) with these options (`cert`, `key`, ...). */
  tls?: TlsOptions;
  /**
   * Standalone: serve WebSockets over HTTP/2 (RFC 8441) on the same port too: `true`, or the `node:http2`
   * server options to use (`settings.enableConnectProtocol` is always set). With `tls` the client's ALPN
   * choice picks HTTP/2 or HTTP/1.1; in cleartext the first bytes do (h2c with prior knowledge).
   * Default false.
   */
  http2?: boolean | Http2ServerOptions;
  /**
   * Attach to an existing server: the 'upgrade' event of an `http`/`https` server, or the CONNECT streams
   * of a `node:http2` server (RFC 8441; create it with `settings: { enableConnectProtocol: true }`, and
   * `allowHTTP1: true` to take HTTP/1.1 upgrades on the same port too).
   */
  server?: HttpServer | HttpsServer | Http2Server | Http2SecureServer;
  /** Create no listener: call {@link WebSocketServer.handleUpgrade} yourself. */
  noServer?: boolean;
  /** Accept only this request path (query ignored); other paths get 404. Default: every path. */
  path?: string;
  /** ws-compatible verification, run before `upgrade`. A refusal without a code is a 401. */
  verifyClient?: VerifyClient;
  /** Async-friendly verification and routing hook, run after `verifyClient`. */
  upgrade?: UpgradeHook;
  /** Chooses the subprotocol. Default: none is chosen. */
  handleProtocols?: HandleProtocols;
  /** Negotiate permessage-deflate (RFC 7692) with these options, or with the defaults for `true`. Default false. */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** Further extensions to negotiate, after permessage-deflate. */
  extensions?: ExtensionFactory[];
  /** Keep open connections in `server.clients`. Default true. Without it `close()` cannot close them. */
  clientTracking?: boolean;
  /** Refuse handshakes with 503 while this many connections are open or upgrading. Default: no limit. */
  maxConnections?: number;
  /** Refuse handshakes with 429 while one IP address has this many. Default: no limit. */
  maxConnectionsPerIp?: number;
  /**
   * Time from accept (or the 'upgrade' event) to the 101 response, in ms; slower handshakes are cut.
   * 0 disables it. Default 10000.
   */
  handshakeTimeout?: number;
  /** Largest request head, in bytes (standalone listener); bigger ones get 431. Default 16 KiB. */
  maxHeaderSize?: number;
  /**
   * Register Prometheus metrics (connections, handshake failures, messages, bytes, control frames, close
   * codes, heartbeat round trips, backpressure, load) on this prom-client registry. Default: none.
   */
  metrics?: MetricsOptions;
  /**
   * A pino-compatible logger. Connection lines go to `logger.child({ connId })`, created on a connection's
   * first emitted line. Default: silent.
   */
  logger?: Logger;
  /** Refuse upgrades (503) and optionally shed idle connections while the process is overloaded. Default: off. */
  overload?: OverloadOptions;
  /** @internal A timer wheel of one's own (tests). Default: the process-wide wheel. */
  timerWheel?: TimerWheel;
}

/** Resolved settings of a server. */
export interface ServerConfig {
  readonly transport: TransportConfig;
  readonly factories: readonly ExtensionFactory[];
  readonly clientTracking: boolean;
  readonly maxConnections: number;
  readonly maxConnectionsPerIp: number;
  readonly handshakeTimeout: number;
  readonly maxHeaderSize: number;
  readonly path: string | undefined;
  /** The no-op implementation when the `metrics` option is absent (`enabled` false). */
  readonly metrics: ServerMetrics;
  /** Null when no logger (or the silent one) was given. */
  readonly logger: Logger | null;
  readonly overload: OverloadConfig | null;
}

function positiveLimit(name: string, value: number | undefined): number {
  if (value === undefined) return Number.POSITIVE_INFINITY;
  if (typeof value !== 'number' || !(value >= 1)) throw new RangeError(`${name} must be a number >= 1`);
  return value;
}

function extensionFactories(options: WebSocketServerOptions): ExtensionFactory[] {
  const factories: ExtensionFactory[] = [];
  const deflate = options.perMessageDeflate;
  if (deflate) factories.push(perMessageDeflate(deflate === true ? {} : deflate));
  if (options.extensions) factories.push(...options.extensions);
  return factories;
}

/** Validates the options and fills in defaults; throws a TypeError or RangeError for invalid ones. */
export function resolveServerOptions(options: WebSocketServerOptions): ServerConfig {
  const modes =
    Number(options.port !== undefined) + Number(options.server !== undefined) + Number(!!options.noServer);
  if (modes !== 1) {
    throw new TypeError('Exactly one of the "port", "server" and "noServer" options must be given');
  }
  if (options.http2 && options.port === undefined) {
    throw new TypeError('The "http2" option needs "port"; pass a node:http2 server as "server" instead');
  }
  const handshakeTimeout = options.handshakeTimeout ?? 10_000;
  if (!(handshakeTimeout >= 0)) throw new RangeError('handshakeTimeout must be >= 0');
  if (options.path !== undefined && !options.path.startsWith('/')) {
    throw new TypeError('path must start with "/"');
  }
  // The parser validates the limit by its own rule: fail here rather than on the first connection.
  const { maxHeaderSize } = new HttpRequestParser({ maxHeaderSize: options.maxHeaderSize });
  if (options.metrics !== undefined && typeof options.metrics.registry?.registerMetric !== 'function') {
    throw new TypeError('metrics.registry must be a prom-client Registry');
  }
  const metrics = createServerMetrics(options.metrics?.registry, options.metrics?.prefix);
  return {
    transport: resolveTransportOptions(
      'server',
      options,
      options.timerWheel,
      metrics.enabled ? metrics : null,
    ),
    factories: extensionFactories(options),
    clientTracking: options.clientTracking ?? true,
    maxConnections: positiveLimit('maxConnections', options.maxConnections),
    maxConnectionsPerIp: positiveLimit('maxConnectionsPerIp', options.maxConnectionsPerIp),
    handshakeTimeout,
    maxHeaderSize,
    path: options.path,
    metrics,
    logger: activeLogger(options.logger),
    overload: resolveOverloadOptions(options.overload),
  };
}
