/**
 * Progress of a `conduit bench` run on stderr, so that stdout keeps only the results: on a terminal one
 * line redrawn in place (a bar, the counters, the current rate); elsewhere (CI logs, files) a plain line
 * every second.
 * @module
 */
import type { BenchStats } from './bench-stats.js';
import { formatCount } from './bench-table.js';

/** Redraw period on a terminal, and line period elsewhere, in ms. */
const TTY_INTERVAL_MS = 200;
const PLAIN_INTERVAL_MS = 1000;
const BAR_WIDTH = 20;

/** The text of one progress report. */
export function progressText(stats: BenchStats, durationMs: number, ratePerSecond: number): string {
  const elapsed = stats.elapsedSeconds();
  const total = durationMs / 1000;
  return [
    `${elapsed.toFixed(1)}/${total} s`,
    `sent ${formatCount(stats.sent)}`,
    `received ${formatCount(stats.received)}`,
    `${formatCount(ratePerSecond)}/s`,
    `errors ${stats.errorCount}`,
  ].join('  ');
}

function bar(fraction: number): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * BAR_WIDTH);
  return `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`;
}

/**
 * Reports progress on `stream` until the returned function is called (which erases the redrawn line on
 * a terminal).
 */
export function startProgress(stats: BenchStats, durationMs: number, stream: NodeJS.WriteStream): () => void {
  const tty = stream.isTTY === true;
  let lastReceived = stats.received;
  let lastAt = performance.now();
  const report = (): void => {
    const now = performance.now();
    const rate = ((stats.received - lastReceived) * 1000) / Math.max(1, now - lastAt);
    lastReceived = stats.received;
    lastAt = now;
    const text = progressText(stats, durationMs, rate);
    if (!tty) return void stream.write(`bench: ${text}\n`);
    const fraction = (stats.elapsedSeconds() * 1000) / durationMs;
    // Clip to the terminal width: a wrapped line could not be redrawn in place.
    const line = `${bar(fraction)} ${text}`.slice(0, Math.max(10, (stream.columns || 80) - 1));
    stream.write(`\r\x1b[2K${line}`);
  };
  const timer = setInterval(report, tty ? TTY_INTERVAL_MS : PLAIN_INTERVAL_MS);
  return () => {
    clearInterval(timer);
    if (tty) stream.write('\r\x1b[2K');
  };
}
