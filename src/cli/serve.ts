/**
 * `conduit serve`: the hub, an echo endpoint, metrics and health on one port — in one process, or in
 * `--workers N` processes sharing the port and Redis.
 * @module
 */
import cluster from 'node:cluster';
import { CliError } from './args.js';
import { parseServeArgs, SERVE_USAGE, type ServeOptions } from './serve-args.js';
import { runPrimary } from './serve-cluster.js';
import { createServeLogger } from './serve-log.js';
import { createServeRegistry, localMetrics } from './serve-metrics.js';
import { printEndpoints, startServeNode } from './serve-node.js';
import { drainer, onStopSignals } from './serve-shutdown.js';
import { runWorker } from './serve-worker.js';

export { parseServeArgs, SERVE_USAGE, type ServeOptions } from './serve-args.js';

/** Serves in this process until SIGINT/SIGTERM; resolves once listening (the endpoints are printed). */
export async function runServe(options: ServeOptions): Promise<void> {
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
    },
    'serving',
  );
}

function isUsageError(error: unknown): boolean {
  return (
    error instanceof CliError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true
  );
}

/**
 * Runs `conduit serve ARGS`: resolves with the exit status (help: 0, bad arguments: 2 with the usage on
 * stderr, failure to start: 1), or `null` while serving.
 */
export async function serveCommand(args: string[]): Promise<number | null> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${SERVE_USAGE}\n`);
    return 0;
  }
  let options: ServeOptions;
  try {
    options = parseServeArgs(args);
  } catch (error) {
    if (!isUsageError(error)) throw error;
    process.stderr.write(`${(error as Error).message}\n\n${SERVE_USAGE}\n`);
    return 2;
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
