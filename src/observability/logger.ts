/**
 * The logging interface Conduit writes to: any pino-compatible logger (pino itself, or a small object with
 * the same methods). Conduit never depends on pino directly; the default is {@link silentLogger}.
 * @module
 */

/** Levels Conduit logs at. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** One level's method, called pino-style: merge object first, message second. */
export interface LogFn {
  (obj: object, msg?: string): void;
  (msg: string): void;
}

/**
 * A pino-compatible logger. `child` returns a logger that adds `bindings` to every line (Conduit binds
 * `connId` per connection). `isLevelEnabled` is optional; when present, Conduit skips building lines (and
 * child loggers) for disabled levels.
 */
export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  child(bindings: Record<string, unknown>): Logger;
  isLevelEnabled?(level: string): boolean;
}

function discard(): void {}

/** A logger that drops everything; its children are itself. */
export const silentLogger: Logger = {
  debug: discard,
  info: discard,
  warn: discard,
  error: discard,
  child: () => silentLogger,
  isLevelEnabled: () => false,
};

/**
 * True when `logger` exists and would emit a line at `level`. Call it before building the line's merge
 * object, so that disabled levels cost no allocation.
 */
export function logsAt(logger: Logger | null, level: LogLevel): logger is Logger {
  if (logger === null) return false;
  return logger.isLevelEnabled === undefined || logger.isLevelEnabled(level);
}

/** `logger`, or null when it is absent or silent (callers then skip logging entirely). */
export function activeLogger(logger: Logger | undefined): Logger | null {
  return logger === undefined || logger === silentLogger ? null : logger;
}
