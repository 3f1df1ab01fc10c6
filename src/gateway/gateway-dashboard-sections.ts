/**
 * The sections of the gateway's dashboard snapshot, built from one sample: pure functions from the
 * gateway's status and metrics to the generic {@link DashboardSnapshot} shape the page draws.
 * @module
 */
import type {
  DashboardEvent,
  DashboardSnapshot,
  DashboardStat,
  StatsSection,
  TableSection,
} from '../observability/dashboard/dashboard-types.js';
import type { MetricReading } from '../observability/dashboard/metric-reading.js';
import { processSection } from '../observability/dashboard/process-sample.js';
import type { SampleValues, SeriesSource } from '../observability/dashboard/series.js';
import {
  closeCodeRows,
  countedRows,
  frameSnapshot,
  problemsSection,
  sampleStat as stat,
} from '../observability/dashboard/snapshot-sections.js';
import type { BackendStatus } from './backend.js';
import { NO_ROUTE } from './gateway-metrics.js';
import type { GatewayStatus } from './gateway-status.js';
import type { UpstreamStatus } from './upstream.js';

/** The close code counter the closes table reads (by route, upstream, side and code), when exported. */
export const CLOSES_METRIC = 'conduit_gateway_closes_total';
/** The upgrade counter (by route, upstream and status). */
export const UPGRADES_METRIC = 'conduit_gateway_upgrades_total';

/** Everything one snapshot is built from. */
export interface GatewaySampleInput {
  values: SampleValues;
  series: SeriesSource;
  reading: MetricReading;
  status: GatewayStatus;
  /** Messages per second of each route, by direction, over the last interval. */
  routeRates: ReadonlyMap<string, { upstream: number; downstream: number }>;
  events: DashboardEvent[];
  time: number;
  intervalMs: number;
}

function connectionsSection(input: GatewaySampleInput): StatsSection {
  const draining = input.status.draining;
  const refused = input.values.refused ?? 0;
  return {
    kind: 'stats',
    id: 'connections',
    title: 'Connections',
    note: 'Proxied WebSocket connections, every route (this dashboard is not one of them).',
    stats: [
      stat(input, 'connections', 'Open', 'count'),
      stat(input, 'accepted', 'Accepted', 'rate'),
      { ...stat(input, 'refused', 'Upgrades refused', 'rate'), health: refused > 0 ? 'warn' : 'ok' },
      {
        id: 'state',
        label: 'Gateway',
        value: draining ? 'draining' : 'serving',
        format: 'text',
        health: draining ? 'warn' : 'ok',
      },
    ],
  };
}

function trafficSection(input: GatewaySampleInput): StatsSection {
  return {
    kind: 'stats',
    id: 'traffic',
    title: 'Traffic',
    note: 'Per second over the last interval. Tunnelled routes count bytes, not messages.',
    stats: [
      stat(input, 'messagesUp', 'Messages client → backend', 'rate'),
      stat(input, 'messagesDown', 'Messages backend → client', 'rate'),
      stat(input, 'bytesUp', 'Bytes client → backend', 'byteRate'),
      stat(input, 'bytesDown', 'Bytes backend → client', 'byteRate'),
    ],
  };
}

function routesSection(input: GatewaySampleInput): TableSection {
  const rows = input.status.routes.map((route) => {
    const rates = input.routeRates.get(route.name);
    return [
      route.name,
      route.path,
      route.connections,
      route.connectionsTotal,
      rates?.upstream ?? 0,
      rates?.downstream ?? 0,
    ];
  });
  return {
    kind: 'table',
    id: 'routes',
    title: 'Routes',
    note: 'Connections open and accepted, and messages per second (↑ client → backend, ↓ backend → client).',
    columns: ['Route', 'Path', 'Open', 'Accepted', 'Msg/s ↑', 'Msg/s ↓'],
    rows,
    empty: 'No route in the configuration.',
  };
}

