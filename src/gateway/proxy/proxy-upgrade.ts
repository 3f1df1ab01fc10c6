/**
 * The upgrade step of the proxy, run from a `WebSocketServer` upgrade hook: pick a backend, dial it, try
 * another one when a dial fails before the backend's 101 (never after), and leave the established
 * upstream in `request.data` for the 'connection' listener, which pairs it (see `session.ts`). The
 * client's 101 then carries the backend's subprotocol (see `server-options.ts`). On a `passthrough`
 * route the backend is offered the client's own permessage-deflate offers (see `passthrough.ts`).
 * @module
 */
import { type Logger, logsAt } from '../../observability/logger.js';
import type { ExtensionParams } from '../../protocol/extension.js';
import type { UpgradeRejection } from '../../server/options.js';
import type { UpgradeRequest } from '../../server/upgrade-request.js';
import type { BackendConfig, RouteConfig, UpstreamConfig } from '../config/types.js';
import { UpstreamError } from './errors.js';
import { type ForwardOptions, forwardedRequest } from './forward-headers.js';
import { type PassthroughLink, passthroughOffers, settlePassthrough } from './passthrough.js';
import type { TraceContext } from './traceparent.js';
import { UpstreamDialer, type UpstreamRequest } from './upstream-dial.js';
import type { UpstreamHandshake } from './upstream-handshake.js';

/**
 * Chooses the next backend to try; `tried` holds those that already failed for this request. Return
 * null (or undefined) when there is none left (502).
 */
export type PickBackend = (tried: ReadonlySet<BackendConfig>) => BackendConfig | null | undefined;

/** Options of {@link proxyUpgrade}. */
export interface ProxyUpgradeOptions {
  /** The route's upstream: `maxAttempts` and `connectTimeoutMs` come from it. */
  upstream: Pick<UpstreamConfig, 'maxAttempts' | 'connectTimeoutMs'>;
  /** Dialer to use. Default: one per route and upstream, created on first use (see {@link dialerFor}). */
  dialer?: UpstreamDialer;
  /** Which client headers travel upstream. */
  forward?: ForwardOptions;
  /** The URL to dial for `backend`. Default {@link upstreamUrl} (the backend's path + the client's). */
  target?: (backend: BackendConfig, request: UpgradeRequest) => URL;
  /** Told about every attempt, for passive health checks and metrics (`error` null on success). */
  onAttempt?: (backend: BackendConfig, error: UpstreamError | null) => void;
  /** Where a `passthrough` route says, at debug level, why a connection could not pass compression through. */
  logger?: Logger | null;
}

/** What a successful {@link proxyUpgrade} leaves in `request.data` (and so in `connection.data`). */
export interface ProxiedUpgrade {
  readonly kind: 'conduit.proxied-upgrade';
  readonly route: RouteConfig;
  readonly backend: BackendConfig;
  readonly upstream: UpstreamHandshake;
  readonly trace: TraceContext;
  /** Backends dialled, the successful one included. */
  readonly attempts: number;
  /** What `request.data` held before (e.g. claims set by an auth middleware). */
  readonly data: unknown;
  /** On a `passthrough` route whose two sides can share permessage-deflate: both ends of it. */
  readonly passthrough?: PassthroughLink | undefined;
  /** Takes the upstream for relaying; stops watching the client's socket. */
  claim(): UpstreamHandshake;
}

/** True when `value` is what {@link proxyUpgrade} stores. */
export function isProxiedUpgrade(value: unknown): value is ProxiedUpgrade {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as ProxiedUpgrade).kind === 'conduit.proxied-upgrade'
  );
}

/**
 * The URL dialled for a backend: the backend's scheme and authority, its path with the client's path
 * appended (`ws://b/api` + `/chat?x=1` → `ws://b/api/chat?x=1`); http(s) URLs become ws(s).
 */
export function upstreamUrl(backend: BackendConfig, request: UpgradeRequest): URL {
  const url = new URL(backend.url.href);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  const base = url.pathname.endsWith('/') ? url.pathname.slice(0, -1) : url.pathname;
  url.pathname = `${base}${request.pathname}`;
  const query = request.url.indexOf('?');
  if (query !== -1) url.search = request.url.slice(query);
  return url;
}

const dialers = new WeakMap<RouteConfig, { upstream: object; dialer: UpstreamDialer }>();

/**
 * The dialer of a route (its policies, compression and heartbeat) towards `upstream`, created once and
 * cached per route object. Tunnel routes never offer extensions: their bytes pass untouched.
 */
export function dialerFor(
  route: RouteConfig,
  upstream: Pick<UpstreamConfig, 'connectTimeoutMs'>,
): UpstreamDialer {
  const cached = dialers.get(route);
  if (cached !== undefined && cached.upstream === upstream) return cached.dialer;
  const { policies } = route;
  const dialer = new UpstreamDialer({
    connectTimeoutMs: upstream.connectTimeoutMs,
    compression: route.mode === 'tunnel' ? 'off' : policies.compression,
    maxMessageBytes: policies.maxMessageBytes,
    pingIntervalMs: route.mode === 'tunnel' ? 0 : policies.pingIntervalMs,
  });
  dialers.set(route, { upstream, dialer });
  return dialer;
}

/** Aborts the dial in progress, or abandons the upstream, when the client's socket closes first. */
class ClientWatch {
  private dial: { abort(): void } | null = null;
  private upstream: UpstreamHandshake | null = null;
  private watching = true;

  constructor(private readonly request: UpgradeRequest) {
    request.socket.once('close', this.onClose);
  }

  get clientGone(): boolean {
    return !this.watching || this.request.socket.destroyed;
  }

