/**
 * The Node side of the sparklines: recent values per stat, per-second rates from counters, and the
 * stat cards that carry both. A sampler records one value per stat per interval; the page draws the
 * series (sparkline.ts).
 * @module
 */
import type { DashboardStat, StatFormat } from './dashboard-types.js';

/** Numbers of one sample, by stat id. */
export type SampleValues = Record<string, number>;

/** Recent values by stat id, oldest first (a `Map` fits). */
export interface SeriesSource {
  get(id: string): readonly number[] | undefined;
}

/** The last `points` values of each stat. */
export class SeriesRecorder implements SeriesSource {
  private readonly series = new Map<string, number[]>();

  /** Keeps `points` values per stat (60 at one per second: the last minute). */
  constructor(private readonly points = 60) {}

  /** Appends `value` to the series of `id`, dropping the oldest beyond the limit. */
  record(id: string, value: number): void {
    let values = this.series.get(id);
    if (values === undefined) {
      values = [];
      this.series.set(id, values);
    }
    values.push(value);
    if (values.length > this.points) values.shift();
  }

  /** Forgets every series: after a pause, a gap in time must not be drawn as a line. */
  clear(): void {
    this.series.clear();
  }

  /** The recent values of `id`, oldest first; undefined before its first value. */
  get(id: string): readonly number[] | undefined {
    return this.series.get(id);
  }

  /** The series as a map (what section builders read). */
  asMap(): ReadonlyMap<string, readonly number[]> {
    return this.series;
  }
}

/** Turns monotonic counters into per-second rates between two readings. */
export class CounterRates {
  private previous: { time: number; counters: ReadonlyMap<string, number> } | null = null;

  /**
   * The per-second growth of each counter since the previous call, by id: 0 on the first call, for a
   * counter not seen before, and for one that went back (reset).
   */
  rates(counters: ReadonlyMap<string, number>, now: number): Map<string, number> {
    const previous = this.previous;
    const seconds = previous === null ? 0 : (now - previous.time) / 1000;
    const rates = new Map<string, number>();
    for (const [id, value] of counters) {
      const before = previous?.counters.get(id);
      rates.set(id, before === undefined || seconds <= 0 ? 0 : Math.max(0, (value - before) / seconds));
    }
    this.previous = { time: now, counters };
    return rates;
  }

  /** Forgets the previous reading (the next rates are 0). */
  reset(): void {
    this.previous = null;
  }
}

/**
 * A stat card of `values[id]` with its recent series (when `series` has one); `extra` overrides or
 * adds fields (health, hint, a text value).
 */
export function statOf(
  values: SampleValues,
  series: SeriesSource,
  spec: { id: string; label: string; format: StatFormat },
  extra: Partial<DashboardStat> = {},
): DashboardStat {
  const stat: DashboardStat = { ...spec, value: values[spec.id] ?? 0, ...extra };
  const recent = series.get(spec.id);
  if (recent !== undefined) stat.series = [...recent];
  return stat;
}
