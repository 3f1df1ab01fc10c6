/**
 * Samples a `conduit serve` node once per interval for the dashboard: counters from the metrics registry
 * turned into per-second rates, gauges, the hub's topics, process memory, CPU and event-loop delay, each
 * kept for the last minute so that the page can draw sparklines. It runs only while someone watches
 * (the feed starts and stops it): an unwatched server pays nothing.
 * @module
 */
import type { Registry } from 'prom-client';
import type { Hub } from '../hub/hub.js';
import { DashboardSamplerBase } from '../observability/dashboard/dashboard-sampler.js';
import type { DashboardSnapshot } from '../observability/dashboard/dashboard-types.js';
import { type MetricReading, readMetrics, total } from '../observability/dashboard/metric-reading.js';
import type { SampleValues } from '../observability/dashboard/series.js';
import type { ServeOptions } from './serve-args.js';
import { DashboardEvents, EVENT_METRICS } from './serve-dashboard-events.js';
import { buildSnapshot, topicRows } from './serve-dashboard-sections.js';

/** Counters shown as per-second rates, by stat id. */
const RATES: Readonly<Record<string, string>> = {
  accepted: 'conduit_connections_total',
  messagesIn: 'conduit_messages_received_total',
  messagesOut: 'conduit_messages_sent_total',
  bytesIn: 'conduit_bytes_received_total',
  bytesOut: 'conduit_bytes_sent_total',
  publishes: 'conduit_hub_client_publishes_total',
  publications: 'conduit_hub_publications_total',
  deliveries: 'conduit_hub_deliveries_total',
};

/** Gauges and counters shown as they are, by stat id. */
const LEVELS: Readonly<Record<string, string>> = {
  connections: 'conduit_connections_open',
  hubSessions: 'conduit_hub_connections',
  subscriptions: 'conduit_hub_subscriptions',
  topics: 'conduit_hub_topics',
  queuedBytes: 'conduit_hub_queued_bytes',
  dropped: 'conduit_hub_dropped_messages_total',
  slowCloses: 'conduit_hub_slow_consumer_closes_total',
  rateLimitCloses: 'conduit_hub_rate_limit_closes_total',
  hubErrors: 'conduit_hub_errors_total',
  degradedSeconds: 'conduit_hub_engine_degraded_seconds_total',
};

/** Stats whose recent values are kept for a sparkline (besides the process's). */
const CHARTED = [
  'connections',
  'messagesIn',
  'messagesOut',
  'bytesIn',
  'bytesOut',
  'publishes',
  'deliveries',
];

const METRICS = [...Object.values(RATES), ...Object.values(LEVELS), ...EVENT_METRICS];

/** The counters shown as rates, by stat id. */
function counters(reading: MetricReading): Map<string, number> {
  return new Map(Object.entries(RATES).map(([id, metric]) => [id, total(reading, metric)]));
}

/** The gauges and counters shown as they are, by stat id. */
function levels(reading: MetricReading): SampleValues {
  const values: SampleValues = {};
  for (const [id, metric] of Object.entries(LEVELS)) values[id] = total(reading, metric);
  return values;
}

/** What the sampler reads. */
export interface DashboardSources {
  hub: Hub;
  registry: Registry;
  options: ServeOptions;
}

/** Produces one {@link DashboardSnapshot} per call to {@link DashboardSampler.sample}. */
export class DashboardSampler extends DashboardSamplerBase<DashboardSources> {
  protected readonly events = new DashboardEvents();
  protected readonly charted = CHARTED;

  /** Reads everything once and returns the snapshot. */
  async sample(now = Date.now()): Promise<DashboardSnapshot> {
    const { hub, registry, options } = this.source;
    const reading = await readMetrics(registry, METRICS);
    const values = this.measure(levels(reading), counters(reading), now);
    this.events.observe(reading, hub.stats.engineAvailable === 1, now);
    return buildSnapshot({
      values,
      series: this.series.asMap(),
      reading,
      topics: topicRows(hub.topics),
      events: this.events.list(),
      engine: hub.engine.name,
      engineAvailable: hub.stats.engineAvailable === 1,
      workers: options.workers,
      time: now,
      intervalMs: this.intervalMs,
    });
  }
}
