/**
 * The server's load policy, run from one entry of the timer wheel: every sample interval it reads the
 * load (event-loop delay, heap), updates the lag gauge, and with `overload` configured decides whether the
 * server is overloaded — new upgrades then get 503 with `Retry-After` — and, with `shedIdle`, closes the
 * least recently active connections with 1013 (Try Again Later), a small batch per sample.
 * @module
 */
import type { Logger } from '../observability/logger.js';
import type { ServerMetrics } from '../observability/metric-types.js';
import {
  heapLimitBytes,
  isOverloaded,
  type LoadSample,
  type LoadSource,
  type OverloadThresholds,
  probeSource,
  sharedLoadMonitor,
} from '../observability/overload.js';
import { CloseCode, ReadyState } from '../protocol/constants.js';
import { type TimerWheel, UNSCHEDULED, type WheelEntry } from '../transport/timer-wheel.js';
import type { WebSocketConnection } from './connection.js';

/** The `overload` option of a server. Overload protection is off unless this option is given. */
export interface OverloadOptions {
  /** Overloaded while the event loop was blocked longer than this (ms) within a sample. Default 200. */
  maxEventLoopDelayMs?: number;
  /** Overloaded while the V8 heap in use exceeds this fraction (0–1) of its limit. Default: no limit. */
  maxHeapUsedRatio?: number;
  /** Overloaded while the V8 heap in use exceeds this many bytes. Default: no limit. */
  maxHeapBytes?: number;
  /** `Retry-After` of the 503 answered to upgrades while overloaded, in seconds. Default 5. */
  retryAfterSeconds?: number;
  /** While overloaded, close the least recently active connections with 1013. Default false. */
  shedIdle?: boolean;
  /** Connections closed per sample while shedding. Default 16. */
  shedBatch?: number;
  /** Time between load samples, in ms (rounded up to the timer wheel's 250 ms resolution). Default 500. */
  sampleIntervalMs?: number;
  /** @internal Replaces the measured load (tests, custom load signals). */
  probe?: () => LoadSample;
}

/** Resolved overload settings. */
export interface OverloadConfig {
  readonly thresholds: OverloadThresholds;
  readonly retryAfter: string;
  readonly shedIdle: boolean;
  readonly shedBatch: number;
  readonly sampleIntervalMs: number;
  readonly source: LoadSource;
}

/** Load is sampled this often when only metrics need it, in ms. */
export const DEFAULT_SAMPLE_INTERVAL_MS = 500;

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0))
    throw new RangeError(`overload.${name} must be a number > 0`);
  return value;
}

/** Validates the `overload` option; null when it is absent. Throws a RangeError for an invalid value. */
export function resolveOverloadOptions(options: OverloadOptions | undefined): OverloadConfig | null {
  if (options === undefined) return null;
  const source = options.probe ? probeSource(options.probe) : sharedLoadMonitor();
  let maxHeapBytes = positive('maxHeapBytes', options.maxHeapBytes, Number.POSITIVE_INFINITY);
  if (options.maxHeapUsedRatio !== undefined) {
    const ratio = positive('maxHeapUsedRatio', options.maxHeapUsedRatio, 1);
    if (ratio > 1) throw new RangeError('overload.maxHeapUsedRatio must not exceed 1');
    maxHeapBytes = Math.min(maxHeapBytes, ratio * heapLimitBytes());
  }
  const shedBatch = positive('shedBatch', options.shedBatch, 16);
  if (!Number.isInteger(shedBatch)) throw new RangeError('overload.shedBatch must be an integer');
  return {
    thresholds: {
      maxEventLoopDelayMs: positive('maxEventLoopDelayMs', options.maxEventLoopDelayMs, 200),
      maxHeapBytes,
    },
    retryAfter: String(Math.ceil(positive('retryAfterSeconds', options.retryAfterSeconds, 5))),
    shedIdle: options.shedIdle ?? false,
    shedBatch,
    sampleIntervalMs: positive('sampleIntervalMs', options.sampleIntervalMs, DEFAULT_SAMPLE_INTERVAL_MS),
    source,
  };
}

