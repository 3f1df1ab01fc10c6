/**
 * Building blocks of the sections every dashboard shows in its own words (`conduit serve`, the gateway):
 * stat cards read out of a sample, the close-code table, tables of refusals by count, the recent
 * problems, and the snapshot's frame (title, process line). Pure functions from numbers to the
 * {@link DashboardSnapshot} shape; which sections a server shows stays with that server.
 * @module
 */
import { closeMeaning } from './close-codes.js';
import type {
  DashboardEvent,
  DashboardSection,
  DashboardSnapshot,
  DashboardStat,
  EventsSection,
  StatFormat,
} from './dashboard-types.js';
import { formatUptime } from './format.js';
import type { MetricPoint } from './metric-reading.js';
import { type SampleValues, type SeriesSource, statOf } from './series.js';

/** One sample's numbers by stat id, and their recent values. */
export interface SampleSeries {
  values: SampleValues;
  series: SeriesSource;
}

/** A table row: text cells and number cells (the page right-aligns and formats the numbers). */
export type TableRow = (string | number)[];

/** The stat card of `sample.values[id]` with its sparkline series; `extra` overrides or adds fields. */
export function sampleStat(
  sample: SampleSeries,
  id: string,
  label: string,
  format: StatFormat,
  extra: Partial<DashboardStat> = {},
): DashboardStat {
  return statOf(sample.values, sample.series, { id, label, format }, extra);
}

/**
 * The rows of a close-code table, `[code, meaning, first side, other side]`, from the points of a
 * counter labelled by `code` and by side (`isFirstSide` says which): summed by code, codes that counted
 * nothing left out, lowest code first.
 */
export function closeCodeRows(
  points: readonly MetricPoint[] | undefined,
  isFirstSide: (point: MetricPoint) => boolean,
): TableRow[] {
  const byCode = new Map<string, [first: number, other: number]>();
  for (const point of points ?? []) {
    const code = String(point.labels.code);
    const counts = byCode.get(code) ?? [0, 0];
    counts[isFirstSide(point) ? 0 : 1] += point.value;
    byCode.set(code, counts);
  }
  return [...byCode]
    .filter(([, [first, other]]) => first + other > 0)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([code, [first, other]]) => [code, closeMeaning(code), first, other]);
}

/**
 * One row per point of a counter that counted something and that `keep` keeps: its `cells`, then its
 * count; the largest count first (what was refused most is what to look at).
 */
export function countedRows(
  points: readonly MetricPoint[] | undefined,
  cells: (point: MetricPoint) => TableRow,
  keep: (point: MetricPoint) => boolean = () => true,
): TableRow[] {
  return (points ?? [])
    .filter((point) => point.value > 0 && keep(point))
    .map((point) => [...cells(point), point.value])
    .sort((a, b) => Number(b.at(-1)) - Number(a.at(-1)));
}

/** The events section every dashboard ends with: what went wrong while someone watched. */
export function problemsSection(title: string, note: string, events: DashboardEvent[]): EventsSection {
  return {
    kind: 'events',
    id: 'problems',
    title,
    note,
    events,
    empty: 'Nothing went wrong while you watched.',
  };
}

/** A sample as a snapshot's frame reads it: its values (`uptime`, in seconds) and when it was taken. */
export interface SampleTime {
  values: SampleValues;
  /** Milliseconds since the Unix epoch. */
  time: number;
  /** Time between samples, in ms. */
  intervalMs: number;
}

/**
 * The snapshot of `sections` taken at `sample`, titled `title`, its subtitle this process's pid,
 * `detail` (what runs: `memory engine`, a configuration file), its uptime and Node version.
 */
export function frameSnapshot(
  sample: SampleTime,
  title: string,
  detail: string,
  sections: DashboardSection[],
): DashboardSnapshot {
  const uptime = formatUptime(sample.values.uptime ?? 0);
  return {
    version: 1,
    title,
    subtitle: `pid ${process.pid} · ${detail} · up ${uptime} · Node ${process.version}`,
    time: sample.time,
    intervalMs: sample.intervalMs,
    sections,
  };
}
