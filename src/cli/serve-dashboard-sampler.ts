/**
 * Samples a `conduit serve` node once per interval for the dashboard: counters from the metrics registry
 * turned into per-second rates, gauges, the hub's topics, process memory, CPU and event-loop delay, each
 * kept for the last minute so that the page can draw sparklines. It runs only while someone watches
 * (the feed starts and stops it): an unwatched server pays nothing.
 * @module
 */
import type { Registry } from 'prom-client';
import type { Hub } from '../hub/hub.js';
import { LoadMonitor } from '../observability/overload.js';
import type { ServeOptions } from './serve-args.js';
import { DashboardEvents, EVENT_METRICS } from './serve-dashboard-events.js';
import { type MetricReading, readMetrics, total } from './serve-dashboard-registry.js';
import { buildSnapshot, type SampleValues, topicRows } from './serve-dashboard-sections.js';
import type { DashboardSnapshot } from './web/dashboard-types.js';

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

/** Stats whose recent values are kept for a sparkline. */
const CHARTED = [
  'connections',
  'messagesIn',
  'messagesOut',
  'bytesIn',
  'bytesOut',
  'publishes',
  'deliveries',
  'rss',
  'heapUsed',
  'eventLoopDelay',
  'cpu',
] as const;

const METRICS = [...Object.values(RATES), ...Object.values(LEVELS), ...EVENT_METRICS];

/** The last reading of the counters, for the next rates. */
interface Previous {
  time: number;
  counters: Map<string, number>;
  cpu: NodeJS.CpuUsage;
}

/** What the sampler reads. */
export interface DashboardSources {
  hub: Hub;
  registry: Registry;
  options: ServeOptions;
}

/** Produces one {@link DashboardSnapshot} per call to {@link DashboardSampler.sample}. */
export class DashboardSampler {
  private readonly series = new Map<string, number[]>();
  private readonly events = new DashboardEvents();
  private readonly load = new LoadMonitor();
  private previous: Previous | null = null;
  private running = false;

  /**
   * @param sources What to read.
   * @param intervalMs Time between samples (the sparklines' step).
   * @param points Values kept per sparkline (60 at one per second: the last minute).
   */
  constructor(
    private readonly sources: DashboardSources,
    readonly intervalMs = 1000,
    private readonly points = 60,
  ) {}

  /** Starts measuring event-loop delay; charts start empty (a gap in time must not look like a line). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.load.acquire();
    this.series.clear();
    this.previous = null;
    this.events.rebase();
  }

  /** Stops measuring (nobody watches). */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.load.release();
  }

  /** Reads everything once and returns the snapshot. */
  async sample(now = Date.now()): Promise<DashboardSnapshot> {
    const { hub, registry, options } = this.sources;
    const reading = await readMetrics(registry, METRICS);
    const values = this.values(reading, now);
    this.events.observe(reading, hub.stats.engineAvailable === 1, now);
    for (const id of CHARTED) this.record(id, values[id] ?? 0);
    return buildSnapshot({
      values,
      series: this.series,
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

  private values(reading: MetricReading, now: number): SampleValues {
    const values: SampleValues = {};
    const counters = new Map<string, number>();
    const previous = this.previous;
    const seconds = previous === null ? 0 : (now - previous.time) / 1000;
    for (const [id, metric] of Object.entries(RATES)) {
      const sum = total(reading, metric);
      counters.set(id, sum);
      const before = previous?.counters.get(id);
      values[id] = before === undefined || seconds <= 0 ? 0 : Math.max(0, (sum - before) / seconds);
    }
    for (const [id, metric] of Object.entries(LEVELS)) values[id] = total(reading, metric);
    const cpu = process.cpuUsage();
    if (previous !== null && seconds > 0) {
      const usedMicros = cpu.user - previous.cpu.user + (cpu.system - previous.cpu.system);
      values.cpu = (usedMicros / 1e6 / seconds) * 100;
    } else values.cpu = 0;
    const memory = process.memoryUsage();
    values.rss = memory.rss;
    values.heapUsed = memory.heapUsed;
    values.eventLoopDelay = this.load.sample(now, 0).eventLoopDelayMs;
    values.uptime = process.uptime();
    this.previous = { time: now, counters, cpu };
    return values;
  }

  private record(id: string, value: number): void {
    let values = this.series.get(id);
    if (values === undefined) {
      values = [];
      this.series.set(id, values);
    }
    values.push(value);
    if (values.length > this.points) values.shift();
  }
}