/** What the guard needs from its server. */
export interface GuardHost {
  readonly clients: ReadonlySet<WebSocketConnection>;
  /** The overload state changed (after the gauge and the log were updated). */
  overloadChanged(overloaded: boolean, sample: LoadSample): void;
}

/** Samples the load on the timer wheel and applies the overload policy. */
export class LoadGuard implements WheelEntry {
  /** True while upgrades are refused. */
  overloaded = false;
  wheelNext: WheelEntry | null = null;
  wheelPrev: WheelEntry | null = null;
  wheelSlot = UNSCHEDULED;
  wheelRounds = 0;
  /** The overload policy; null when only the lag gauge needs samples. */
  readonly config: OverloadConfig | null;
  private readonly host: GuardHost;
  private readonly metrics: ServerMetrics;
  private readonly logger: Logger | null;
  private readonly wheel: TimerWheel;
  private readonly source: LoadSource;
  private readonly interval: number;
  private running = false;

  constructor(
    host: GuardHost,
    config: OverloadConfig | null,
    metrics: ServerMetrics,
    logger: Logger | null,
    wheel: TimerWheel,
  ) {
    this.host = host;
    this.config = config;
    this.metrics = metrics;
    this.logger = logger;
    this.wheel = wheel;
    this.source = config?.source ?? sharedLoadMonitor();
    this.interval = config?.sampleIntervalMs ?? DEFAULT_SAMPLE_INTERVAL_MS;
  }

  /** Starts sampling. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.source.acquire();
    this.wheel.schedule(this, this.interval);
  }

  /** Stops sampling (the server is closing). */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.wheel.cancel(this);
    this.source.release();
  }

  /** @internal Timer wheel callback: one sample. */
  onTimeout(): void {
    const sample = this.source.sample(this.wheel.time(), this.interval / 2);
    this.metrics.eventLoopLag.set(sample.eventLoopDelayMs / 1000);
    const config = this.config;
    if (config !== null) {
      const overloaded = isOverloaded(sample, config.thresholds, this.overloaded);
      if (overloaded !== this.overloaded) this.changeState(overloaded, sample);
      if (overloaded && config.shedIdle) this.shed(config.shedBatch);
    }
    if (this.running) this.wheel.schedule(this, this.interval);
  }

  private changeState(overloaded: boolean, sample: LoadSample): void {
    this.overloaded = overloaded;
    this.metrics.overloaded.set(overloaded ? 1 : 0);
    const logger = this.logger;
    if (logger !== null) {
      const fields = {
        eventLoopDelayMs: Math.round(sample.eventLoopDelayMs),
        heapUsed: sample.heapUsedBytes,
      };
      if (overloaded) logger.warn(fields, 'server overloaded: refusing upgrades');
      else logger.info(fields, 'server load back to normal');
    }
    this.host.overloadChanged(overloaded, sample);
  }

  /** Closes up to `count` open connections, least recently active first, with 1013. */
  private shed(count: number): void {
    const victims = idlest(this.host.clients, count);
    for (const connection of victims) connection.close(CloseCode.TRY_AGAIN_LATER, 'server overloaded');
    if (victims.length === 0) return;
    this.metrics.connectionsShed.inc(victims.length);
    this.logger?.info({ count: victims.length }, 'shed idle connections with 1013');
  }
}

/**
 * The `count` open connections with the oldest `lastActivity`, oldest first: one pass over `clients`
 * keeping a small sorted list, O(n) when `count` is small.
 */
export function idlest(clients: Iterable<WebSocketConnection>, count: number): WebSocketConnection[] {
  const picked: WebSocketConnection[] = [];
  for (const client of clients) {
    if (client.readyState !== ReadyState.OPEN) continue;
    const activity = client.lastActivity;
    if (picked.length === count && activity >= picked[count - 1]!.lastActivity) continue;
    let i = picked.length === count ? count - 1 : picked.length;
    while (i > 0 && picked[i - 1]!.lastActivity > activity) {
      picked[i] = picked[i - 1]!;
      i--;
    }
    picked[i] = client;
  }
  return picked;
}
