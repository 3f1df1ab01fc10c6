/**
 * What every dashboard's events have in common: an {@link EventLog} fed from counter growth between two
 * readings, one event per labelled series that grew, and abnormal closes told apart from the ordinary
 * ones. Each server's events (`conduit serve`, the gateway) extend it with their own counters and words.
 * @module
 */
import { ORDINARY_CLOSE_CODES } from './close-codes.js';
import type { DashboardEvent } from './dashboard-types.js';
import { EventLog } from './event-log.js';
import type { MetricPoint, MetricReading } from './metric-reading.js';

/** Words for `count` points of growth of one series. */
export type DescribeGrowth = (count: number, point: MetricPoint) => string;

/** `count` and the noun that agrees with it (`1 connection`, `2 connections`). */
export function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}

/**
 * A key for one labelled series of `metric`, the same whatever order the labels came in (the
 * Prometheus text and prom-client need not list them alike).
 */
export function seriesKey(metric: string, point: MetricPoint): string {
  const labels = Object.keys(point.labels)
    .sort()
    .map((label) => `${label}=${point.labels[label]}`);
  return `${metric}{${labels.join(',')}}`;
}

/** Turns counter growth into events and keeps the last `limit` of them. */
export abstract class CounterEvents {
  /** The events, and the last value seen of every series. */
  protected readonly log: EventLog;

  /** Keeps the last `limit` events. */
  constructor(limit = 20) {
    this.log = new EventLog(limit);
  }

  /**
   * Starts a new baseline: the next reading records no event. The sampler calls it when it starts again
   * after nobody watched, so that what happened unwatched is not dated at the moment someone looked.
   */
  rebase(): void {
    this.log.rebase();
  }

  /** The recorded events, newest first. */
  list(): DashboardEvent[] {
    return this.log.list();
  }

  /** Records an event of `level` when the series of `point` grew since the previous reading. */
  protected grew(
    metric: string,
    point: MetricPoint,
    level: DashboardEvent['level'],
    time: number,
    describe: DescribeGrowth,
  ): void {
    const count = this.log.growth(seriesKey(metric, point), point.value);
    if (count > 0) this.log.push({ time, level, text: describe(count, point) });
  }

  /** {@link grew} for every point of `metric` in `reading` that `counts` (default: all). */
  protected grewEach(
    reading: MetricReading,
    metric: string,
    time: number,
    describe: DescribeGrowth,
    counts: (point: MetricPoint) => boolean = () => true,
  ): void {
    for (const point of reading.get(metric) ?? []) {
      if (counts(point)) this.grew(metric, point, 'warn', time, describe);
    }
  }

  /**
   * Events for the closes counted by `metric` (labelled by `code`) that are not part of a normal life;
   * 1011 (a server error) is an error, the rest warnings (RFC 6455 §7.4.1).
   */
  protected abnormalCloses(
    reading: MetricReading,
    metric: string,
    time: number,
    describe: DescribeGrowth,
  ): void {
    for (const point of reading.get(metric) ?? []) {
      const code = String(point.labels.code);
      if (ORDINARY_CLOSE_CODES.has(code)) continue;
      this.grew(metric, point, code === '1011' ? 'error' : 'warn', time, describe);
    }
  }
}
