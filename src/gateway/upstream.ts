/**
 * The runtime of one upstream: its backends, its balancer and its health checker, built from an
 * {@link UpstreamConfig}. A reload builds new upstreams from the new configuration, passing the old
 * ones: backends whose URL stays in the same upstream keep their object (connection counts, health and
 * ejection carry over), everything else is fresh. Connections opened before the reload keep their own
 * references and are unaffected by the swap.
 * @module
 */
import type { BackendStatus } from './backend.js';
import { Backend } from './backend.js';
import type { BalanceRequest, Balancer } from './balance/balancer.js';
import { createBalancer } from './balance/create.js';
import type { UpstreamConfig } from './config/types.js';
import { HealthChecker, type HealthCheckerOptions } from './health.js';

/** An upstream's state as plain data, for /status. */
export interface UpstreamStatus {
  name: string;
  balance: UpstreamConfig['balance']['kind'];
  backends: BackendStatus[];
}

/** Backends of `config`, reusing those of `previous` that have the same URL. */
function backendsOf(config: UpstreamConfig, previous: Upstream | null): Backend[] {
  const old = new Map(previous?.backends.map((backend) => [backend.key, backend]));
  return config.backends.map((backendConfig) => {
    const kept = old.get(backendConfig.url.href);
    if (kept === undefined) return new Backend(backendConfig, config.passiveHealth);
    kept.reconfigure(backendConfig, config.passiveHealth);
    return kept;
  });
}

/** One upstream at runtime. Call {@link Upstream.start} to begin health checks and `stop` to end them. */
export class Upstream {
  readonly name: string;
  readonly config: UpstreamConfig;
  readonly backends: readonly Backend[];
  readonly balancer: Balancer;
  /** Null when the upstream has no `healthCheck`. */
  readonly health: HealthChecker | null;

  /** Builds the runtime of `config`, reusing backends of `previous` (the same upstream before a reload). */
  constructor(config: UpstreamConfig, previous: Upstream | null = null, options: HealthCheckerOptions = {}) {
    this.name = config.name;
    this.config = config;
    this.backends = backendsOf(config, previous);
    this.balancer = createBalancer(config.balance, this.backends);
    this.health =
      config.healthCheck === null ? null : new HealthChecker(config.healthCheck, this.backends, options);
  }

  /** The backend whose URL has this `href` (what `BackendConfig.url.href` gives), if it is one of ours. */
  backend(href: string): Backend | undefined {
    return this.backends.find((backend) => backend.key === href);
  }

  /** A backend for `request` not in `exclude`, or null when none is available. */
  pick(request: BalanceRequest, exclude?: ReadonlySet<Backend>): Backend | null {
    return this.balancer.pick(request, exclude);
  }

  /** Starts active health checks (if configured). */
  start(): void {
    this.health?.start();
  }

  /** Stops active health checks. Backends stay as they are: a newer upstream may be using them. */
  stop(): void {
    this.health?.stop();
  }

  /** Backends of this upstream that `next` (its successor after a reload) no longer has. */
  removedIn(next: Upstream | null): Backend[] {
    const kept = new Set(next?.backends);
    return this.backends.filter((backend) => !kept.has(backend));
  }

  /** Current state as plain data. */
  status(): UpstreamStatus {
    return {
      name: this.name,
      balance: this.config.balance.kind,
      backends: this.backends.map((backend) => backend.status()),
    };
  }
}

/**
 * Runtimes of every upstream of a configuration, reusing backends of `previous` (the upstreams before a
 * reload) by upstream name and URL. The caller starts the new ones, then stops the old ones.
 */
export function buildUpstreams(
  configs: ReadonlyMap<string, UpstreamConfig>,
  previous: ReadonlyMap<string, Upstream> = new Map(),
  options: HealthCheckerOptions = {},
): Map<string, Upstream> {
  const built = new Map<string, Upstream>();
  for (const [name, config] of configs)
    built.set(name, new Upstream(config, previous.get(name) ?? null, options));
  return built;
}
