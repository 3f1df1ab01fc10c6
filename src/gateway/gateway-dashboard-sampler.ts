/**
 * Samples the gateway once per interval for its dashboard: the admin listener's own metrics text
 * (traffic and upgrade counters turned into per-second rates) and the gateway's status (routes,
 * upstreams, backend health), plus the process's memory, CPU and event-loop delay. It reads only what
 * the admin endpoints read, so the dashboard shows nothing `/metrics` and `/status` do not. It runs
 * only while someone watches.
 * @module
 */
import type { DashboardSnapshot } from '../observability/dashboard/dashboard-types.js';
import type { MetricReading } from '../observability/dashboard/metric-reading.js';
import { total, totalsBy } from '../observability/dashboard/metric-reading.js';
import { PROCESS_CHARTED, ProcessSampler } from '../observability/dashboard/process-sample.js';
import { parsePrometheusText } from '../observability/dashboard/prometheus-text.js';
import { CounterRates, type SampleValues, SeriesRecorder } from '../observability/dashboard/series.js';
import type { SnapshotSource } from '../observability/dashboard/snapshot-feed.js';
import { GatewayEvents } from './gateway-dashboard-events.js';
import { buildGatewaySnapshot, CLOSES_METRIC, UPGRADES_METRIC } from './gateway-dashboard-sections.js';
import type { GatewayStatus } from './gateway-status.js';

const MESSAGES = 'conduit_gateway_messages_total';
const BYTES = 'conduit_gateway_bytes_total';
const ACCEPTED = 'conduit_gateway_connections_total';

/** The metrics read from the exposition. */
const METRICS = [MESSAGES, BYTES, ACCEPTED, UPGRADES_METRIC, CLOSES_METRIC];

/** Stats whose recent values are kept for a sparkline. */
const CHARTED = [
  'connections',
  'accepted',
  'refused',
  'messagesUp',
  'messagesDown',
  'bytesUp',
  'bytesDown',
  ...PROCESS_CHARTED,
];

/** What the gateway's dashboard reads: what the admin endpoints answer. */
export interface GatewayDashboardSource {
  /** The Prometheus text of `/metrics`. */
  metrics(): Promise<{ text: string }>;
  /** What `/status` answers. */
  status(): GatewayStatus;
}

/** The counters whose rates the sample shows, by stat id. */
function counters(reading: MetricReading): Map<string, number> {
  const messages = totalsBy(reading, MESSAGES, 'direction');
  const bytes = totalsBy(reading, BYTES, 'direction');
  let refused = 0;
  for (const point of reading.get(UPGRADES_METRIC) ?? []) {
    if (point.labels.status !== '101') refused += point.value;
  }
  return new Map([
    ['accepted', total(reading, ACCEPTED)],
    ['refused', refused],
    ['messagesUp', messages.get('upstream') ?? 0],
    ['messagesDown', messages.get('downstream') ?? 0],
    ['bytesUp', bytes.get('upstream') ?? 0],
    ['bytesDown', bytes.get('downstream') ?? 0],
  ]);
}

/** Messages per route and direction (`route` NUL `direction`), summed over upstreams. */
function routeCounters(reading: MetricReading): Map<string, number> {
  const sums = new Map<string, number>();
  for (const point of reading.get(MESSAGES) ?? []) {
    const key = `${point.labels.route}\u0000${point.labels.direction}`;
    sums.set(key, (sums.get(key) ?? 0) + point.value);
  }
  return sums;
}

/** Produces one {@link DashboardSnapshot} per call to {@link GatewayDashboardSampler.sample}. */
export class GatewayDashboardSampler implements SnapshotSource {
  private readonly series: SeriesRecorder;
  private readonly rates = new CounterRates();
  private readonly routeRates = new CounterRates();
  private readonly events = new GatewayEvents();
  private readonly process = new ProcessSampler();

  /**
   * @param source What to read.
   * @param intervalMs Time between samples (the sparklines' step).
   * @param points Values kept per sparkline (60 at one per second: the last minute).
   */
  constructor(
    private readonly source: GatewayDashboardSource,
    readonly intervalMs = 1000,
    points = 60,
  ) {
    this.series = new SeriesRecorder(points);
  }

  /** Starts measuring event-loop delay; charts start empty (a gap in time must not look like a line). */
  start(): void {
    this.process.start();
    this.series.clear();
    this.rates.reset();
    this.routeRates.reset();
    this.events.rebase();
  }

  /** Stops measuring (nobody watches). */
  stop(): void {
    this.process.stop();
  }

  /** Reads everything once and returns the snapshot. */
  async sample(now = Date.now()): Promise<DashboardSnapshot> {
    const { text } = await this.source.metrics();
    const status = this.source.status();
    const reading = parsePrometheusText(text, METRICS);
    const values: SampleValues = { connections: status.connections };
    for (const [id, rate] of this.rates.rates(counters(reading), now)) values[id] = rate;
    this.process.sample(values, now);
    for (const id of CHARTED) this.series.record(id, values[id] ?? 0);
    this.events.observe(reading, status, now);
    return buildGatewaySnapshot({
      values,
      series: this.series,
      reading,
      status,
      routeRates: this.perRoute(reading, now),
      events: this.events.list(),
      time: now,
      intervalMs: this.intervalMs,
    });
  }

  private perRoute(
    reading: MetricReading,
    now: number,
  ): Map<string, { upstream: number; downstream: number }> {
    const byRoute = new Map<string, { upstream: number; downstream: number }>();
    for (const [key, rate] of this.routeRates.rates(routeCounters(reading), now)) {
      const [route, direction] = key.split('\u0000') as [string, string];
      const rates = byRoute.get(route) ?? { upstream: 0, downstream: 0 };
      if (direction === 'upstream') rates.upstream += rate;
      else rates.downstream += rate;
      byRoute.set(route, rates);
    }
    return byRoute;
  }
}
