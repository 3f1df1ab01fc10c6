/**
 * Graceful shutdown of a serving process: close the node once (clients get 1001), then exit 0; exit 1
 * when closing fails or outlasts {@link DRAIN_TIMEOUT_MS}, so a stuck close never keeps a process alive.
 * @module
 */
import type { Logger } from 'pino';

/** Longest graceful close; past it the process exits with status 1. */
export const DRAIN_TIMEOUT_MS = 15_000;

/**
 * Returns `stop(reason)`, which drains with `close` and exits. A later call either exits at once with
 * status 1 (`escalate`: a second Ctrl-C from an impatient operator) or is ignored (a worker told to stop by
 * both a signal and its primary).
 */
export function drainer(
  close: () => Promise<void>,
  logger: Logger,
  escalate: boolean,
): (reason: string) => void {
  let draining = false;
  return (reason) => {
    if (draining) {
      if (!escalate) return;
      logger.warn({ reason }, 'stop requested again while draining: exiting now');
      process.exit(1);
    }
    draining = true;
    logger.info({ reason }, 'draining');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs: DRAIN_TIMEOUT_MS }, 'drain timed out');
      process.exit(1);
    }, DRAIN_TIMEOUT_MS);
    close().then(
      () => {
        clearTimeout(timer);
        logger.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'drain failed');
        process.exit(1);
      },
    );
  };
}

/** Calls `stop` on SIGINT and SIGTERM (instead of Node's default of dying at once). */
export function onStopSignals(stop: (reason: string) => void): void {
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
