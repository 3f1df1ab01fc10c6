/**
 * Where `conduit connect` reads what to send: a terminal (node:readline with a prompt that is redrawn
 * whenever a line is printed above it, and the `/commands`), or a pipe (each line is one text message,
 * end of input closes the connection).
 * @module
 */
import {
  clearLine,
  clearScreenDown,
  createInterface,
  cursorTo,
  type Interface,
  moveCursor,
} from 'node:readline';
import { COMMANDS_HELP, parseTypedLine } from './connect-commands.js';
import type { EventPrinter } from './connect-format.js';
import type { ConnectSession } from './connect-session.js';

const PROMPT = '> ';
/** Input is paused while more than this many bytes wait to be sent (a large file piped in). */
const INPUT_HIGH_WATER = 1 << 20;

/** Writes lines to the terminal, keeping the prompt and what is being typed on the last line. */
export class PromptWriter {
  readonly #output: NodeJS.WriteStream;
  #rl: Interface | null = null;

  constructor(output: NodeJS.WriteStream) {
    this.#output = output;
  }

  /** Attaches the readline interface whose prompt is redrawn; null detaches it. */
  attach(rl: Interface | null): void {
    this.#rl = rl;
    // Once closed (Ctrl+D), lines are printed plainly: Node 24 throws when a closed interface prompts.
    rl?.once('close', () => {
      if (this.#rl === rl) this.#rl = null;
    });
  }

  /** Prints `line` to `stream` above the prompt, then redraws the prompt with the typed text. */
  print(line: string, stream: NodeJS.WriteStream = this.#output): void {
    const rl = this.#rl;
    if (rl === null) {
      stream.write(`${line}\n`);
      return;
    }
    clearLine(this.#output, 0);
    cursorTo(this.#output, 0);
    stream.write(`${line}\n`);
    rl.prompt(true);
  }

  /** Erases the line the user just entered (readline echoed it with the prompt): it is shown again as sent. */
  eraseEntered(text: string): void {
    const columns = this.#output.columns || 80;
    const rows = Math.max(1, Math.ceil((PROMPT.length + text.length) / columns));
    moveCursor(this.#output, 0, -rows);
    cursorTo(this.#output, 0);
    clearScreenDown(this.#output);
  }
}

function runTyped(line: string, session: ConnectSession, printer: EventPrinter): void {
  const command = parseTypedLine(line);
  if (command.kind === 'send') session.send(command.text);
  else if (command.kind === 'ping') session.ping(command.payload);
  else if (command.kind === 'close') session.close(command.code ?? 1000, command.reason);
  else if (command.kind === 'quit') session.close(1000);
  else if (command.kind === 'help') printer.notice(COMMANDS_HELP);
  else printer.failure(command.message);
}

/**
 * Reads typed lines from the terminal until the connection closes: lines are sent or run as commands;
 * Ctrl+D and Ctrl+C close the connection with 1000.
 */
export function readTerminal(session: ConnectSession, printer: EventPrinter, writer: PromptWriter): void {
  const rl = createInterface({
    input: process.stdin,
    output: process.stdout,
    prompt: PROMPT,
    terminal: true,
  });
  let finished = false;
  const quit = (): void => {
    if (!finished) session.close(1000);
  };
  rl.on('line', (line) => {
    writer.eraseEntered(line);
    if (line.trim() !== '') runTyped(line, session, printer);
    rl.prompt();
  });
  rl.on('SIGINT', quit);
  rl.on('close', quit);
  writer.attach(rl);
  rl.prompt();
  session.finished.finally(() => {
    finished = true;
    writer.attach(null);
    clearLine(process.stdout, 0);
    cursorTo(process.stdout, 0);
    rl.close();
    // After Ctrl+D readline has closed itself, but its keypress listener leaves stdin flowing, which
    // would keep the process alive.
    process.stdin.pause();
  });
}

/**
 * Sends each line of a non-terminal stdin as a text message; end of input closes the connection with
 * 1000 once the lines are sent. Reading pauses while the send buffer is full.
 */
export function readPipe(session: ConnectSession, input: NodeJS.ReadableStream = process.stdin): void {
  const rl = createInterface({ input, terminal: false, crlfDelay: Number.POSITIVE_INFINITY });
  let finished = false;
  rl.on('line', (line) => {
    if (!session.isOpen) return;
    session.send(line);
    if (session.bufferedAmount > INPUT_HIGH_WATER) rl.pause();
  });
  session.onDrain(() => rl.resume());
  rl.on('close', () => {
    if (!finished && session.isOpen) session.close(1000);
  });
  session.finished.finally(() => {
    finished = true;
    rl.close();
    // A pipe that stays open (the writer did not end it) must not keep the process alive.
    (input as { destroy?: () => void }).destroy?.();
  });
}
