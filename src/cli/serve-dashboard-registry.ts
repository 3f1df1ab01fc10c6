/**
 * Metric reading for `conduit serve`'s dashboard: the shared reader (observability/dashboard/
 * metric-reading.ts) that reads the points of a few metrics out of the prom-client registry, where the
 * server, the hub and the engines all register.
 * @module
 */
export {
  type MetricPoint,
  type MetricReading,
  readMetrics,
  total,
} from '../observability/dashboard/metric-reading.js';
