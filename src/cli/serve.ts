/**
 * `conduit serve`: the hub, an echo endpoint, metrics and health on one port — in one process, or in
 * `--workers N` processes sharing the port and Redis — set by flags and/or a `--config` file.
 * @module
 */
import cluster from 'node:cluster';
import { tuneHeapForLargeMessages } from '../transport/native-heap.js';
import { CliError } from './args.js';
import { parseServeArgs, SERVE_USAGE, type ServeOptions } from './serve-args.js';
import { runPrimary } from './serve-cluster.js';
import { ServeConfigError } from './serve-config.js';
import { createServeLogger } from './serve-log.js';
import { createServeRegistry, localMetrics } from './serve-metrics.js';
import { printEndpoints, startServeNode } from './serve-node.js';
import { drainer, onStopSignals } from './serve-shutdown.js';
import { runWorker } from './serve-worker.js';

export { parseServeArgs, SERVE_USAGE, type ServeOptions } from './serve-args.js';
export { loadServeConfig, parseServeConfig, ServeConfigError } from './serve-config.js';

/** Serves in this process until SIGINT/SIGTERM; resolves once listening (the endpoints are printed). */
export async function runServe(options: ServeOptions): Promise<void> {
  // Large messages would otherwise fault fresh pages in for every buffer (see native-heap.ts).
  tuneHeapForLargeMessages();
  const logger = createServeLogger(options.logLevel);
  const registry = createServeRegistry();
  const node = await startServeNode({ options, logger, registry, metrics: localMetrics(registry) });
  onStopSignals(drainer(node.close, logger, true));
  printEndpoints(node.endpoints);
  logger.info(
    {
      port: node.port,
      engine: node.hub.engine.name,
      presence: options.presence,
      auth: options.jwtSecret !== undefined || options.jwksUrl !== undefined,
      tls: options.tls !== undefined,
      ...(options.config === undefined ? {} : { config: options.config }),
    },
    'serving',
  );
}

function isUsageError(error: unknown): boolean {
  return (
    error instanceof CliError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true
  );
}

/** The options, or the exit status of a usage error (with the usage) or an invalid file (its problems). */
function optionsOrStatus(args: string[]): ServeOptions | number {
  try {
    return parseServeArgs(args);
  } catch (error) {
    if (error instanceof ServeConfigError) {
      process.stderr.write(`conduit serve: ${error.message}\n`);
      return 2;
    }
    if (!isUsageError(error)) throw error;
    process.stderr.write(`${(error as Error).message}\n\n${SERVE_USAGE}\n`);
    return 2;
  }
}

/**
 * Runs `conduit serve ARGS`: resolves with the exit status (help: 0, bad arguments or an invalid
 * configuration file: 2 with the problems on stderr, `--check`: 0 or 2, failure to start: 1), or `null`
 * while serving.
 */
export async function serveCommand(args: string[]): Promise<number | null> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${SERVE_USAGE}\n`);
    return 0;
  }
  const options = optionsOrStatus(args);
  if (typeof options === 'number') return options;
  if (options.check) {
    process.stdout.write('ok\n');
    return 0;
  }
  try {
    // A worker runs the same command line as its primary: cluster.isWorker tells them apart.
    if (cluster.isWorker) await runWorker(options);
    else if (options.workers >= 2) await runPrimary(options);
    else await runServe(options);
    return null;
  } catch (error) {
    process.stderr.write(`conduit serve: ${(error as Error).message}\n`);
    return 1;
  }
}
