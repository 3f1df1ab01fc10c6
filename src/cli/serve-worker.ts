/**
 * A cluster worker of `conduit serve --workers N`: serves one node on the port the primary shares, tells
 * the primary when it is listening, and drains when told to (by the primary or by a signal). A worker that
 * loses its primary exits at once (node:cluster does it): it must not serve unsupervised.
 * @module
 */
import cluster from 'node:cluster';
import { tuneHeapForLargeMessages } from '../transport/native-heap.js';
import type { ServeOptions } from './serve-args.js';
import { createServeLogger } from './serve-log.js';
import { createServeRegistry, workerMetrics } from './serve-metrics.js';
import { type Endpoint, startServeNode } from './serve-node.js';
import { drainer, onStopSignals } from './serve-shutdown.js';

/**
 * Environment variable with the port every worker listens on: the primary picks a free one for `--port 0`,
 * so that a restarted worker joins the same shared listener (node:cluster keys listeners by port).
 */
export const PORT_ENV = 'CONDUIT_SERVE_PORT';

/** Messages of a worker to its primary about its life. */
export type WorkerLifeMessage = { conduit: 'listening'; port: number; endpoints: Endpoint[] };

/** Messages of the primary to a worker about its life. */
export type PrimaryLifeMessage = { conduit: 'shutdown' };

function isShutdown(message: unknown): boolean {
  return (message as Partial<PrimaryLifeMessage> | null)?.conduit === 'shutdown';
}

/**
 * Listens for the requests to stop from the start: a shutdown sent while the node is still starting
 * must not be lost. Returns a function that hands them over to `stop` once there is one.
 */
function stopRequests(): (stop: (reason: string) => void) => void {
  let early: string | null = null;
  let stop: ((reason: string) => void) | null = null;
  const request = (reason: string): void => {
    if (stop !== null) stop(reason);
    else early ??= reason;
  };
  onStopSignals(request);
  process.on('message', (message: unknown) => {
    if (isShutdown(message)) request('primary');
  });
  return (handler) => {
    stop = handler;
    if (early !== null) handler(early);
  };
}

/** Runs this process as a worker; resolves once it serves. Exits the process (1) when it cannot start. */
export async function runWorker(options: ServeOptions): Promise<void> {
  // Large messages would otherwise fault fresh pages in for every buffer (see native-heap.ts).
  tuneHeapForLargeMessages();
  const logger = createServeLogger(options.logLevel, { worker: cluster.worker?.id ?? 0 });
  const handOver = stopRequests();
  const registry = createServeRegistry();
  const port = Number(process.env[PORT_ENV] ?? options.port);
  let node: Awaited<ReturnType<typeof startServeNode>>;
  try {
    node = await startServeNode({ options, logger, registry, metrics: workerMetrics(registry), port });
  } catch (error) {
    logger.error({ err: error }, 'worker failed to start');
    process.exit(1);
  }
  logger.info({ port: node.port }, 'worker listening');
  const listening: WorkerLifeMessage = { conduit: 'listening', port: node.port, endpoints: node.endpoints };
  process.send?.(listening);
  handOver(drainer(node.close, logger, false));
}
