/**
 * The "recent problems" of `conduit serve`'s dashboard: events derived from the error counters between
 * two samples (refused handshakes, abnormal closes, hub errors, drops) and from engine availability
 * changes, kept in a bounded {@link EventLog}.
 * @module
 */
import { closeMeaning, ORDINARY_CLOSE_CODES } from '../observability/dashboard/close-codes.js';
import type { DashboardEvent } from '../observability/dashboard/dashboard-types.js';
import { EventLog } from '../observability/dashboard/event-log.js';
import { type MetricPoint, type MetricReading, total } from '../observability/dashboard/metric-reading.js';

export { closeMeaning } from '../observability/dashboard/close-codes.js';

/** Unlabelled counters whose growth is worth an event, with the words for it. */
const COUNTED: readonly (readonly [metric: string, level: DashboardEvent['level'], text: string])[] = [
  ['conduit_hub_errors_total', 'warn', 'error messages sent to hub clients'],
  ['conduit_hub_dropped_messages_total', 'warn', 'messages dropped for slow subscribers'],
  ['conduit_messages_dropped_total', 'warn', 'messages dropped by send backpressure'],
];

/** The metrics this module reads (the sampler asks the registry for them). */
export const EVENT_METRICS: readonly string[] = [
  'conduit_handshake_failures_total',
  'conduit_closes_total',
  ...COUNTED.map(([metric]) => metric),
];

function keyOf(metric: string, point: MetricPoint): string {
  const labels = Object.keys(point.labels)
    .sort()
    .map((label) => `${label}=${point.labels[label]}`);
  return `${metric}{${labels.join(',')}}`;
}

function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}

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

/** Turns counter growth into events and keeps the last `limit` of them. */
export class DashboardEvents {
  private readonly log: EventLog;
  private engineAvailable = true;

  constructor(limit = 20) {
    this.log = new EventLog(limit);
  }

  /** Compares a reading with the previous one and records what grew. */
  observe(reading: MetricReading, engineAvailable: boolean, time: number): void {
    for (const point of reading.get('conduit_handshake_failures_total') ?? []) {
      this.grew('conduit_handshake_failures_total', point, 'warn', time, handshakeText);
    }
    for (const point of reading.get('conduit_closes_total') ?? []) {
      if (ORDINARY_CLOSE_CODES.has(String(point.labels.code))) continue;
      const level = point.labels.code === '1011' ? 'error' : 'warn';
      this.grew('conduit_closes_total', point, level, time, closeText);
    }
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

  /**
   * Starts a new baseline: the next reading records no event. The sampler calls it when it starts again
   * after nobody watched, so that what happened unwatched is not dated at the moment someone looked.
   */
  rebase(): void {
    this.log.rebase();
  }

  /** The recorded events, newest first. */
  list(): DashboardEvent[] {
    return this.log.list();
  }

  private grew(
    metric: string,
    point: MetricPoint,
    level: DashboardEvent['level'],
    time: number,
    describe: (count: number, point: MetricPoint) => string,
  ): void {
    const count = this.log.growth(keyOf(metric, point), point.value);
    if (count > 0) this.log.push({ time, level, text: describe(count, point) });
  }
}
