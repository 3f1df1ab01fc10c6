/**
 * Opening handshakes completed per HTTP version (an HTTP/1.1 upgrade or an HTTP/2 extended CONNECT): as
 * plain numbers on the server, and as `<prefix>upgrades_total{http_version}` on the prom-client registry
 * of the `metrics` option, when there is one.
 * @module
 */
import { Counter, type Registry } from 'prom-client';
import type { MetricsOptions } from '../observability/server-metrics.js';
import type { HttpVersion } from './http2-connection.js';

/** Handshakes completed, per HTTP version. */
export type UpgradeCounts = Record<HttpVersion, number>;

/** Counters per registry and prefix: servers sharing both sum into one (as server-metrics.ts does). */
const created = new WeakMap<Registry, Map<string, Counter<'http_version'>>>();

function promCounter(registry: Registry, prefix: string): Counter<'http_version'> {
  let byPrefix = created.get(registry);
  if (byPrefix === undefined) {
    byPrefix = new Map();
    created.set(registry, byPrefix);
  }
  let counter = byPrefix.get(prefix);
  if (counter === undefined) {
    counter = new Counter({
      name: `${prefix}upgrades_total`,
      help: 'Opening handshakes completed, by HTTP version (1.1 upgrade, 2 extended CONNECT)',
      labelNames: ['http_version'],
      registers: [registry],
    });
    byPrefix.set(prefix, counter);
  }
  return counter;
}

/** Counts completed handshakes per HTTP version. */
export class UpgradeCounter {
  /** The counts of this server alone. */
  readonly counts: UpgradeCounts = { '1.1': 0, '2': 0 };
  private readonly prom: Counter<'http_version'> | null;

  constructor(metrics: MetricsOptions | undefined) {
    this.prom = metrics === undefined ? null : promCounter(metrics.registry, metrics.prefix ?? 'conduit_');
  }

  /** One more handshake over `version`. */
  count(version: HttpVersion): void {
    this.counts[version]++;
    this.prom?.inc({ http_version: version });
  }
}
