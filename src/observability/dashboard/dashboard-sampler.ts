/**
 * The loop-side half every dashboard sampler shares: counters turned into per-second rates, the
 * process's memory, CPU and event-loop delay, the recent values of the charted stats, and the events'
 * baseline, all restarted when someone starts watching. Each server's sampler (`conduit serve`, the
 * gateway) extends it with what it reads and the sections it builds.
 * @module
 */
import type { CounterEvents } from './counter-events.js';
import type { DashboardSnapshot } from './dashboard-types.js';
import { PROCESS_CHARTED, ProcessSampler } from './process-sample.js';
import { CounterRates, type SampleValues, SeriesRecorder } from './series.js';
import type { SnapshotSource } from './snapshot-feed.js';

/** Produces one {@link DashboardSnapshot} per call to `sample` from what it reads in `Source`. */
export abstract class DashboardSamplerBase<Source> implements SnapshotSource {
  /** The recent values of the charted stats. */
  protected readonly series: SeriesRecorder;
  /** The per-second rates of the counters {@link measure} is given. */
  protected readonly rates = new CounterRates();
  /** The events of the "recent problems" section. */
  protected abstract readonly events: CounterEvents;
  /** Stats whose recent values are kept for a sparkline, besides the process's. */
  protected abstract readonly charted: readonly string[];
  private readonly process = new ProcessSampler();

  /**
   * @param source What to read.
   * @param intervalMs Time between samples (the sparklines' step).
   * @param points Values kept per sparkline (60 at one per second: the last minute).
   */
  constructor(
    protected readonly source: Source,
    readonly intervalMs = 1000,
    points = 60,
  ) {
    this.series = new SeriesRecorder(points);
  }

  /** Starts measuring event-loop delay; charts start empty (a gap in time must not look like a line). */
  start(): void {
    this.process.start();
    this.series.clear();
    this.rates.reset();
    this.events.rebase();
  }

  /** Stops measuring (nobody watches). */
  stop(): void {
    this.process.stop();
  }

  /** Reads everything once and returns the snapshot. */
  abstract sample(now?: number): Promise<DashboardSnapshot>;

  /**
   * Completes `values` at time `now` with the per-second rates of `counters` (by stat id) and this
   * process's numbers, and records the charted stats. Returns `values`.
   */
  protected measure(values: SampleValues, counters: ReadonlyMap<string, number>, now: number): SampleValues {
    for (const [id, rate] of this.rates.rates(counters, now)) values[id] = rate;
    this.process.sample(values, now);
    for (const id of [...this.charted, ...PROCESS_CHARTED]) this.series.record(id, values[id] ?? 0);
    return values;
  }
}
