/**
 * The gateway's configuration after validation and defaults: what the YAML/JSON file describes, in the
 * shape the rest of the gateway uses. The schema (`schema.ts`) produces exactly these types; docs/gateway.md
 * is the reference of the file format.
 * @module
 */

/** TLS material of a listener: a default certificate and optional ones per SNI server name. */
export interface TlsConfig {
  /** PEM certificate chain file path. */
  cert: string;
  /** PEM private key file path. */
  key: string;
  /** Certificates by server name (exact, or `*.example.com`). */
  sni: { serverName: string; cert: string; key: string }[];
}

/** One port the gateway accepts clients on. */
export interface ListenerConfig {
  port: number;
  /** Default `0.0.0.0`. */
  host: string;
  /** wss when set. */
  tls: TlsConfig | null;
  /**
   * Also accept WebSockets over HTTP/2 (RFC 8441 extended CONNECT) on this port, next to HTTP/1.1:
   * h2 chosen by ALPN with `tls`, h2c with prior knowledge without. Absent: HTTP/1.1 only.
   */
  http2?: boolean;
}

/**
 * How the gateway opens WebSockets to a backend: `false` an HTTP/1.1 upgrade, `true` an HTTP/2 extended
 * CONNECT (RFC 8441) on a session shared with the backend's other WebSockets, `'auto'` HTTP/2 where the
 * backend offers it and HTTP/1.1 otherwise.
 */
export type UpstreamHttp2 = boolean | 'auto';

/** How a route matches a request path. */
export type PathMatch =
  | { kind: 'prefix'; value: string }
  | { kind: 'exact'; value: string }
  | { kind: 'regex'; value: RegExp };

/** What a sticky (consistent-hash) balancer hashes. */
export type HashKey =
  | { kind: 'header'; name: string }
  | { kind: 'cookie'; name: string }
  | { kind: 'query'; name: string }
  | { kind: 'ip' };

/** Backend selection policy of an upstream. */
export type BalanceConfig =
  | { kind: 'least-connections' }
  | { kind: 'round-robin' }
  | { kind: 'weighted' }
  | { kind: 'hash'; key: HashKey };

/** One backend server of an upstream. */
export interface BackendConfig {
  /** ws:// or wss:// (http(s):// for plain HTTP upstreams). */
  url: URL;
  /** Relative weight for `weighted` (and virtual nodes for `hash`). Default 1. */
  weight: number;
  /** How WebSockets to it are opened: its own `http2`, else its upstream's. Absent: HTTP/1.1. */
  http2?: UpstreamHttp2;
}

/** Active health checking of an upstream's backends. */
export interface HealthCheckConfig {
  /** `handshake`: open and close a WebSocket; `http`: GET `path` expecting 2xx. */
  kind: 'handshake' | 'http';
  /** Path requested by the check. Default `/`. */
  path: string;
  /** Time between checks, ms. Default 5000. */
  intervalMs: number;
  /** A check slower than this fails, ms. Default 2000. */
  timeoutMs: number;
  /** Consecutive failures that mark a backend down. Default 2. */
  unhealthyThreshold: number;
  /** Consecutive successes that bring it back. Default 2. */
  healthyThreshold: number;
}

/** Passive ejection: a backend that fails upgrades repeatedly is ejected for a while. */
export interface PassiveHealthConfig {
  /** Consecutive failed upgrades (connect error, timeout, 5xx) before ejection. Default 3. */
  consecutiveFailures: number;
  /** Time an ejected backend sits out, ms. Default 30 000. */
  ejectionMs: number;
}

/** A named group of interchangeable backends. */
export interface UpstreamConfig {
  name: string;
  balance: BalanceConfig;
  backends: BackendConfig[];
  healthCheck: HealthCheckConfig | null;
  passiveHealth: PassiveHealthConfig;
  /** Time allowed for connecting to a backend and its 101 (or HTTP response head), ms. Default 5000. */
  connectTimeoutMs: number;
  /** Backends tried for one upgrade before giving up with 502. Default 3. */
  maxAttempts: number;
  /** The `http2` of backends that set none (already applied to `backends`). Absent: HTTP/1.1. */
  http2?: UpstreamHttp2;
}

/** permessage-deflate handling of a route. */
export type CompressionPolicy = 'negotiate' | 'passthrough' | 'off';

/** Per-message policies and connection settings of a route. */
export interface RoutePolicies {
  /** Subprotocols clients may ask for (others are not offered upstream). Empty: any. */
  subprotocols: string[];
  compression: CompressionPolicy;
  /** Close both sides after this long without a message in either direction, ms. 0: never. Default 0. */
  idleTimeoutMs: number;
  /** Largest message either way; larger ones close the sender's side with 1009. Default 16 MiB. */
  maxMessageBytes: number;
  /** Client messages per second (burst one second's worth); beyond, close 1008. 0: unlimited. Default 0. */
  maxMessagesPerSecond: number;
  /** Ping both sides this often, ms; 0 disables. Default 30 000. */
  pingIntervalMs: number;
}

/** Upgrade middleware of a route. */
export interface RouteMiddleware {
  jwt: {
    secret?: string;
    jwksUrl?: string;
    issuer?: string;
    audience?: string;
    /** Query parameter that may carry the token. Default `token`. */
    queryParam: string | false;
  } | null;
  /** Allowed origins; null: any. */
  origins: string[] | null;
  /** IP allow/deny lists (CIDR). */
  ipAllow: string[] | null;
  ipDeny: string[] | null;
  /** Concurrent connections per client IP; 0: unlimited. */
  maxConnectionsPerIp: number;
  /** Upgrades per second per client IP (429 beyond); null: unlimited. */
  upgradeRateLimit: { perSecond: number; burst: number } | null;
}

/** A route: which requests it takes and where they go. */
export interface RouteConfig {
  /** Name for metrics and logs: `name` from the file, else `route<index>`. */
  name: string;
  /** Host header match (exact or `*.example.com`); null: any. */
  host: string | null;
  path: PathMatch;
  /** Header values that must match (name lowercased → exact value or RegExp). */
  headers: { name: string; value: string | RegExp }[];
  upstream: string;
  /** `frames`: frame-aware proxying; `tunnel`: opaque byte pipe after the handshake. */
  mode: 'frames' | 'tunnel';
  /** Plain HTTP requests (not upgrades): proxy to `httpUpstream`, or refuse with 404/426. */
  http: { kind: 'proxy'; upstream: string } | { kind: 'reject'; status: number };
  policies: RoutePolicies;
  middleware: RouteMiddleware;
}

/** The admin listener: /metrics, /healthz, /status, POST /reload, the dashboard. */
export interface AdminConfig {
  port: number;
  host: string;
}

/** The whole validated configuration. */
export interface GatewayConfig {
  listen: ListenerConfig[];
  upstreams: Map<string, UpstreamConfig>;
  routes: RouteConfig[];
  admin: AdminConfig | null;
  /** On drain (SIGTERM) clients get 1001 at once; this is how long their close handshakes may take, ms. Default 30 000. */
  drainTimeoutMs: number;
}
