/**
 * Reads metric points out of the Prometheus text exposition format (version 0.0.4): what a listener
 * that only has its `/metrics` text at hand (the gateway's admin listener) gives its dashboard. Only
 * the samples of the metrics asked for are parsed; comments, `HELP` and `TYPE` lines are skipped.
 * @module
 */
import type { MetricPoint, MetricReading } from './metric-reading.js';

/** A metric name at the start of a sample line. */
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
/** One `name="value"` pair of a label set and its comma; the value keeps its escapes. */
const LABEL_PAIR = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?/y;

/** A label value with its escapes (`\\`, `\"`, `\n`) resolved. */
function unescapeLabel(raw: string): string {
  return raw.replace(/\\(.)/g, (_, char: string) => (char === 'n' ? '\n' : char));
}

/** A sample value: a Go-style float, `+Inf`, `-Inf` or `NaN`. */
function parseValue(token: string | undefined): number {
  if (token === '+Inf') return Number.POSITIVE_INFINITY;
  if (token === '-Inf') return Number.NEGATIVE_INFINITY;
  return token === undefined || token === '' ? Number.NaN : Number(token);
}

/** The label set starting at `line[start]` (`{`) and the index after its `}`; null when malformed. */
function parseLabels(line: string, start: number): { labels: Record<string, string>; end: number } | null {
  const labels: Record<string, string> = {};
  let index = start + 1;
  for (;;) {
    while (line[index] === ' ' || line[index] === '\t') index++;
    if (line[index] === '}') return { labels, end: index + 1 };
    LABEL_PAIR.lastIndex = index;
    const pair = LABEL_PAIR.exec(line);
    if (pair === null) return null;
    labels[pair[1]!] = unescapeLabel(pair[2]!);
    index = LABEL_PAIR.lastIndex;
  }
}

/** The name and point of one sample line, or null for a malformed line. */
function parseSample(line: string, name: string): MetricPoint | null {
  let labels: Record<string, string> = {};
  let rest = name.length;
  if (line[rest] === '{') {
    const parsed = parseLabels(line, rest);
    if (parsed === null) return null;
    labels = parsed.labels;
    rest = parsed.end;
  }
  // What follows is the value and, optionally, a timestamp.
  const value = parseValue(line.slice(rest).trim().split(/\s+/)[0]);
  return Number.isNaN(value) ? null : { labels, value };
}

/**
 * The points of the metrics `names` found in the exposition `text`. A metric without samples is absent
 * from the result; malformed lines and NaN values are skipped. Histograms and summaries are read by their sample
 * names (`<name>_bucket`, `<name>_sum`, `<name>_count`).
 */
export function parsePrometheusText(text: string, names: Iterable<string>): MetricReading {
  const wanted = new Set(names);
  const reading = new Map<string, MetricPoint[]>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const name = METRIC_NAME.exec(line)?.[0];
    if (name === undefined || !wanted.has(name)) continue;
    const point = parseSample(line, name);
    if (point === null) continue;
    const points = reading.get(name);
    if (points === undefined) reading.set(name, [point]);
    else points.push(point);
  }
  return reading;
}
