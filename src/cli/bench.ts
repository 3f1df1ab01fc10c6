/**
 * `conduit bench URL`: a load generator for users — echo round trips, hub fan-out or handshakes per
 * second against a running server, with a progress line, a results table (or JSON) and an HTML report.
 * @module
 */
import { CliError } from './args.js';
import { BENCH_USAGE, type BenchOptions, parseBenchArgs } from './bench-args.js';
import { connectDriver } from './bench-connect.js';
import type { BenchDriver } from './bench-driver.js';
import { echoDriver } from './bench-echo.js';
import { startProgress } from './bench-progress.js';
import { writeReport } from './bench-report.js';
import { type BenchResult, benchResult } from './bench-result.js';
import { type BenchTarget, OpenError } from './bench-sockets.js';
import { BenchStats } from './bench-stats.js';
import { subscribeDriver } from './bench-subscribe.js';
import { formatTable } from './bench-table.js';
import { clientOptions } from './connect-options.js';

export { BENCH_USAGE, type BenchOptions, parseBenchArgs } from './bench-args.js';
export type { BenchResult } from './bench-result.js';

/** How long the messages in flight at the end may take to come back, in ms. */
const SETTLE_MS = 5000;

function driverFor(options: BenchOptions, stats: BenchStats, target: BenchTarget): BenchDriver {
  if (options.mode === 'subscribe') return subscribeDriver(options, stats, target);
  if (options.mode === 'connect') return connectDriver(options, stats, target);
  return echoDriver(options, stats, target);
}

/** Resolves after `ms`, or at the first SIGINT (the run then stops early and still reports). */
function measuredPhase(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      process.off('SIGINT', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    process.on('SIGINT', done);
  });
}

/**
 * Runs the benchmark and resolves with its result; rejects with an {@link OpenError} when the
 * connections cannot be opened.
 */
export async function runBench(options: BenchOptions): Promise<BenchResult> {
  const stats = new BenchStats();
  const target: BenchTarget = { url: options.url, protocols: [], options: clientOptions(options) };
  const driver = driverFor(options, stats, target);
  await driver.prepare();
  const startedAt = new Date();
  stats.startedAt = performance.now();
  const stopProgress = startProgress(stats, options.durationMs, process.stderr);
  driver.start();
  await measuredPhase(options.durationMs);
  const stoppedAt = performance.now();
  driver.stop();
  await driver.settle(SETTLE_MS);
  // Answers to the messages in flight at the stop still count; a timed-out wait does not.
  stats.endedAt = Math.max(stoppedAt, stats.lastReceivedAt);
  stopProgress();
  await driver.close();
  return benchResult(options, stats, startedAt);
}

function isUsageError(error: unknown): boolean {
  return (
    error instanceof CliError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true
  );
}

function parse(args: string[]): BenchOptions {
  const options = parseBenchArgs(args);
  clientOptions(options); // reads --ca now: an unreadable file is a usage error
  return options;
}

/**
 * Runs `conduit bench ARGS`; resolves with the exit status: 0 a run without errors, 1 errors or no
 * connection, 2 bad usage (with the usage on stderr).
 */
export async function benchCommand(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${BENCH_USAGE}\n`);
    return 0;
  }
  let options: BenchOptions;
  try {
    options = parse(args);
  } catch (error) {
    if (!isUsageError(error)) throw error;
    process.stderr.write(`${(error as Error).message}\n\n${BENCH_USAGE}\n`);
    return 2;
  }
  let result: BenchResult;
  try {
    result = await runBench(options);
  } catch (error) {
    if (!(error instanceof OpenError)) throw error;
    process.stderr.write(`conduit bench: ${error.message}\n`);
    return 1;
  }
  process.stdout.write(options.json ? `${JSON.stringify(result, null, 2)}\n` : formatTable(result));
  if (options.report !== undefined) writeReport(options.report, result);
  return result.errors.total === 0 ? 0 : 1;
}