  dialing(dial: { abort(): void } | null): void {
    this.dial = dial;
  }

  established(upstream: UpstreamHandshake): void {
    this.dial = null;
    this.upstream = upstream;
  }

  stop(): void {
    this.watching = false;
    this.request.socket.removeListener('close', this.onClose);
  }

  private readonly onClose = (): void => {
    this.watching = false;
    this.dial?.abort();
    this.upstream?.abandon();
  };
}

/** One dial of the upgrade; settles with the upstream or the error (never rejects). */
async function dialOne(
  backend: BackendConfig,
  url: URL,
  dialer: UpstreamDialer,
  upstreamRequest: UpstreamRequest,
  options: ProxyUpgradeOptions,
  watch: ClientWatch,
): Promise<UpstreamHandshake | UpstreamError> {
  const attempt = dialer.dial(url, upstreamRequest);
  watch.dialing(attempt);
  try {
    const upstream = await attempt.result;
    options.onAttempt?.(backend, null);
    return upstream;
  } catch (error) {
    const failure = error as UpstreamError;
    if (failure.code !== 'ERR_UPSTREAM_ABORTED') options.onAttempt?.(backend, failure);
    return failure;
  } finally {
    watch.dialing(null);
  }
}

/** Dials backends until one answers 101, a failure must not be retried, or the attempts run out. */
async function dialSome(
  request: UpgradeRequest,
  route: RouteConfig,
  pickBackend: PickBackend,
  options: ProxyUpgradeOptions,
  upstreamRequest: UpstreamRequest,
  watch: ClientWatch,
): Promise<{ backend: BackendConfig; upstream: UpstreamHandshake; attempts: number } | UpstreamError> {
  const dialer = options.dialer ?? dialerFor(route, options.upstream);
  const target = options.target ?? upstreamUrl;
  const tried = new Set<BackendConfig>();
  let last = new UpstreamError('ERR_NO_BACKEND', `No backend available for route ${route.name}`);
  const maxAttempts = Math.max(1, options.upstream.maxAttempts);
  while (tried.size < maxAttempts && !watch.clientGone) {
    const backend = pickBackend(tried);
    if (backend == null || tried.has(backend)) break;
    tried.add(backend);
    const outcome = await dialOne(backend, target(backend, request), dialer, upstreamRequest, options, watch);
    if (!(outcome instanceof UpstreamError)) return { backend, upstream: outcome, attempts: tried.size };
    last = outcome;
    if (!last.retryable) break;
  }
  return last;
}

/** The passthrough link of a dial on a passthrough route; logs why there is none when it should be. */
function passthroughLink(
  offers: readonly ExtensionParams[],
  dialed: { backend: BackendConfig; upstream: UpstreamHandshake },
  route: RouteConfig,
  options: ProxyUpgradeOptions,
): PassthroughLink | undefined {
  const settled = settlePassthrough(offers, dialed.upstream);
  if (settled.kind === 'passthrough') return settled.link;
  const logger = options.logger ?? null;
  if (settled.reason !== null && logsAt(logger, 'debug')) {
    const fields = {
      route: route.name,
      backend: dialed.backend.url.href,
      backendExtensions: dialed.upstream.extensionsHeader,
      compression: settled.kind === 'negotiate' ? 'negotiate' : 'off',
    };
    const then =
      settled.kind === 'negotiate' ? 'each side negotiates with the gateway' : 'neither side compresses';
    logger.debug(fields, `permessage-deflate passthrough impossible: ${settled.reason}; ${then}`);
  }
  return undefined;
}

/**
 * Connects the client's upgrade `request` to a backend of `route`. Resolves with `undefined` when a
 * backend accepted (the upstream is in `request.data`, a {@link ProxiedUpgrade}), or with the rejection
 * the hook should return: the backend's 4xx as it is, 502 for anything else (no backend left, refused
 * connections, timeouts, 5xx, broken handshakes). Rejects only when the route's policies cannot make a
 * dialer (an invalid limit): the server then answers 500.
 */
export async function proxyUpgrade(
  request: UpgradeRequest,
  route: RouteConfig,
  pickBackend: PickBackend,
  options: ProxyUpgradeOptions,
): Promise<UpgradeRejection | undefined> {
  const forwarded = forwardedRequest(request, route.policies.subprotocols, options.forward);
  const deflateOffers = passthroughOffers(route, request);
  const upstreamRequest: UpstreamRequest = {
    protocols: forwarded.protocols,
    headers: forwarded.headers,
    origin: forwarded.origin,
    deflateOffers,
  };
  const watch = new ClientWatch(request);
  const outcome = await dialSome(request, route, pickBackend, options, upstreamRequest, watch);
  if (outcome instanceof UpstreamError) {
    watch.stop();
    const status = outcome.clientStatus;
    return { status, message: status === 502 ? 'Bad Gateway' : 'Refused by the upstream server' };
  }
  if (watch.clientGone) {
    // The client left while the last dial completed: nobody will claim this upstream.
    outcome.upstream.abandon();
    return { status: 502, message: 'Client went away' };
  }
  watch.established(outcome.upstream);
  const link =
    deflateOffers === undefined ? undefined : passthroughLink(deflateOffers, outcome, route, options);
  const proxied: ProxiedUpgrade = {
    kind: 'conduit.proxied-upgrade',
    route,
    backend: outcome.backend,
    upstream: outcome.upstream,
    trace: forwarded.trace,
    attempts: outcome.attempts,
    data: request.data,
    passthrough: link,
    claim() {
      watch.stop();
      return outcome.upstream.claim();
    },
  };
  request.data = proxied;
  return undefined;
}
