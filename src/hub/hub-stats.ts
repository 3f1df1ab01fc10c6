/**
 * The hub's counters: plain numbers on the hot path (a fan-out to 1000 subscribers adds 1000 deliveries),
 * exported to a prom-client registry as `conduit_hub_*` and read at scrape time.
 * @module
 */
import { Counter, Gauge, type Registry } from 'prom-client';

/** Counts kept by a hub (monotonic unless noted). */
export class HubStats {
  /** Messages handed to sockets. */
  deliveries = 0;
  /** Publications received from the engine for local subscribers. */
  publications = 0;
  /** Client publishes accepted. */
  publishes = 0;
  /** Messages dropped by the drop-oldest/drop-newest policies. */
  dropped = 0;
  /** Connections closed by the `disconnect` policy. */
  slowDisconnects = 0;
  /** `error` messages sent. */
  errors = 0;
  /** Connections closed for going on over the rate limit. */
  rateLimitCloses = 0;
  /** Engine availability (gauge): 1 up, 0 degraded. */
  engineAvailable = 1;
  /** Seconds the engine was unavailable, completed periods only. */
  degradedSeconds = 0;
}

/** Sources of the gauges computed at scrape time. */
export interface HubGauges {
  connections(): number;
  subscriptions(): number;
  topics(): number;
  queuedBytes(): number;
}

type CountName = Exclude<keyof HubStats, 'engineAvailable'>;

const COUNTERS: readonly (readonly [CountName, string, string])[] = [
  ['deliveries', 'conduit_hub_deliveries_total', 'Messages handed to subscribers sockets.'],
  [
    'publications',
    'conduit_hub_publications_total',
    'Publications received from the engine for local subscribers.',
  ],
  ['publishes', 'conduit_hub_client_publishes_total', 'Client publishes accepted by the engine.'],
  [
    'dropped',
    'conduit_hub_dropped_messages_total',
    'Messages dropped by a drop-oldest or drop-newest policy.',
  ],
  [
    'slowDisconnects',
    'conduit_hub_slow_consumer_closes_total',
    'Connections closed with 1013 as slow consumers.',
  ],
  ['errors', 'conduit_hub_errors_total', 'Error messages sent to clients.'],
  [
    'rateLimitCloses',
    'conduit_hub_rate_limit_closes_total',
    'Connections closed with 1008 for exceeding rate limits.',
  ],
  ['degradedSeconds', 'conduit_hub_engine_degraded_seconds_total', 'Seconds the engine was unavailable.'],
];

/** Registers the hub's metrics on `registry`. */
export function registerHubMetrics(registry: Registry, stats: HubStats, gauges: HubGauges): void {
  for (const [field, name, help] of COUNTERS) {
    let reported = 0;
    new Counter({
      name,
      help,
      registers: [registry],
      collect(this: Counter<string>) {
        this.inc(stats[field] - reported);
        reported = stats[field];
      },
    });
  }
  const gauge = (name: string, help: string, read: () => number): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect(this: Gauge<string>) {
        this.set(read());
      },
    });
  };
  gauge('conduit_hub_connections', 'Open hub connections.', gauges.connections);
  gauge('conduit_hub_subscriptions', 'Subscriptions of local connections.', gauges.subscriptions);
  gauge('conduit_hub_topics', 'Topics and patterns with local subscribers.', gauges.topics);
  gauge('conduit_hub_queued_bytes', 'Bytes queued for slow subscribers.', gauges.queuedBytes);
  gauge(
    'conduit_hub_engine_available',
    '1 while the engine is reachable, 0 while degraded.',
    () => stats.engineAvailable,
  );
}
