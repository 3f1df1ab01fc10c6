/**
 * The gateway's Prometheus metrics (prom-client), all prefixed `conduit_gateway_`: connections,
 * upgrades by status and their latency, traffic per direction and its message size histogram (per
 * route and upstream), backend health (per backend), and configuration reloads. Rare events are
 * counted at once; traffic and backend state are read at scrape time (see gateway-traffic.ts).
 * @module
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { MESSAGE_SIZE_BUCKETS, type RouteTraffic, TrafficTable } from './gateway-traffic.js';
import type { Direction } from './proxy/stats.js';
import type { Upstream } from './upstream.js';

/** Buckets of the upgrade latency histogram, seconds (1 ms to 10 s). */
export const UPGRADE_SECONDS_BUCKETS: readonly number[] = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** The `route` label of requests no route took (their 404). */
export const NO_ROUTE = 'none';

const PREFIX = 'conduit_gateway_';
const DIRECTIONS: readonly Direction[] = ['upstream', 'downstream'];
type TrafficLabel = 'route' | 'upstream' | 'direction';
type HistogramValues = Awaited<ReturnType<Histogram<TrafficLabel>['get']>>;

/**
 * The message size histogram: its buckets live in {@link RouteTraffic} (a plain array bumped per
 * message, far cheaper than a labelled `observe`), and this metric only formats them when scraped.
 */
class MessageSizeHistogram extends Histogram<TrafficLabel> {
  private static readonly NAME = `${PREFIX}message_size_bytes`;
  private static readonly HELP =
    'Sizes of the messages relayed (frame-aware routes), by route, upstream and direction';
  private readonly table: TrafficTable;

  constructor(registry: Registry, table: TrafficTable) {
    super({
      name: MessageSizeHistogram.NAME,
      help: MessageSizeHistogram.HELP,
      labelNames: ['route', 'upstream', 'direction'],
      buckets: [...MESSAGE_SIZE_BUCKETS],
      registers: [registry],
    });
    this.table = table;
  }

  override async get(): Promise<HistogramValues> {
    const name = MessageSizeHistogram.NAME;
    const values: { value: number; labels: Record<string, string | number>; metricName: string }[] = [];
    for (const traffic of this.table.values()) {
      for (const direction of DIRECTIONS) {
        const labels = { route: traffic.route, upstream: traffic.upstream, direction };
        const sizes = traffic.sizes[direction];
        let cumulative = 0;
        MESSAGE_SIZE_BUCKETS.forEach((bound, index) => {
          cumulative += sizes.counts[index]!;
          values.push({ value: cumulative, labels: { ...labels, le: bound }, metricName: `${name}_bucket` });
        });
        values.push({ value: sizes.count, labels: { ...labels, le: '+Inf' }, metricName: `${name}_bucket` });
        values.push({ value: sizes.sum, labels, metricName: `${name}_sum` });
        values.push({ value: sizes.count, labels, metricName: `${name}_count` });
      }
    }
    const data = { name, help: MessageSizeHistogram.HELP, type: 'histogram', aggregator: 'sum', values };
    return data as unknown as HistogramValues;
  }

  /** What the registry's text exposition reads (the same values). */
  getForPromString(): Promise<HistogramValues> {
    return this.get();
  }
}

/** A counter per (route, upstream, direction) read from the traffic totals at scrape time. */
function trafficCounter(
  registry: Registry,
  table: TrafficTable,
  field: 'messages' | 'frames' | 'bytes',
): void {
  const help: Record<typeof field, string> = {
    messages: 'Messages relayed (frame-aware routes), by route, upstream and direction',
    frames: 'Frames written by the gateway (frame-aware routes), by route, upstream and direction',
    bytes: 'Payload bytes relayed (tunnels: every byte), by route, upstream and direction',
  };
  new Counter({
    name: `${PREFIX}${field}_total`,
    help: help[field],
    labelNames: ['route', 'upstream', 'direction'],
    registers: [registry],
    collect(this: Counter<TrafficLabel>) {
      // The totals are authoritative: replace the series rather than adding deltas.
      this.reset();
      for (const traffic of table.values()) {
        for (const direction of DIRECTIONS) {
          const labels = { route: traffic.route, upstream: traffic.upstream, direction };
          this.inc(labels, traffic.totals(direction)[field]);
        }
      }
    },
  });
}

/** Connections open and accepted, per route and upstream. */
function connectionMetrics(registry: Registry, table: TrafficTable): void {
  new Gauge({
    name: `${PREFIX}connections_open`,
    help: 'Proxied WebSocket connections open now, by route and upstream',
    labelNames: ['route', 'upstream'],
    registers: [registry],
    collect(this: Gauge<'route' | 'upstream'>) {
      for (const traffic of table.values()) this.set(labelsOf(traffic), traffic.open);
    },
  });
  new Counter({
    name: `${PREFIX}connections_total`,
    help: 'Proxied WebSocket connections accepted, by route and upstream',
    labelNames: ['route', 'upstream'],
    registers: [registry],
    collect(this: Counter<'route' | 'upstream'>) {
      this.reset();
      for (const traffic of table.values()) this.inc(labelsOf(traffic), traffic.total);
    },
  });
}

