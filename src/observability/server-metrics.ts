/**
 * A server's metrics on a prom-client registry. Hot-path counts (bytes, messages, control frames) are
 * {@link Tally} numbers that prom-client reads when the registry is scraped; rare events (handshake
 * failures, closes, heartbeat round trips) go to prom-client directly.
 * @module
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import {
  type CloseSide,
  type HandshakeFailureReason,
  NOOP_SERVER_METRICS,
  type ServerMetrics,
  Tally,
} from './metric-types.js';

/** Buckets of the heartbeat round-trip histogram, in seconds (1 ms to 10 s). */
export const RTT_BUCKETS: readonly number[] = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** Registers a counter whose label values are read from tallies at scrape time. */
function tallyCounter(
  registry: Registry,
  name: string,
  help: string,
  label: string | null,
  tallies: readonly (readonly [string, Tally])[],
): void {
  const reported = tallies.map(() => 0);
  new Counter({
    name,
    help,
    labelNames: label === null ? [] : [label],
    registers: [registry],
    collect(this: Counter<string>) {
      for (let i = 0; i < tallies.length; i++) {
        const [value, tally] = tallies[i]!;
        const delta = tally.value - reported[i]!;
        reported[i] = tally.value;
        // An increment of 0 still makes the labelled series appear (at 0) from the first scrape.
        if (label === null) this.inc(delta);
        else this.inc({ [label]: value }, delta);
      }
    },
  });
}

/** Registers a gauge that reports a tally at scrape time. */
function tallyGauge(registry: Registry, name: string, help: string, tally: Tally): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect(this: Gauge<string>) {
      this.set(tally.value);
    },
  });
}

function counter(registry: Registry, prefix: string, name: string, help: string): Tally {
  const tally = new Tally();
  tallyCounter(registry, `${prefix}${name}`, help, null, [['', tally]]);
  return tally;
}

function typedCounter(registry: Registry, name: string, help: string): [text: Tally, binary: Tally] {
  const text = new Tally();
  const binary = new Tally();
  tallyCounter(registry, name, help, 'type', [
    ['text', text],
    ['binary', binary],
  ]);
  return [text, binary];
}

function gauge(registry: Registry, prefix: string, name: string, help: string): Tally {
  const tally = new Tally();
  tallyGauge(registry, `${prefix}${name}`, help, tally);
  return tally;
}

function build(registry: Registry, p: string): ServerMetrics {
  const handshakeFailures = new Counter({
    name: `${p}handshake_failures_total`,
    help: 'Opening handshakes that failed, by reason and HTTP status sent (0: none)',
    labelNames: ['reason', 'status'],
    registers: [registry],
  });
  const closes = new Counter({
    name: `${p}closes_total`,
    help: 'Connections closed, by close code and by the side that started the closing',
    labelNames: ['code', 'side'],
    registers: [registry],
  });
  const rtt = new Histogram({
    name: `${p}heartbeat_rtt_seconds`,
    help: 'Round-trip time of heartbeat pings',
    buckets: [...RTT_BUCKETS],
    registers: [registry],
  });
  const [textIn, binaryIn] = typedCounter(registry, `${p}messages_received_total`, 'Messages received');
  const [textOut, binaryOut] = typedCounter(registry, `${p}messages_sent_total`, 'Messages sent');
  return {
    enabled: true,
    connectionsOpen: gauge(registry, p, 'connections_open', 'Open WebSocket connections'),
    connectionsTotal: counter(registry, p, 'connections_total', 'WebSocket connections accepted'),
    bytesReceived: counter(registry, p, 'bytes_received_total', 'WebSocket bytes read after the handshake'),
    bytesSent: counter(registry, p, 'bytes_sent_total', 'WebSocket bytes written after the handshake'),
    textMessagesReceived: textIn,
    binaryMessagesReceived: binaryIn,
    textMessagesSent: textOut,
    binaryMessagesSent: binaryOut,
    pingsSent: counter(registry, p, 'pings_sent_total', 'Ping frames sent (heartbeats included)'),
    pingsReceived: counter(registry, p, 'pings_received_total', 'Ping frames received'),
    pongsSent: counter(registry, p, 'pongs_sent_total', 'Pong frames sent (automatic answers included)'),
    pongsReceived: counter(registry, p, 'pongs_received_total', 'Pong frames received'),
    backpressureEvents: counter(
      registry,
      p,
      'backpressure_events_total',
      'Times a send buffer passed the high water mark',
    ),
    messagesDropped: counter(registry, p, 'messages_dropped_total', 'Messages dropped by backpressure'),
    heartbeatRtt: rtt,
    eventLoopLag: gauge(registry, p, 'event_loop_lag_seconds', 'Event-loop delay of the last load sample'),
    overloaded: gauge(registry, p, 'overloaded', '1 while the server refuses upgrades because of load'),
    connectionsShed: counter(registry, p, 'connections_shed_total', 'Idle connections closed with 1013'),
    closed(code: number, side: CloseSide): void {
      closes.inc({ code: String(code), side });
    },
    handshakeFailed(reason: HandshakeFailureReason, status: number): void {
      handshakeFailures.inc({ reason, status: String(status) });
    },
  };
}

/** The `metrics` option of servers: the prom-client registry to register on and the metric name prefix. */
export interface MetricsOptions {
  registry: Registry;
  /** Prefix of every metric name. Default `conduit_`. */
  prefix?: string;
}

/** Metrics already created per registry and prefix: servers sharing both share (and sum into) one set. */
const created = new WeakMap<Registry, Map<string, ServerMetrics>>();

/**
 * The metrics of a server. With a prom-client `registry`, registers the metrics named `<prefix>...` on it
 * (once per registry and prefix: a second call returns the same object, so that several servers sum into
 * one set); without one, returns a no-op implementation whose `enabled` is false.
 */
export function createServerMetrics(registry?: Registry, prefix = 'conduit_'): ServerMetrics {
  if (registry === undefined) return NOOP_SERVER_METRICS;
  let byPrefix = created.get(registry);
  if (byPrefix === undefined) {
    byPrefix = new Map();
    created.set(registry, byPrefix);
  }
  let metrics = byPrefix.get(prefix);
  if (metrics === undefined) {
    metrics = build(registry, prefix);
    byPrefix.set(prefix, metrics);
  }
  return metrics;
}
