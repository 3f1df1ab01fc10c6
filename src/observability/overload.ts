/**
 * Load measurement behind overload protection and the event-loop lag gauge: event-loop delay (the largest
 * delay since the previous sample) and V8 heap use, sampled at most once per interval, plus the threshold
 * test. The policy (refusing upgrades, shedding
 * connections) belongs to the server.
 * @module
 */
import { performance } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';

/** One load sample. */
export interface LoadSample {
  /** Largest event-loop delay seen since the previous sample, in ms (0 when none was measured). */
  eventLoopDelayMs: number;
  /** `process.memoryUsage().heapUsed`. */
  heapUsedBytes: number;
  /** V8's heap size limit (`--max-old-space-size`), for ratio thresholds. */
  heapLimitBytes: number;
}

/** Where load samples come from: the {@link LoadMonitor}, or an injected probe (tests, custom signals). */
export interface LoadSource {
  /** Starts measuring (reference counted: several servers may share one source). */
  acquire(): void;
  /** Stops measuring once every user released it. */
  release(): void;
  /** A fresh sample, or the previous one when it is younger than `maxAgeMs` (clock in ms). */
  sample(now: number, maxAgeMs: number): LoadSample;
}

/** Thresholds of overload; `Infinity` disables one. */
export interface OverloadThresholds {
  readonly maxEventLoopDelayMs: number;
  readonly maxHeapBytes: number;
}

/**
 * The fraction of a threshold a sample must fall below to end an overload: without this margin a server
 * hovering at the threshold would flap between refusing and accepting on every sample.
 */
export const RECOVERY_RATIO = 0.9;

/** True when `sample` means overload, given whether the previous state was overloaded. */
export function isOverloaded(
  sample: LoadSample,
  thresholds: OverloadThresholds,
  wasOverloaded: boolean,
): boolean {
  const factor = wasOverloaded ? RECOVERY_RATIO : 1;
  return (
    sample.eventLoopDelayMs > thresholds.maxEventLoopDelayMs * factor ||
    sample.heapUsedBytes > thresholds.maxHeapBytes * factor
  );
}

/** V8's heap size limit, in bytes. */
export function heapLimitBytes(): number {
  return getHeapStatistics().heap_size_limit;
}

/**
 * Measures event-loop delay and heap use for the whole process. The delay is the lateness of a short
 * unref'd interval timer, kept as a running maximum that each sample takes and clears.
 *
 * Why not `perf_hooks.monitorEventLoopDelay`: clearing its histogram between samples (`reset()`) also
 * forgets the timestamp of its last run, so a block that starts in the same loop iteration as the sample
 * is never recorded (the server's sampler and application timers share the timers phase). Clearing a plain
 * maximum has no such gap.
 */
export class LoadMonitor implements LoadSource {
  /** Period of the probe timer, in ms: lateness shorter than the timer's own jitter (~1 ms) is noise. */
  readonly resolutionMs: number;
  private timer: ReturnType<typeof setInterval> | null = null;
  private users = 0;
  /** When the probe timer last ran (or the last sample was taken). */
  private lastTick = 0;
  /** Largest lateness since the previous sample, in ms. */
  private maxDelay = 0;
  private sampledAt = Number.NEGATIVE_INFINITY;
  private last: LoadSample;
  private readonly onTick = (): void => {
    const now = performance.now();
    const late = now - this.lastTick - this.resolutionMs;
    if (late > this.maxDelay) this.maxDelay = late;
    this.lastTick = now;
  };

  constructor(resolutionMs = 20) {
    this.resolutionMs = resolutionMs;
    this.last = { eventLoopDelayMs: 0, heapUsedBytes: 0, heapLimitBytes: heapLimitBytes() };
  }

  acquire(): void {
    this.users++;
    if (this.timer !== null) return;
    this.lastTick = performance.now();
    this.maxDelay = 0;
    this.timer = setInterval(this.onTick, this.resolutionMs);
    this.timer.unref();
  }

  release(): void {
    if (this.users === 0) return;
    this.users--;
    if (this.users > 0 || this.timer === null) return;
    clearInterval(this.timer);
    this.timer = null;
  }

  sample(now: number, maxAgeMs: number): LoadSample {
    if (now - this.sampledAt < maxAgeMs) return this.last;
    this.sampledAt = now;
    let delayMs = 0;
    if (this.timer !== null) {
      // A block that ended just before this sample, before the probe timer could run, counts now.
      const clock = performance.now();
      delayMs = Math.max(0, this.maxDelay, clock - this.lastTick - this.resolutionMs);
      this.maxDelay = 0;
      this.lastTick = clock;
    }
    this.last = {
      eventLoopDelayMs: delayMs,
      heapUsedBytes: process.memoryUsage().heapUsed,
      heapLimitBytes: this.last.heapLimitBytes,
    };
    return this.last;
  }
}

/** A {@link LoadSource} that asks `probe` for every sample. */
export function probeSource(probe: () => LoadSample): LoadSource {
  return {
    acquire() {},
    release() {},
    sample: () => probe(),
  };
}

let shared: LoadMonitor | null = null;

/** The process-wide {@link LoadMonitor} (event-loop delay and heap are process-wide). */
export function sharedLoadMonitor(): LoadMonitor {
  shared ??= new LoadMonitor();
  return shared;
}
