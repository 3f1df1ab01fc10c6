/**
 * The dashboard's "recent problems": a bounded ring of events derived from the error counters between two
 * samples (refused handshakes, abnormal closes, hub errors, drops) and from engine availability changes.
 * Counters rather than log lines: they are what every layer already records, in every process, at no
 * extra cost on the paths that fail.
 * @module
 */

import { type MetricPoint, type MetricReading, total } from './serve-dashboard-registry.js';
import type { DashboardEvent } from './web/dashboard-types.js';

/** Close codes that are part of a normal life: no event for them (RFC 6455 §7.4.1). */
const ORDINARY_CLOSES = new Set(['1000', '1001', '1005']);

/** What each close code means, in a few words (RFC 6455 §7.4.1 and the IANA close code registry). */
const CLOSE_MEANINGS: Readonly<Record<string, string>> = {
  '1000': 'normal',
  '1001': 'going away',
  '1002': 'protocol error',
  '1003': 'unsupported data',
  '1005': 'no status',
  '1006': 'abnormal, no close frame',
  '1007': 'invalid payload',
  '1008': 'policy violation',
  '1009': 'message too big',
  '1010': 'extension required',
  '1011': 'server error',
  '1012': 'service restart',
  '1013': 'try again later',
  '1014': 'bad gateway',
  '1015': 'TLS handshake',
};

/** What close code `code` means, in a few words; 4000–4999 are the application's own (RFC 6455 §7.4.2). */
export function closeMeaning(code: string): string {
  return CLOSE_MEANINGS[code] ?? (code.startsWith('4') ? 'application' : 'unknown');
}

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
  private readonly events: DashboardEvent[] = [];
  /** Last seen value per counter series; empty until the first reading (its baseline). */
  private readonly seen = new Map<string, number>();
  private baseline = true;
  private engineAvailable = true;

  constructor(private readonly limit = 20) {}

  /** Compares a reading with the previous one and records what grew. */
  observe(reading: MetricReading, engineAvailable: boolean, time: number): void {
    for (const point of reading.get('conduit_handshake_failures_total') ?? []) {
      this.grew('conduit_handshake_failures_total', point, 'warn', time, handshakeText);
    }
    for (const point of reading.get('conduit_closes_total') ?? []) {
      if (ORDINARY_CLOSES.has(String(point.labels.code))) continue;
      const level = point.labels.code === '1011' ? 'error' : 'warn';
      this.grew('conduit_closes_total', point, level, time, closeText);
    }
    for (const [metric, level, text] of COUNTED) {
      const point = { labels: {}, value: total(reading, metric) };
      this.grew(metric, point, level, time, (count) => `${count} ${text}`);
    }
    if (engineAvailable !== this.engineAvailable) {
      this.engineAvailable = engineAvailable;
      if (engineAvailable) this.push({ time, level: 'info', text: 'Engine available again' });
      else this.push({ time, level: 'error', text: 'Engine unavailable: publishes fail, /healthz says 503' });
    }
    this.baseline = false;
  }

  /**
   * Starts a new baseline: the next reading records no event. The sampler calls it when it starts again
   * after nobody watched, so that what happened unwatched is not dated at the moment someone looked.
   */
  rebase(): void {
    this.baseline = true;
  }

  /** The recorded events, newest first. */
  list(): DashboardEvent[] {
    return [...this.events].reverse();
  }

  private grew(
    metric: string,
    point: MetricPoint,
    level: DashboardEvent['level'],
    time: number,
    describe: (count: number, point: MetricPoint) => string,
  ): void {
    const key = keyOf(metric, point);
    const before = this.seen.get(key) ?? 0;
    this.seen.set(key, point.value);
    // The first reading only sets the baseline: counts from before anyone watched are not news.
    const count = point.value - before;
    if (this.baseline || count <= 0) return;
    this.push({ time, level, text: describe(count, point) });
  }

  private push(event: DashboardEvent): void {
    this.events.push(event);
    if (this.events.length > this.limit) this.events.shift();
  }
}
