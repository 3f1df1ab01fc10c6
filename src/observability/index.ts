/**
 * Conduit's observability layer: the metrics facade over prom-client, the pino-compatible logger
 * interface, connection ids and load measurement. Used by every layer above the protocol.
 * @module
 */

export { formatConnectionId, nextConnectionSeq } from './ids.js';
export type { LogFn, Logger, LogLevel } from './logger.js';
export { activeLogger, logsAt, silentLogger } from './logger.js';
export type {
  CloseSide,
  CounterLike,
  GaugeLike,
  HandshakeFailureReason,
  HistogramLike,
  ServerMetrics,
  TransportMetrics,
} from './metric-types.js';
export { NOOP_SERVER_METRICS, Tally } from './metric-types.js';
export type { LoadSample, LoadSource, OverloadThresholds } from './overload.js';
export {
  heapLimitBytes,
  isOverloaded,
  LoadMonitor,
  probeSource,
  RECOVERY_RATIO,
  sharedLoadMonitor,
} from './overload.js';
export type { MetricsOptions } from './server-metrics.js';
export { createServerMetrics, RTT_BUCKETS } from './server-metrics.js';
