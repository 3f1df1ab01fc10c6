/**
 * The gateway's state as plain data: what `GET /status` answers and `Gateway.status()` returns.
 * @module
 */
import type { PathMatch, RouteConfig } from './config/types.js';
import type { ListenerInfo } from './gateway-listeners.js';
import type { RuntimeSnapshot } from './gateway-runtime.js';
import type { UpstreamStatus } from './upstream.js';

/** One route in {@link GatewayStatus}. */
export interface RouteStatus {
  name: string;
  host: string | null;
  /** `/chat` (prefix), `= /status` (exact) or `~ ^/v[0-9]+/` (regex). */
  path: string;
  upstream: string;
  mode: RouteConfig['mode'];
  /** `proxy <upstream>` or `reject <status>`. */
  http: string;
  /** Connections open now. */
  connections: number;
  /** Connections accepted since the gateway started. */
  connectionsTotal: number;
}

/** The gateway's state. */
export interface GatewayStatus {
  /** Where the configuration came from (its file path). */
  source: string;
  /** When the configuration in force was loaded (ISO 8601). */
  loadedAt: string;
  reloads: { ok: number; failed: number; lastError: string | null };
  draining: boolean;
  listeners: ListenerInfo[];
  /** The admin listener's URL, null when there is none. */
  admin: string | null;
  /** Proxied connections open now, every route. */
  connections: number;
  routes: RouteStatus[];
  upstreams: UpstreamStatus[];
}

/** The state of the gateway apart from the snapshot. */
export interface GatewayState {
  source: string;
  reloads: GatewayStatus['reloads'];
  draining: boolean;
  listeners: ListenerInfo[];
  admin: string | null;
  connections: number;
}

function describePath(path: PathMatch): string {
  if (path.kind === 'exact') return `= ${path.value}`;
  if (path.kind === 'regex') return `~ ${path.value.source}`;
  return path.value;
}

/** The status of `snapshot` and `state`. */
export function gatewayStatus(snapshot: RuntimeSnapshot, state: GatewayState): GatewayStatus {
  const routes = [...snapshot.routes.values()].map(
    ({ config, traffic }): RouteStatus => ({
      name: config.name,
      host: config.host,
      path: describePath(config.path),
      upstream: config.upstream,
      mode: config.mode,
      http: config.http.kind === 'proxy' ? `proxy ${config.http.upstream}` : `reject ${config.http.status}`,
      connections: traffic.open,
      connectionsTotal: traffic.total,
    }),
  );
  return {
    source: state.source,
    loadedAt: snapshot.loadedAt.toISOString(),
    reloads: state.reloads,
    draining: state.draining,
    listeners: state.listeners,
    admin: state.admin,
    connections: state.connections,
    routes,
    upstreams: [...snapshot.upstreams.values()].map((upstream) => upstream.status()),
  };
}
