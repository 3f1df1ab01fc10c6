/**
 * Metric values as the dashboards read them: the points of a few metrics, by name. `conduit serve`
 * reads them out of its prom-client registry (every layer registers there, so the dashboard needs no
 * knowledge of who registered what); the gateway's admin listener parses its own exposition text (see
 * prometheus-text.ts). Collect callbacks report deltas or replace their series, so an extra read
 * between two scrapes changes nothing a scrape sees.
 * @module
 */
import type { Registry } from 'prom-client';

/** One labelled value of a metric. */
export interface MetricPoint {
  labels: Readonly<Record<string, string | number>>;
  value: number;
}

/** The points of each metric read, by name. */
export type MetricReading = ReadonlyMap<string, readonly MetricPoint[]>;

/**
 * Reads the current points of `names` from `registry`. A metric that is not registered (a feature that
 * is off) is absent from the result; histograms are not read (their points are buckets, not values).
 */
export async function readMetrics(registry: Registry, names: readonly string[]): Promise<MetricReading> {
  const reading = new Map<string, MetricPoint[]>();
  await Promise.all(
    names.map(async (name) => {
      const metric = registry.getSingleMetric(name);
      if (metric === undefined) return;
      const { values } = await metric.get();
      reading.set(
        name,
        values.map(({ labels, value }) => ({ labels: labels as MetricPoint['labels'], value })),
      );
    }),
  );
  return reading;
}

/** The sum of a metric's points (0 when it was not read). */
export function total(reading: MetricReading, name: string): number {
  let sum = 0;
  for (const point of reading.get(name) ?? []) sum += point.value;
  return sum;
}

/**
 * The sums of a metric's points grouped by the value of `label` (`direction` → messages each way...).
 * Points without the label are left out.
 */
export function totalsBy(reading: MetricReading, name: string, label: string): Map<string, number> {
  const sums = new Map<string, number>();
  for (const point of reading.get(name) ?? []) {
    const key = point.labels[label];
    if (key === undefined) continue;
    sums.set(String(key), (sums.get(String(key)) ?? 0) + point.value);
  }
  return sums;
}
