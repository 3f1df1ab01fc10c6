/**
 * Checks across fields that the per-field schema cannot see: routes name upstreams that exist (and
 * WebSocket routes name WebSocket upstreams), listener and admin ports are not taken twice, route names
 * are unique (they label metrics).
 * @module
 */
import { type ConfigIssue, describeValue } from './issues.js';
import { isWebSocketUrl } from './schema-fields.js';
import type { GatewayConfig, RouteConfig, UpstreamConfig } from './types.js';

function upstreamNames(config: GatewayConfig): string {
  const names = [...config.upstreams.keys()];
  return names.length === 0
    ? 'the name of an upstream (none is defined)'
    : `one of the upstreams ${names.join(', ')}`;
}

function checkRouteUpstreams(
  config: GatewayConfig,
  route: RouteConfig,
  index: number,
  issues: ConfigIssue[],
): void {
  const upstream: UpstreamConfig | undefined = config.upstreams.get(route.upstream);
  if (upstream === undefined) {
    issues.push({
      path: `routes[${index}].upstream`,
      expected: upstreamNames(config),
      found: describeValue(route.upstream),
    });
  } else if (!upstream.backends.every((backend) => isWebSocketUrl(backend.url))) {
    issues.push({
      path: `routes[${index}].upstream`,
      expected: 'an upstream with ws:// or wss:// backends',
      found: `${describeValue(route.upstream)}, whose backends are http(s)://`,
    });
  }
  if (route.http.kind === 'proxy' && !config.upstreams.has(route.http.upstream)) {
    issues.push({
      path: `routes[${index}].http.proxy`,
      expected: upstreamNames(config),
      found: describeValue(route.http.upstream),
    });
  }
}

function checkRouteNames(routes: readonly RouteConfig[], issues: ConfigIssue[]): void {
  const first = new Map<string, number>();
  routes.forEach((route, index) => {
    const earlier = first.get(route.name);
    if (earlier === undefined) first.set(route.name, index);
    else {
      issues.push({
        path: `routes[${index}].name`,
        expected: `a name not used by routes[${earlier}]`,
        found: describeValue(route.name),
      });
    }
  });
}

/** Ports 0 (pick a free one) never clash; any other port may be bound once, whatever the host. */
function checkPorts(config: GatewayConfig, issues: ConfigIssue[]): void {
  const owners = new Map<number, string>();
  const claim = (port: number, path: string): void => {
    if (port === 0) return;
    const owner = owners.get(port);
    if (owner === undefined) owners.set(port, path);
    else issues.push({ path: `${path}.port`, expected: `a port not used by ${owner}`, found: String(port) });
  };
  for (const [index, listener] of config.listen.entries()) claim(listener.port, `listen[${index}]`);
  if (config.admin !== null) claim(config.admin.port, 'admin');
}

/** Every cross-field problem of a schema-valid configuration; empty when there is none. */
export function crossCheck(config: GatewayConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const [index, route] of config.routes.entries()) checkRouteUpstreams(config, route, index, issues);
  checkRouteNames(config.routes, issues);
  checkPorts(config, issues);
  return issues;
}
