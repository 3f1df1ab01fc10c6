/**
 * `conduit connect URL`: an interactive WebSocket client for the terminal and for scripts, in the manner
 * of wscat and websocat.
 * @module
 */
import { readFileSync } from 'node:fs';
import type { WebSocketOptions } from '../client/options.js';
import { WebSocket } from '../client/websocket.js';
import { CliError } from './args.js';
import { CONNECT_USAGE, type ConnectOptions, parseConnectArgs } from './connect-args.js';
import { EventPrinter, type EventSinks } from './connect-format.js';
import { PromptWriter, readPipe, readTerminal } from './connect-io.js';
import { clientOptions } from './connect-options.js';
import { ConnectSession, ExitStatus } from './connect-session.js';

export { CONNECT_USAGE, type ConnectOptions, parseConnectArgs } from './connect-args.js';
export { ExitStatus } from './connect-session.js';

/** What a run needs besides the options: resolved once, before connecting. */
interface Prepared {
  options: ConnectOptions;
  client: WebSocketOptions;
  binary: Buffer | undefined;
}

function isUsageError(error: unknown): boolean {
  return (
    error instanceof CliError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true
  );
}

function readBinary(file: string | undefined): Buffer | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file);
  } catch (error) {
    throw new CliError(`Cannot read --binary ${JSON.stringify(file)}: ${(error as Error).message}`);
  }
}

function prepare(args: string[]): Prepared {
  const options = parseConnectArgs(args);
  return { options, client: clientOptions(options), binary: readBinary(options.binaryFile) };
}

/** no-color.org: a NO_COLOR variable that is present and not empty turns colors off. */
function colorsWanted(): boolean {
  return process.stdout.isTTY === true && !process.env.NO_COLOR;
}

/** The sinks of the printer: above the prompt on a terminal, plain stdout/stderr otherwise. */
function sinks(writer: PromptWriter, interactive: boolean): EventSinks {
  return {
    out: (line) => writer.print(line),
    err: (line) => writer.print(line, process.stderr),
    status: interactive ? (line) => writer.print(line) : null,
  };
}

/** Sends `--binary` then each `--execute`; with `--wait`, closes that long after the last one. */
function runScript(session: ConnectSession, prepared: Prepared): boolean {
  const { options, binary } = prepared;
  if (binary !== undefined) session.send(binary);
  for (const message of options.execute) session.send(message);
  if (options.waitMs === undefined) return false;
  const timer = setTimeout(() => session.close(1000), options.waitMs);
  session.finished.finally(() => clearTimeout(timer));
  return true;
}

/** Outside a terminal, SIGINT closes cleanly; a second one exits at once. */
function closeOnSignal(session: ConnectSession): void {
  let asked = false;
  const onSignal = (): void => {
    if (asked) process.exit(130);
    asked = true;
    session.close(1000);
  };
  process.on('SIGINT', onSignal);
  session.finished.finally(() => process.off('SIGINT', onSignal));
}

async function run(prepared: Prepared): Promise<number> {
  const { options } = prepared;
  const interactive = process.stdin.isTTY === true && process.stdout.isTTY === true;
  const writer = new PromptWriter(process.stdout);
  const printer = new EventPrinter(sinks(writer, interactive), {
    json: options.json,
    colors: colorsWanted(),
  });
  let ws: WebSocket;
  try {
    ws = new WebSocket(options.url, options.subprotocols, prepared.client);
  } catch (error) {
    // The constructor rejects a bad URL, subprotocol or header before any I/O.
    process.stderr.write(`conduit connect: ${(error as Error).message}\n\n${CONNECT_USAGE}\n`);
    return ExitStatus.USAGE;
  }
  const session = new ConnectSession(ws, printer);
  if (!(await session.opened)) return session.finished;
  const scripted = runScript(session, prepared);
  if (!interactive) closeOnSignal(session);
  if (!scripted && interactive) readTerminal(session, printer, writer);
  else if (!scripted) readPipe(session);
  return session.finished;
}

/**
 * Runs `conduit connect ARGS`; resolves with the exit status once the connection closed (see
 * {@link ExitStatus}): help 0, bad arguments 2 with the usage on stderr.
 */
export async function connectCommand(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${CONNECT_USAGE}\n`);
    return ExitStatus.CLEAN;
  }
  let prepared: Prepared;
  try {
    prepared = prepare(args);
  } catch (error) {
    if (!isUsageError(error)) throw error;
    process.stderr.write(`${(error as Error).message}\n\n${CONNECT_USAGE}\n`);
    return ExitStatus.USAGE;
  }
  return run(prepared);
}
