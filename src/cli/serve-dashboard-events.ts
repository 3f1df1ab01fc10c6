/**
 * The "recent problems" of `conduit serve`'s dashboard: events derived from the error counters between
 * two samples (refused handshakes, abnormal closes, hub errors, drops) and from engine availability
 * changes. Growth, baselines and the bounded list are the shared {@link CounterEvents}'.
 * @module
 */
import { closeMeaning } from '../observability/dashboard/close-codes.js';
import { CounterEvents, plural } from '../observability/dashboard/counter-events.js';
import type { DashboardEvent } from '../observability/dashboard/dashboard-types.js';
import { type MetricPoint, type MetricReading, total } from '../observability/dashboard/metric-reading.js';

export { closeMeaning } from '../observability/dashboard/close-codes.js';

const HANDSHAKES = 'conduit_handshake_failures_total';
const CLOSES = 'conduit_closes_total';

/** Unlabelled counters whose growth is worth an event, with the words for it. */
const COUNTED: readonly (readonly [metric: string, level: DashboardEvent['level'], text: string])[] = [
  ['conduit_hub_errors_total', 'warn', 'error messages sent to hub clients'],
  ['conduit_hub_dropped_messages_total', 'warn', 'messages dropped for slow subscribers'],
  ['conduit_messages_dropped_total', 'warn', 'messages dropped by send backpressure'],
];

/** The metrics this module reads (the sampler asks the registry for them). */
export const EVENT_METRICS: readonly string[] = [HANDSHAKES, CLOSES, ...COUNTED.map(([metric]) => metric)];

function handshakeText(count: number, point: MetricPoint): string {
  const status = Number(point.labels.status);
  const sent = status > 0 ? `, answered ${status}` : '';
  return `${plural(count, 'handshake', 'handshakes')} failed: ${point.labels.reason}${sent}`;
}

function closeText(count: number, point: MetricPoint): string {
  const code = String(point.labels.code);
  const meaning = closeMeaning(code);
  const side = point.labels.side === 'local' ? 'by the server' : 'by the peer';
  return `${plural(count, 'connection', 'connections')} closed with ${code} (${meaning}) ${side}`;
}

/** Turns counter growth and engine availability changes into events and keeps the last `limit` of them. */
export class DashboardEvents extends CounterEvents {
  private engineAvailable = true;

  /** Compares a reading with the previous one and records what grew. */
  observe(reading: MetricReading, engineAvailable: boolean, time: number): void {
    this.grewEach(reading, HANDSHAKES, time, handshakeText);
    this.abnormalCloses(reading, CLOSES, time, closeText);
    for (const [metric, level, text] of COUNTED) {
      const point = { labels: {}, value: total(reading, metric) };
      this.grew(metric, point, level, time, (count) => `${count} ${text}`);
    }
    if (engineAvailable !== this.engineAvailable) {
      this.engineAvailable = engineAvailable;
      if (engineAvailable) this.log.push({ time, level: 'info', text: 'Engine available again' });
      else
        this.log.push({
          time,
          level: 'error',
          text: 'Engine unavailable: publishes fail, /healthz says 503',
        });
    }
    this.log.endReading();
  }
}
