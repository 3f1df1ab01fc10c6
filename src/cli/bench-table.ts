/**
 * The final table `conduit bench` prints on stdout: the parameters on top, then one row per figure,
 * labelled in the words of the mode (echoes, deliveries, handshakes).
 * @module
 */
import type { BenchResult } from './bench-result.js';

/** A label and its value, as printed. */
export type Row = readonly [string, string];

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** `1234567` → `1,234,567`. */
export function formatCount(value: number): string {
  return integer.format(value);
}

/** A latency in ms, with a precision that suits its size. */
export function formatMs(value: number): string {
  return `${value.toFixed(value < 10 ? 3 : value < 1000 ? 2 : 0)} ms`;
}

/** `{ "1000": 4, "1006": 1 }` → `1000 ×4, 1006 ×1`; `none` when empty. */
function tally(entries: Record<string, number>): string {
  const parts = Object.entries(entries).map(([key, n]) => `${key} ×${n}`);
  return parts.length === 0 ? 'none' : parts.join(', ');
}

function countRows(result: BenchResult): Row[] {
  const { counts, rates } = result;
  switch (result.mode) {
    case 'echo':
      return [
        ['messages sent', formatCount(counts.sent)],
        ['echoes received', formatCount(counts.received)],
        ['in flight at the end', formatCount(counts.inFlight)],
        ['msgs/s', formatCount(rates.messagesPerSecond)],
        ['MB/s', rates.megabytesPerSecond.toFixed(2)],
      ];
    case 'subscribe':
      return [
        ['publications', formatCount(counts.published)],
        ['deliveries due', formatCount(counts.sent)],
        ['deliveries received', formatCount(counts.received)],
        ['deliveries missing', formatCount(counts.inFlight)],
        ['publications/s', rates.publicationsPerSecond.toFixed(1)],
        ['msgs/s (deliveries)', formatCount(rates.messagesPerSecond)],
        ['MB/s', rates.megabytesPerSecond.toFixed(2)],
      ];
    case 'connect':
      return [
        ['handshakes begun', formatCount(counts.sent)],
        ['handshakes completed', formatCount(counts.received)],
        ['handshakes failed', formatCount(counts.failed)],
        ['handshakes/s', rates.handshakesPerSecond.toFixed(1)],
      ];
  }
}

/** What the latency measures in each mode. */
const LATENCY_OF = { echo: 'round trip', subscribe: 'publish → delivery', connect: 'handshake' } as const;

/** The rows of the table, in order. */
export function resultRows(result: BenchResult): Row[] {
  const { latencyMs: latency, errors } = result;
  return [
    ['elapsed', `${result.elapsedSeconds.toFixed(3)} s`],
    ...countRows(result),
    ['latency', LATENCY_OF[result.mode]],
    ['  p50', formatMs(latency.p50)],
    ['  p90', formatMs(latency.p90)],
    ['  p99', formatMs(latency.p99)],
    ['  p99.9', formatMs(latency.p999)],
    ['  max', formatMs(latency.max)],
    ['errors', errors.total === 0 ? '0' : `${errors.total} (${tally(errors.byKind)})`],
    ['close codes', tally(result.closeCodes)],
  ];
}

/** One line describing the run's parameters. */
export function parameterLine(result: BenchResult): string {
  const p = result.parameters;
  const parts = [`${p.connections} ${result.mode === 'subscribe' ? 'subscribers' : 'connections'}`];
  if (result.mode !== 'connect') parts.push(`${p.size} B messages`);
  if (p.inFlight !== null) parts.push(`${p.inFlight} in flight each`);
  if (p.rate !== null) parts.push(`${p.rate} msgs/s`);
  if (p.topic !== null) parts.push(`topic ${p.topic}`);
  if (p.deflate) parts.push('permessage-deflate');
  parts.push(`${p.durationSeconds} s`);
  return parts.join(', ');
}

/** The whole table, ending with a newline. */
export function formatTable(result: BenchResult): string {
  const rows = resultRows(result);
  const labelWidth = Math.max(...rows.map(([label]) => label.length));
  const valueWidth = Math.max(...rows.map(([, value]) => value.length));
  const lines = rows.map(([label, value]) => `  ${label.padEnd(labelWidth)}  ${value.padStart(valueWidth)}`);
  const title = `conduit bench --mode ${result.mode} ${result.url}`;
  return `${title}\n  ${parameterLine(result)}\n\n${lines.join('\n')}\n`;
}
