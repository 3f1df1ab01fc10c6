/**
 * One `conduit connect` connection: shows its events through an {@link EventPrinter}, sends what the
 * user (or the script) asks for, and turns the way it ended into the command's exit status.
 * @module
 */
import type { CloseEvent, ErrorEvent } from '../client/events.js';
import type { WebSocket } from '../client/websocket.js';
import { HandshakeError } from '../protocol/errors.js';
import type { EventPrinter } from './connect-format.js';

/** Exit statuses of `conduit connect`. */
export const ExitStatus = {
  /** Closed cleanly: 1000, 1001, a close frame without a code, or a close asked for by the user. */
  CLEAN: 0,
  /** The connection could not be established. */
  CONNECT_FAILED: 1,
  /** Bad command line. */
  USAGE: 2,
  /** Closed by the server with an error code, or lost without a closing handshake. */
  CLOSED_WITH_ERROR: 3,
} as const;

/** Close codes that end a conversation normally (RFC 6455 §7.4.1; 1005: a close frame without code). */
const CLEAN_CODES: ReadonlySet<number> = new Set([1000, 1001, 1005]);

/** One line for a connection that failed before it opened. */
export function describeConnectError(error: unknown): { message: string; status?: number } {
  if (error instanceof HandshakeError && error.code === 'ERR_HANDSHAKE_STATUS') {
    return { message: `handshake refused with HTTP status ${error.status}`, status: error.status };
  }
  if (error instanceof HandshakeError) return { message: `handshake failed: ${error.message}` };
  const message = error instanceof Error ? error.message : String(error);
  return { message: `cannot connect: ${message}` };
}

/** A connection and what happened to it so far. */
export class ConnectSession {
  /** Resolves true once open, false when the connection failed instead. */
  readonly opened: Promise<boolean>;
  /** Resolves with the exit status once the connection closed. */
  readonly finished: Promise<number>;

  readonly #ws: WebSocket;
  readonly #printer: EventPrinter;
  /** Send times of our pings that await their pong (pongs answer in order, RFC 6455 §5.5.3). */
  readonly #pings: number[] = [];
  #isOpen = false;
  #closedByUser = false;
  #error: unknown;

  constructor(ws: WebSocket, printer: EventPrinter) {
    this.#ws = ws;
    this.#printer = printer;
    let opened: (value: boolean) => void = () => {};
    this.opened = new Promise((resolve) => (opened = resolve));
    this.finished = new Promise((resolve) => {
      ws.addEventListener('close', (event) => {
        opened(false);
        resolve(this.#onClose(event as CloseEvent));
      });
    });
    ws.addEventListener('open', () => {
      this.#isOpen = true;
      printer.open(ws.url, ws.protocol, ws.extensions);
      opened(true);
    });
    ws.addEventListener('error', (event) => {
      this.#error = (event as ErrorEvent).error;
    });
    ws.addEventListener('message', (event) => printer.message('in', (event as MessageEvent).data));
    ws.addEventListener('ping', (event) => printer.control('ping', 'in', (event as MessageEvent).data));
    ws.addEventListener('pong', (event) => this.#onPong((event as MessageEvent).data));
  }

  /** Bytes sent and not yet handed to the kernel (for pausing the input). */
  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }

  /** True until the closing handshake starts. */
  get isOpen(): boolean {
    return this.#isOpen && this.#ws.readyState === this.#ws.OPEN;
  }

  /** Calls `listener` whenever the send buffer drained. */
  onDrain(listener: () => void): void {
    this.#ws.addEventListener('drain', listener);
  }

  /** Sends a text (string) or binary message, and shows it. */
  send(data: string | Uint8Array): void {
    if (!this.isOpen) {
      this.#printer.failure('not sent: the connection is closing');
      return;
    }
    this.#ws.send(data);
    this.#printer.message('out', data);
  }

  /** Sends a ping; its pong will show the round-trip time. */
  ping(payload: string): void {
    if (!this.isOpen) {
      this.#printer.failure('not sent: the connection is closing');
      return;
    }
    this.#ws.ping(payload);
    this.#pings.push(performance.now());
    this.#printer.control('ping', 'out', Buffer.from(payload));
  }

  /** Starts the closing handshake on the user's behalf (the exit status will be 0). */
  close(code?: number, reason?: string): void {
    this.#closedByUser = true;
    this.#ws.close(code, reason);
  }

  #onPong(data: Buffer): void {
    const sentAt = this.#pings.shift();
    this.#printer.control('pong', 'in', data, sentAt === undefined ? undefined : performance.now() - sentAt);
  }

  #onClose(event: CloseEvent): number {
    if (!this.#isOpen) {
      const { message, status } = describeConnectError(this.#error ?? new Error('connection closed'));
      this.#printer.failure(message, status);
      return ExitStatus.CONNECT_FAILED;
    }
    const clean = this.#closedByUser || CLEAN_CODES.has(event.code);
    if (!clean && this.#error !== undefined) this.#printer.failure((this.#error as Error).message);
    this.#printer.close(event.code, event.reason, event.wasClean, !clean);
    return clean ? ExitStatus.CLEAN : ExitStatus.CLOSED_WITH_ERROR;
  }
}