/** A backend's state in words; an ejection says how long it has left. */
function backendState(backend: BackendStatus, now: number): string {
  if (backend.state === 'ejected' && backend.ejectedUntil !== null) {
    return `ejected (${Math.max(0, Math.ceil((backend.ejectedUntil - now) / 1000))} s left)`;
  }
  return backend.state;
}

function upstreamStat(upstream: UpstreamStatus): DashboardStat {
  const up = upstream.backends.filter((backend) => backend.state === 'healthy').length;
  const all = upstream.backends.length;
  const connections = upstream.backends.reduce((sum, backend) => sum + backend.activeConnections, 0);
  let health: DashboardStat['health'] = 'ok';
  if (up === 0) health = 'bad';
  else if (up < all) health = 'warn';
  return {
    id: upstream.name,
    label: upstream.name,
    value: `${up} of ${all} up`,
    format: 'text',
    health,
    hint: `${upstream.balance} · ${connections} ${connections === 1 ? 'connection' : 'connections'}`,
  };
}

function upstreamsSection(input: GatewaySampleInput): StatsSection {
  return {
    kind: 'stats',
    id: 'upstreams',
    title: 'Upstreams',
    note: 'Backends that may take connections (healthy: not failing checks, not ejected).',
    stats: input.status.upstreams.map(upstreamStat),
  };
}

/** One table per upstream: its backends, their state and load. */
function backendsSection(upstream: UpstreamStatus, now: number): TableSection {
  const rows = upstream.backends.map((backend) => [
    backend.url,
    backendState(backend, now),
    backend.activeConnections,
    backend.consecutiveFailures,
  ]);
  return {
    kind: 'table',
    id: `backends:${upstream.name}`,
    title: `Backends of ${upstream.name}`,
    note: 'Open: connections, upgrades in progress included. Failed: failed upgrades in a row.',
    columns: ['Backend', 'State', 'Open', 'Failed'],
    rows,
    empty: 'No backend.',
  };
}

function closesSection(input: GatewaySampleInput): TableSection {
  const points = input.reading.get(CLOSES_METRIC);
  return {
    kind: 'table',
    id: 'closes',
    title: 'Close codes',
    note: 'How each side of the proxied connections ended, since the gateway started.',
    columns: ['Code', 'Meaning', 'Client side', 'Backend side'],
    rows: closeCodeRows(points, (point) => point.labels.side !== 'upstream'),
    empty:
      points === undefined
        ? `Not counted: this gateway's metrics have no ${CLOSES_METRIC}.`
        : 'No proxied connection closed yet.',
  };
}

function refusalsSection(input: GatewaySampleInput): TableSection {
  const rows = countedRows(
    input.reading.get(UPGRADES_METRIC),
    (point) => [
      point.labels.route === NO_ROUTE ? '(no route)' : String(point.labels.route),
      Number(point.labels.status),
    ],
    (point) => point.labels.status !== '101',
  );
  return {
    kind: 'table',
    id: 'refusals',
    title: 'Refused upgrades',
    note: 'Upgrade requests answered with an error since the gateway started, by route and status.',
    columns: ['Route', 'Status', 'Count'],
    rows,
    empty: 'No upgrade refused.',
  };
}

/** The snapshot of one sample. */
export function buildGatewaySnapshot(input: GatewaySampleInput): DashboardSnapshot {
  const { status } = input;
  const snapshot = frameSnapshot(input, 'conduit gateway', status.source, [
    connectionsSection(input),
    trafficSection(input),
    upstreamsSection(input),
    routesSection(input),
    ...input.status.upstreams.map((upstream) => backendsSection(upstream, input.time)),
    closesSection(input),
    refusalsSection(input),
    processSection(input.values, input.series),
    problemsSection(
      'Recent errors',
      'Refusals, abnormal closes, backend health and reloads, sampled while this page is open.',
      input.events,
    ),
  ]);
  if (status.draining) {
    snapshot.notice = 'Draining: the listeners are closed and every proxied connection is closing (1001).';
  }
  return snapshot;
}