/** How each side of the proxied connections ended: close codes by route, upstream and side. */
function closeMetrics(registry: Registry, table: TrafficTable): void {
  new Counter({
    name: `${PREFIX}closes_total`,
    help: 'Ended proxied connections by route, upstream, side (client, upstream) and the close code that side sent (1006: none)',
    labelNames: ['route', 'upstream', 'side', 'code'],
    registers: [registry],
    collect(this: Counter<'route' | 'upstream' | 'side' | 'code'>) {
      this.reset();
      for (const traffic of table.values()) {
        for (const [key, count] of traffic.closeCodes) {
          const [side, code] = key.split(':') as [string, string];
          this.inc({ ...labelsOf(traffic), side, code }, count);
        }
      }
    },
  });
}

function labelsOf(traffic: RouteTraffic): { route: string; upstream: string } {
  return { route: traffic.route, upstream: traffic.upstream };
}

/** Backend health and load, from the upstreams of the configuration in force. */
/** A gauge per backend of the upstreams in force, read from `value` at scrape time. */
function backendGauge(
  registry: Registry,
  upstreams: () => Iterable<Upstream>,
  name: string,
  help: string,
  value: (backend: Upstream['backends'][number]) => number,
): void {
  new Gauge({
    name: `${PREFIX}${name}`,
    help,
    labelNames: ['upstream', 'backend'],
    registers: [registry],
    collect(this: Gauge<'upstream' | 'backend'>) {
      // Backends removed by a reload must disappear from the exposition.
      this.reset();
      for (const upstream of upstreams()) {
        for (const backend of upstream.backends)
          this.set({ upstream: upstream.name, backend: backend.key }, value(backend));
      }
    },
  });
}

function backendMetrics(registry: Registry, upstreams: () => Iterable<Upstream>): void {
  backendGauge(
    registry,
    upstreams,
    'backend_up',
    '1 when the backend may take connections (healthy, not ejected), else 0',
    (backend) => (backend.available ? 1 : 0),
  );
  backendGauge(
    registry,
    upstreams,
    'backend_connections',
    'Connections (and upgrades in progress) proxied to the backend now',
    (backend) => backend.activeConnections,
  );
}

/** The metrics of one gateway, on a prom-client registry (each name once per registry). */
export class GatewayMetrics {
  readonly registry: Registry;
  /** Traffic per route and upstream. */
  readonly traffic = new TrafficTable();
  private readonly upgrades: Counter<'route' | 'upstream' | 'status'>;
  private readonly upgradeSeconds: Histogram<'route' | 'upstream'>;
  private readonly reloads: Counter<'result'>;

  /** `upstreams` lists the upstreams of the configuration in force (read at scrape time). */
  constructor(registry: Registry, upstreams: () => Iterable<Upstream>) {
    this.registry = registry;
    connectionMetrics(registry, this.traffic);
    closeMetrics(registry, this.traffic);
    for (const field of ['messages', 'frames', 'bytes'] as const)
      trafficCounter(registry, this.traffic, field);
    new MessageSizeHistogram(registry, this.traffic);
    backendMetrics(registry, upstreams);
    this.upgrades = new Counter({
      name: `${PREFIX}upgrades_total`,
      help: `Upgrade requests by route, upstream and answer (101, or the refusal status; route "${NO_ROUTE}": no route)`,
      labelNames: ['route', 'upstream', 'status'],
      registers: [registry],
    });
    this.upgradeSeconds = new Histogram({
      name: `${PREFIX}upgrade_duration_seconds`,
      help: 'Time from an upgrade request to its answer (middleware and backend handshake included)',
      labelNames: ['route', 'upstream'],
      buckets: [...UPGRADE_SECONDS_BUCKETS],
      registers: [registry],
    });
    this.reloads = new Counter({
      name: `${PREFIX}reloads_total`,
      help: 'Configuration reloads, by result (ok, failed)',
      labelNames: ['result'],
      registers: [registry],
    });
    this.reloads.inc({ result: 'ok' }, 0);
    this.reloads.inc({ result: 'failed' }, 0);
  }

  /** An upgrade was answered with `status` (101: the client has its connection). */
  upgraded(route: string, upstream: string, status: number): void {
    this.upgrades.inc({ route, upstream, status: String(status) });
  }

  /** An upgrade of `route` took `seconds` from its arrival to its answer. */
  upgradeTook(route: string, upstream: string, seconds: number): void {
    this.upgradeSeconds.observe({ route, upstream }, seconds);
  }

  /** A reload was applied (`ok`) or refused. */
  reloaded(ok: boolean): void {
    this.reloads.inc({ result: ok ? 'ok' : 'failed' });
  }

  /** The text exposition of the registry. */
  async text(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}
