/**
 * Reads metric values out of a prom-client registry for the dashboard. Going through the registry (rather
 * than the objects behind it) keeps the dashboard independent of who registered what: the server, the hub
 * and the engines all register there. Their collect callbacks report deltas, so an extra read between two
 * scrapes changes nothing a scrape sees.
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
 * Reads the current points of `names`. A metric that is not registered (a feature that is off) is
 * absent from the result; histograms are not read (their points are buckets, not values).
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
