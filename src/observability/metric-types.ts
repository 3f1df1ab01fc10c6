/**
 * The metric shapes the Node layers count with, independent of prom-client: counters, gauges and
 * histograms with the methods the layers call, the plain-number tallies behind the hot-path counters, and
 * the no-op implementation used when metrics are off.
 * @module
 */

/** A monotonically increasing count. */
export interface CounterLike {
  inc(amount?: number): void;
}

/** A value that goes up and down. */
export interface GaugeLike extends CounterLike {
  dec(amount?: number): void;
  set(value: number): void;
}

/** A distribution of observed values. */
export interface HistogramLike {
  observe(value: number): void;
}

/** Which end started the closing of a connection. */
export type CloseSide = 'local' | 'remote';

/**
 * Why an opening handshake failed (the `reason` label of the handshake failure counter):
 * `bad_request` (malformed head or handshake fields, 400/405), `header_too_large` (431), `version` (426,
 * unsupported Sec-WebSocket-Version), `not_websocket` (426, no `Upgrade: websocket`), `not_found` (404,
 * `path`), `rejected_by_hook` (`verifyClient`/`upgrade` refused), `hook_error` (a hook threw, 500),
 * `max_connections` (503), `max_per_ip` (429), `overload` (503 while overloaded), `shutting_down` (503),
 * `timeout` (no complete handshake within `handshakeTimeout`), `aborted` (the client went away).
 */
export type HandshakeFailureReason =
  | 'bad_request'
  | 'header_too_large'
  | 'version'
  | 'not_websocket'
  | 'not_found'
  | 'rejected_by_hook'
  | 'hook_error'
  | 'max_connections'
  | 'max_per_ip'
  | 'overload'
  | 'shutting_down'
  | 'timeout'
  | 'aborted';

/**
 * What a transport counts; every member is called on the hot path or once per connection. Transports hold
 * `null` instead when metrics are off, so that counting then costs one comparison.
 */
export interface TransportMetrics {
  /** WebSocket bytes read from the socket (frames, after the handshake; TLS overhead excluded). */
  readonly bytesReceived: CounterLike;
  /** WebSocket bytes handed to the socket. */
  readonly bytesSent: CounterLike;
  readonly textMessagesReceived: CounterLike;
  readonly binaryMessagesReceived: CounterLike;
  readonly textMessagesSent: CounterLike;
  readonly binaryMessagesSent: CounterLike;
  readonly pingsSent: CounterLike;
  readonly pingsReceived: CounterLike;
  readonly pongsSent: CounterLike;
  readonly pongsReceived: CounterLike;
  /** Times the send buffer passed the high water mark (reading from the peer pauses). */
  readonly backpressureEvents: CounterLike;
  /** Messages discarded by the `drop` backpressure policy. */
  readonly messagesDropped: CounterLike;
  /** Heartbeat round-trip times, in seconds. */
  readonly heartbeatRtt: HistogramLike;
  /** A connection ended with `code` (as reported to the application); `side` started the closing. */
  closed(code: number, side: CloseSide): void;
}

/** What a server counts, besides its transports' metrics. */
export interface ServerMetrics extends TransportMetrics {
  /** False for the no-op implementation: servers then give their transports no metrics at all. */
  readonly enabled: boolean;
  readonly connectionsOpen: GaugeLike;
  readonly connectionsTotal: CounterLike;
  /** Event-loop delay of the last sample, in seconds. */
  readonly eventLoopLag: GaugeLike;
  /** 1 while the server is overloaded, else 0. */
  readonly overloaded: GaugeLike;
  /** Connections closed with 1013 to shed load. */
  readonly connectionsShed: CounterLike;
  /** An opening handshake failed; `status` is the HTTP status sent (0 when none was). */
  handshakeFailed(reason: HandshakeFailureReason, status: number): void;
}

/**
 * A counter kept as a plain number, read by the registry when it is scraped: an increment costs a few
 * nanoseconds (prom-client's own `inc` costs 15–130 ns), and nothing is flushed on a timer.
 */
export class Tally implements GaugeLike {
  value = 0;

  inc(amount = 1): void {
    this.value += amount;
  }

  dec(amount = 1): void {
    this.value -= amount;
  }

  set(value: number): void {
    this.value = value;
  }
}

function noop(): void {}

const NOOP_GAUGE: GaugeLike = { inc: noop, dec: noop, set: noop };
const NOOP_HISTOGRAM: HistogramLike = { observe: noop };

/** Metrics that count nothing (`enabled` is false). */
export const NOOP_SERVER_METRICS: ServerMetrics = Object.freeze({
  enabled: false,
  bytesReceived: NOOP_GAUGE,
  bytesSent: NOOP_GAUGE,
  textMessagesReceived: NOOP_GAUGE,
  binaryMessagesReceived: NOOP_GAUGE,
  textMessagesSent: NOOP_GAUGE,
  binaryMessagesSent: NOOP_GAUGE,
  pingsSent: NOOP_GAUGE,
  pingsReceived: NOOP_GAUGE,
  pongsSent: NOOP_GAUGE,
  pongsReceived: NOOP_GAUGE,
  backpressureEvents: NOOP_GAUGE,
  messagesDropped: NOOP_GAUGE,
  heartbeatRtt: NOOP_HISTOGRAM,
  closed: noop,
  connectionsOpen: NOOP_GAUGE,
  connectionsTotal: NOOP_GAUGE,
  eventLoopLag: NOOP_GAUGE,
  overloaded: NOOP_GAUGE,
  connectionsShed: NOOP_GAUGE,
  handshakeFailed: noop,
});
