/**
 * Helpers of the observability tests: reading one value from a prom-client registry, and an in-memory
 * logger implementing the pino interface (levels, child bindings, isLevelEnabled).
 */
import type { Registry } from 'prom-client';
import type { Logger, LogLevel } from '../../src/observability/logger.js';

/**
 * The value of metric `name` whose labels include `labels` (histograms: pass the sample name, e.g.
 * `x_seconds_count`, as `sample`). Undefined when there is no such series.
 */
export async function metricValue(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
  sample = name,
): Promise<number | undefined> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  const found = values.find(
    (v) =>
      ((v as { metricName?: string }).metricName ?? name) === sample &&
      Object.entries(labels).every(([key, value]) => String(v.labels[key]) === value),
  );
  return found?.value;
}

/** One line written to a {@link memoryLogger}. */
export interface LogLine {
  level: LogLevel;
  bindings: Record<string, unknown>;
  fields: Record<string, unknown>;
  msg: string | undefined;
}

const ORDER: Record<LogLevel, number> = { debug: 20, info: 30, warn: 40, error: 50 };

/** A pino-like logger that records lines (with the bindings of its child) in memory. */
export function memoryLogger(level: LogLevel = 'debug'): {
  logger: Logger;
  lines: LogLine[];
  children: Record<string, unknown>[];
} {
  const lines: LogLine[] = [];
  const children: Record<string, unknown>[] = [];
  const make = (bindings: Record<string, unknown>): Logger => {
    const at =
      (lineLevel: LogLevel) =>
      (first: object | string, msg?: string): void => {
        if (ORDER[lineLevel] < ORDER[level]) return;
        if (typeof first === 'string') lines.push({ level: lineLevel, bindings, fields: {}, msg: first });
        else lines.push({ level: lineLevel, bindings, fields: { ...first }, msg });
      };
    return {
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
      child(extra) {
        children.push(extra);
        return make({ ...bindings, ...extra });
      },
      isLevelEnabled: (asked: string) => ORDER[asked as LogLevel] >= ORDER[level],
    };
  };
  return { logger: make({}), lines, children };
}

/** Polls `read` until it returns `expected` (or `ms` pass); returns the last value read. */
export async function eventually<T>(read: () => Promise<T> | T, expected: T, ms = 2000): Promise<T> {
  const deadline = Date.now() + ms;
  let value = await read();
  while (value !== expected && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    value = await read();
  }
  return value;
}
