/**
 * Samples the gateway once per interval for its dashboard: the admin listener's own metrics text
 * (traffic and upgrade counters turned into per-second rates) and the gateway's status (routes,
 * upstreams, backend health), plus the process's memory, CPU and event-loop delay. It reads only what
 * the admin endpoints read, so the dashboard shows nothing `/metrics` and `/status` do not. It runs
 * only while someone watches.
 * @module
 */
import { DashboardSamplerBase } from '../observability/dashboard/dashboard-sampler.js';
import type { DashboardSnapshot } from '../observability/dashboard/dashboard-types.js';
import type { MetricReading } from '../observability/dashboard/metric-reading.js';
import { total, totalsBy } from '../observability/dashboard/metric-reading.js';
import { parsePrometheusText } from '../observability/dashboard/prometheus-text.js';
import { CounterRates } from '../observability/dashboard/series.js';
import { GatewayEvents } from './gateway-dashboard-events.js';
import { buildGatewaySnapshot, CLOSES_METRIC, UPGRADES_METRIC } from './gateway-dashboard-sections.js';
import type { GatewayStatus } from './gateway-status.js';

const MESSAGES = 'conduit_gateway_messages_total';
const BYTES = 'conduit_gateway_bytes_total';
const ACCEPTED = 'conduit_gateway_connections_total';

/** The metrics read from the exposition. */
const METRICS = [MESSAGES, BYTES, ACCEPTED, UPGRADES_METRIC, CLOSES_METRIC];

/** Stats whose recent values are kept for a sparkline (besides the process's). */
const CHARTED = ['connections', 'accepted', 'refused', 'messagesUp', 'messagesDown', 'bytesUp', 'bytesDown'];

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
export class GatewayDashboardSampler extends DashboardSamplerBase<GatewayDashboardSource> {
  protected readonly events = new GatewayEvents();
  protected readonly charted = CHARTED;
  private readonly routeRates = new CounterRates();

  /** Starts measuring; per-route rates start over too. */
  override start(): void {
    super.start();
    this.routeRates.reset();
  }

  /** Reads everything once and returns the snapshot. */
  async sample(now = Date.now()): Promise<DashboardSnapshot> {
    const { text } = await this.source.metrics();
    const status = this.source.status();
    const reading = parsePrometheusText(text, METRICS);
    const values = this.measure({ connections: status.connections }, counters(reading), now);
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
