/**
 * The sections of `conduit serve`'s dashboard snapshot, built from one sample: pure functions from numbers
 * to the generic {@link DashboardSnapshot} shape, so the page needs no knowledge of where they came from.
 * @module
 */
import type { LocalTopics } from '../hub/local-topics.js';
import type {
  DashboardEvent,
  DashboardSection,
  DashboardSnapshot,
  TableSection,
} from '../observability/dashboard/dashboard-types.js';
import type { MetricReading } from '../observability/dashboard/metric-reading.js';
import { processSection } from '../observability/dashboard/process-sample.js';
import type { SampleValues } from '../observability/dashboard/series.js';
import {
  closeCodeRows,
  countedRows,
  frameSnapshot,
  problemsSection,
  sampleStat as stat,
} from '../observability/dashboard/snapshot-sections.js';

export type { SampleValues } from '../observability/dashboard/series.js';

/** Everything one snapshot is built from. */
export interface SampleInput {
  values: SampleValues;
  /** Recent values by stat id, oldest first. */
  series: ReadonlyMap<string, readonly number[]>;
  reading: MetricReading;
  /** Topics and patterns with their local subscriber counts, most subscribed first. */
  topics: [string, number][];
  events: DashboardEvent[];
  engine: string;
  engineAvailable: boolean;
  workers: number;
  time: number;
  intervalMs: number;
}

/** Rows of the topics table: at most this many (the rest is summed up in the note). */
const TOP_TOPICS = 10;

/** Topics and patterns with local subscribers and how many, most subscribed first. */
export function topicRows(topics: LocalTopics): [string, number][] {
  const rows: [string, number][] = [];
  for (const [name, entry] of topics.exact) rows.push([name, entry.subscriptions.size]);
  for (const [name, entry] of topics.patterns) rows.push([name, entry.subscriptions.size]);
  return rows.sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

function connectionsSection(input: SampleInput): DashboardSection {
  return {
    kind: 'stats',
    id: 'connections',
    title: 'Connections',
    note: 'WebSocket connections of /hub and /echo (dashboards are not counted).',
    stats: [
      stat(input, 'connections', 'Open', 'count'),
      stat(input, 'accepted', 'Accepted', 'rate'),
      stat(input, 'hubSessions', 'Hub sessions', 'count'),
      stat(input, 'subscriptions', 'Subscriptions', 'count'),
    ],
  };
}

function trafficSection(input: SampleInput): DashboardSection {
  return {
    kind: 'stats',
    id: 'traffic',
    title: 'Traffic',
    note: 'Per second, averaged over the last interval.',
    stats: [
      stat(input, 'messagesIn', 'Messages in', 'rate'),
      stat(input, 'messagesOut', 'Messages out', 'rate'),
      stat(input, 'bytesIn', 'Bytes in', 'byteRate'),
      stat(input, 'bytesOut', 'Bytes out', 'byteRate'),
      stat(input, 'publishes', 'Client publishes', 'rate'),
      stat(input, 'deliveries', 'Hub deliveries', 'rate'),
    ],
  };
}

function hubSection(input: SampleInput): DashboardSection {
  const available = input.engineAvailable;
  return {
    kind: 'stats',
    id: 'hub',
    title: 'Hub',
    note: 'Totals since the process started.',
    stats: [
      {
        id: 'engine',
        label: `Engine (${input.engine})`,
        value: available ? 'available' : 'unavailable',
        format: 'text',
        health: available ? 'ok' : 'bad',
      },
      stat(input, 'topics', 'Topics', 'count'),
      stat(input, 'queuedBytes', 'Queued for slow clients', 'bytes'),
      stat(input, 'dropped', 'Dropped (slow clients)', 'count'),
      stat(input, 'slowCloses', 'Slow-consumer closes', 'count'),
      stat(input, 'rateLimitCloses', 'Rate-limit closes', 'count'),
      stat(input, 'hubErrors', 'Errors sent', 'count'),
      stat(input, 'degradedSeconds', 'Engine outage', 'text', {
        value: `${Math.round(input.values.degradedSeconds ?? 0)} s`,
      }),
    ],
  };
}

function topicsSection(input: SampleInput): TableSection {
  const shown = input.topics.slice(0, TOP_TOPICS);
  const hidden = input.topics.length - shown.length;
  return {
    kind: 'table',
    id: 'topics',
    title: 'Top topics',
    note:
      hidden > 0
        ? `The ${TOP_TOPICS} most subscribed of ${input.topics.length} topics and patterns on this node.`
        : 'Topics and patterns with subscribers on this node.',
    columns: ['Topic', 'Subscribers'],
    rows: shown,
    empty: 'No subscriptions yet.',
  };
}

function closesSection(input: SampleInput): TableSection {
  const rows = closeCodeRows(
    input.reading.get('conduit_closes_total'),
    (point) => point.labels.side === 'local',
  );
  return {
    kind: 'table',
    id: 'closes',
    title: 'Close codes',
    note: 'Connections closed since the process started, by who started the closing.',
    columns: ['Code', 'Meaning', 'By server', 'By peer'],
    rows,
    empty: 'No connection closed yet.',
  };
}

function handshakesSection(input: SampleInput): TableSection {
  const rows = countedRows(input.reading.get('conduit_handshake_failures_total'), (point) => [
    String(point.labels.reason),
    Number(point.labels.status) || '—',
  ]);
  return {
    kind: 'table',
    id: 'handshakes',
    title: 'Refused handshakes',
    note: 'Upgrades refused or abandoned since the process started.',
    columns: ['Reason', 'Status', 'Count'],
    rows,
    empty: 'No handshake failed.',
  };
}

/** The snapshot of one sample. */
export function buildSnapshot(input: SampleInput): DashboardSnapshot {
  const snapshot = frameSnapshot(input, 'conduit serve', `${input.engine} engine`, [
    connectionsSection(input),
    trafficSection(input),
    topicsSection(input),
    hubSection(input),
    processSection(input.values, input.series),
    closesSection(input),
    handshakesSection(input),
    problemsSection(
      'Recent problems',
      'From the error counters, sampled every interval while this page is open.',
      input.events,
    ),
  ]);
  if (input.workers > 1) {
    snapshot.notice = `Cluster mode (${input.workers} workers): these are the numbers of worker pid ${process.pid} only, the one serving this feed. /metrics sums every worker.`;
  }
  return snapshot;
}
