/**
 * The `conduit` command: dispatches to its subcommands.
 * @module
 */
import { readFileSync } from 'node:fs';
import { CliError } from './args.js';
import { ECHO_USAGE, parseEchoArgs, runEcho } from './echo.js';

/** Top-level usage. */
export const USAGE = `Usage: conduit <command> [options]

Commands:
  echo       run a WebSocket echo server (conduit echo --help)
  serve      run the hub, an echo endpoint, metrics and health on one port (conduit serve --help)
  gateway    run the WebSocket gateway of a configuration file (conduit gateway --help)
  connect    open a WebSocket connection: type or pipe messages, see what arrives (conduit connect --help)
  bench      load-test a WebSocket server: echo, hub subscribe or connect mode (conduit bench --help)

Options:
  --help     show this help
  --version  print the version`;

/** The package version, read from package.json next to dist/. */
export function version(): string {
  const url = new URL('../../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
}

function fail(message: string, usage: string): number {
  process.stderr.write(`${message}\n\n${usage}\n`);
  return 2;
}

async function echo(args: string[]): Promise<number | null> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${ECHO_USAGE}\n`);
    return 0;
  }
  try {
    await runEcho(parseEchoArgs(args));
    return null; // keeps running until a signal
  } catch (error) {
    if (error instanceof CliError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      return fail((error as Error).message, ECHO_USAGE);
    }
    process.stderr.write(`conduit echo: ${(error as Error).message}\n`);
    return 1;
  }
}

/**
 * Runs the command line `argv` (without the node and script paths). Resolves with the exit status, or
 * `null` when a server keeps running.
 */
export async function main(argv: string[]): Promise<number | null> {
  const [command, ...rest] = argv;
  if (command === undefined) return fail('conduit: missing command', USAGE);
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  if (command === 'echo') return echo(rest);
  // The other commands load on demand: each pulls in its own dependencies (the hub, Redis, zod, the
  // gateway...), which a process running another command should not hold in memory.
  if (command === 'serve') return (await import('./serve.js')).serveCommand(rest);
  if (command === 'gateway') return (await import('./gateway.js')).gatewayCommand(rest);
  if (command === 'connect') return (await import('./connect.js')).connectCommand(rest);
  if (command === 'bench') return (await import('./bench.js')).benchCommand(rest);
  return fail(`conduit: unknown command ${JSON.stringify(command)}`, USAGE);
}
