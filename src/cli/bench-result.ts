/**
 * The results of a `conduit bench` run as one plain object: what `--json` prints, and what the table
 * and the HTML report are made from.
 * @module
 */
import type { BenchMode, BenchOptions } from './bench-args.js';
import type { BenchStats } from './bench-stats.js';

/** Latency statistics in milliseconds. */
export interface LatencyMs {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/** One non-empty histogram bucket: latencies from `fromUs` to `toUs` microseconds (inclusive). */
export interface ResultBucket {
  fromUs: number;
  toUs: number;
  count: number;
}

/** Everything a run measured, with the parameters it ran with. */
export interface BenchResult {
  mode: BenchMode;
  url: string;
  /** When the measured phase started (ISO 8601). */
  startedAt: string;
  parameters: {
    connections: number;
    durationSeconds: number;
    size: number;
    inFlight: number | null;
    rate: number | null;
    topic: string | null;
    deflate: boolean;
  };
  /** Length of the measured phase, until the last answer of the messages in flight at the end. */
  elapsedSeconds: number;
  /** sent = received + inFlight (+ failed in connect mode). */
  counts: { sent: number; received: number; inFlight: number; published: number; failed: number };
  rates: {
    /** Echoes (echo) or deliveries (subscribe) received per second; 0 in connect mode. */
    messagesPerSecond: number;
    /** Payload megabytes (10^6 bytes) received per second. */
    megabytesPerSecond: number;
    /** Publications per second (subscribe), handshakes per second (connect); else 0. */
    publicationsPerSecond: number;
    handshakesPerSecond: number;
  };
  /** Round trip (echo), publish → delivery (subscribe) or handshake time (connect). */
  latencyMs: LatencyMs;
  errors: { total: number; byKind: Record<string, number> };
  /** How many connections ended with each close code. */
  closeCodes: Record<string, number>;
  histogram: ResultBucket[];
}

const round = (value: number, digits: number): number => Number(value.toFixed(digits));
const ms = (micros: number): number => round(micros / 1000, 3);

function latencyMs(stats: BenchStats): LatencyMs {
  const s = stats.latency.summary();
  return {
    count: s.count,
    min: ms(s.min),
    mean: ms(s.mean),
    p50: ms(s.p50),
    p90: ms(s.p90),
    p99: ms(s.p99),
    p999: ms(s.p999),
    max: ms(s.max),
  };
}

function rates(mode: BenchMode, stats: BenchStats, seconds: number): BenchResult['rates'] {
  const per = (n: number): number => (seconds > 0 ? n / seconds : 0);
  return {
    messagesPerSecond: mode === 'connect' ? 0 : Math.round(per(stats.received)),
    megabytesPerSecond: round(per(stats.bytesReceived) / 1e6, 3),
    publicationsPerSecond: mode === 'subscribe' ? round(per(stats.published), 1) : 0,
    handshakesPerSecond: mode === 'connect' ? round(per(stats.received), 1) : 0,
  };
}

/** The result of a finished run. */
export function benchResult(options: BenchOptions, stats: BenchStats, startedAt: Date): BenchResult {
  const seconds = stats.elapsedSeconds();
  const { mode } = options;
  return {
    mode,
    url: options.url,
    startedAt: startedAt.toISOString(),
    parameters: {
      connections: options.connections,
      durationSeconds: options.durationMs / 1000,
      size: options.size,
      inFlight: mode === 'echo' ? options.inFlight : null,
      rate: options.rate ?? null,
      topic: mode === 'subscribe' ? options.topic : null,
      deflate: options.deflate,
    },
    elapsedSeconds: round(seconds, 3),
    counts: {
      sent: stats.sent,
      received: stats.received,
      inFlight: stats.inFlight,
      published: stats.published,
      failed: stats.failed,
    },
    rates: rates(mode, stats, seconds),
    latencyMs: latencyMs(stats),
    errors: { total: stats.errorCount, byKind: Object.fromEntries(stats.errors) },
    closeCodes: Object.fromEntries([...stats.closeCodes].sort(([a], [b]) => a - b)),
    histogram: stats.latency.buckets().map((b) => ({ fromUs: b.from, toUs: b.to, count: b.count })),
  };
}
