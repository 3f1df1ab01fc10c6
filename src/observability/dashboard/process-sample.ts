/**
 * The process numbers of a dashboard: memory, CPU and event-loop delay, sampled once per interval while
 * someone watches. The event-loop probe runs only between {@link ProcessSampler.start} and `stop`: an
 * unwatched process pays nothing for it.
 * @module
 */
import { LoadMonitor } from '../overload.js';
import type { DashboardStat, StatsSection } from './dashboard-types.js';
import type { SampleValues, SeriesSource } from './series.js';
import { statOf } from './series.js';

/** Event-loop delay above which the stat turns amber, then red, in ms. */
const DELAY_WARN_MS = 50;
const DELAY_BAD_MS = 250;

/** The stat ids {@link ProcessSampler.sample} fills in, and which of them are charted. */
export const PROCESS_CHARTED: readonly string[] = ['rss', 'heapUsed', 'eventLoopDelay', 'cpu'];

/** Samples this process: `rss`, `heapUsed` (bytes), `eventLoopDelay` (ms), `cpu` (%), `uptime` (s). */
export class ProcessSampler {
  private readonly load = new LoadMonitor();
  private previous: { time: number; cpu: NodeJS.CpuUsage } | null = null;
  private running = false;

  /** Starts measuring event-loop delay; the next CPU figure is 0 (there is no interval yet). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.load.acquire();
    this.previous = null;
  }

  /** Stops measuring. */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.load.release();
  }

  /** Adds this process's numbers at time `now` (ms) to `values`. */
  sample(values: SampleValues, now: number): void {
    const cpu = process.cpuUsage();
    const previous = this.previous;
    const seconds = previous === null ? 0 : (now - previous.time) / 1000;
    if (previous !== null && seconds > 0) {
      const usedMicros = cpu.user - previous.cpu.user + (cpu.system - previous.cpu.system);
      values.cpu = (usedMicros / 1e6 / seconds) * 100;
    } else values.cpu = 0;
    const memory = process.memoryUsage();
    values.rss = memory.rss;
    values.heapUsed = memory.heapUsed;
    values.eventLoopDelay = this.load.sample(now, 0).eventLoopDelayMs;
    values.uptime = process.uptime();
    this.previous = { time: now, cpu };
  }
}

function delayHealth(ms: number): DashboardStat['health'] {
  if (ms >= DELAY_BAD_MS) return 'bad';
  return ms >= DELAY_WARN_MS ? 'warn' : 'ok';
}

/** The `process` section of a snapshot, from the values {@link ProcessSampler.sample} filled in. */
export function processSection(values: SampleValues, series: SeriesSource): StatsSection {
  const delay = values.eventLoopDelay ?? 0;
  return {
    kind: 'stats',
    id: 'process',
    title: 'Process',
    stats: [
      statOf(values, series, { id: 'rss', label: 'Memory (RSS)', format: 'bytes' }),
      statOf(values, series, { id: 'heapUsed', label: 'Heap used', format: 'bytes' }),
      statOf(
        values,
        series,
        { id: 'eventLoopDelay', label: 'Event-loop delay', format: 'ms' },
        { health: delayHealth(delay), hint: 'largest in the interval' },
      ),
      statOf(values, series, { id: 'cpu', label: 'CPU', format: 'percent' }, { hint: '100% is one core' }),
    ],
  };
}
