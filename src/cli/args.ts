/**
 * Argument checks shared by the `conduit` commands.
 * @module
 */

/** A usage error: printed with the command's usage, exit status 2. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

/** Parses a TCP port, 0..65535. */
export function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535)
    throw new CliError(`Invalid port ${JSON.stringify(text)}: expected 0..65535`);
  return port;
}

/** Parses a positive number of bytes (digits only). */
export function parseByteCount(option: string, text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1 || !Number.isSafeInteger(value)) {
    throw new CliError(`Invalid ${option} ${JSON.stringify(text)}: expected a positive number of bytes`);
  }
  return value;
}
