/**
 * The logger of `conduit serve`: pino, JSON lines on stdout. Written synchronously so that the lines of a
 * process that is about to exit (or to be killed) are not lost, and so that workers sharing the primary's
 * stdout never interleave half lines; `serve` logs little on its hot paths, so the cost does not show.
 * @module
 */
import { type Logger, pino } from 'pino';

/** A pino logger at `level` writing to stdout, with `bindings` on every line (besides pid and hostname). */
export function createServeLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  const logger = pino({ level }, pino.destination({ dest: 1, sync: true }));
  return Object.keys(bindings).length === 0 ? logger : logger.child(bindings);
}
