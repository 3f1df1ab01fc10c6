/**
 * How `conduit connect` shows what happens on the connection: one line per event, either for people
 * (`< 12:00:01.123 text`, colored on a terminal) or as one JSON object per line for scripts.
 * @module
 */
import { Buffer } from 'node:buffer';

/** Which way a message or control frame went: `in` received, `out` sent. */
export type Direction = 'in' | 'out';

/** Where the lines go. `status` is null where status lines would be noise (plain output to a pipe). */
export interface EventSinks {
  /** Messages (and every JSON line). */
  out: (line: string) => void;
  /** Failures and abnormal closes. */
  err: (line: string) => void;
  /** Connected, pong, clean close, help. */
  status: ((line: string) => void) | null;
}

/** ANSI SGR wrappers; identity functions when colors are off. */
interface Palette {
  received: (text: string) => string;
  sent: (text: string) => string;
  status: (text: string) => string;
  error: (text: string) => string;
}

const plain = (text: string): string => text;
const sgr =
  (code: string) =>
  (text: string): string =>
    `\x1b[${code}m${text}\x1b[0m`;

function palette(colors: boolean): Palette {
  if (!colors) return { received: plain, sent: plain, status: plain, error: plain };
  return { received: sgr('32'), sent: sgr('36'), status: sgr('2'), error: sgr('31') };
}

/** Bytes of a binary message shown in hex before the summary stops. */
const HEX_PREVIEW = 16;

/** Local time of day with milliseconds: `12:00:01.123`. */
export function clock(date: Date = new Date()): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  const ms = String(date.getMilliseconds()).padStart(3, '0');
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}.${ms}`;
}

/** A binary payload as its length and first bytes: `[binary 3 B] 01 02 03`. */
export function describeBinary(data: Uint8Array): string {
  const shown = Buffer.from(data.buffer, data.byteOffset, Math.min(data.byteLength, HEX_PREVIEW));
  const hex = shown.toString('hex').replace(/(..)(?!$)/g, '$1 ');
  const more = data.byteLength > HEX_PREVIEW ? ' …' : '';
  return `[binary ${data.byteLength} B]${hex === '' ? '' : ` ${hex}`}${more}`;
}

/** A control frame payload for people: quoted text when it is printable UTF-8, else hex. */
function describePayload(data: Uint8Array): string {
  if (data.byteLength === 0) return '';
  const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we look for
  return /[\u0000-\u001f\ufffd]/.test(text) ? ` ${describeBinary(data)}` : ` ${JSON.stringify(text)}`;
}

/** Payload fields of a JSON event: text as is, binary as base64 with its length. */
function payloadFields(data: string | Uint8Array): Record<string, unknown> {
  if (typeof data === 'string') return { type: 'text', data };
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return { type: 'binary', length: bytes.byteLength, base64: bytes.toString('base64') };
}

/** Formats connection events for people or for scripts and writes them to the {@link EventSinks}. */
export class EventPrinter {
  readonly #sinks: EventSinks;
  readonly #json: boolean;
  readonly #colors: Palette;

  constructor(sinks: EventSinks, options: { json: boolean; colors: boolean }) {
    this.#sinks = sinks;
    this.#json = options.json;
    this.#colors = palette(options.colors && !options.json);
  }

  #emit(event: string, fields: Record<string, unknown>): void {
    this.#sinks.out(JSON.stringify({ time: new Date().toISOString(), event, ...fields }));
  }

  #status(text: string): void {
    this.#sinks.status?.(this.#colors.status(`* ${clock()} ${text}`));
  }

  /** The handshake completed. */
  open(url: string, protocol: string, extensions: string): void {
    if (this.#json) {
      this.#emit('open', { url, protocol, extensions });
      return;
    }
    const details = [protocol && `subprotocol ${protocol}`, extensions && `extensions ${extensions}`];
    const suffix = details.filter(Boolean).join('; ');
    this.#status(`connected to ${url}${suffix === '' ? '' : ` (${suffix})`}`);
  }

  /** A data message, received or sent. */
  message(direction: Direction, data: string | Uint8Array): void {
    if (this.#json) {
      this.#emit('message', { direction, ...payloadFields(data) });
      return;
    }
    const body = typeof data === 'string' ? data : describeBinary(data);
    const mark = direction === 'in' ? '<' : '>';
    const color = direction === 'in' ? this.#colors.received : this.#colors.sent;
    this.#sinks.out(`${color(`${mark} ${clock()}`)} ${body}`);
  }

  /** A ping or pong, received or sent; `rttMs` for a pong answering our ping. */
  control(kind: 'ping' | 'pong', direction: Direction, data: Uint8Array, rttMs?: number): void {
    if (this.#json) {
      const base64 = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
      this.#emit(kind, { direction, base64, ...(rttMs === undefined ? {} : { rttMs }) });
      return;
    }
    const verb = direction === 'in' ? 'received' : 'sent';
    const rtt = rttMs === undefined ? '' : ` (round trip ${rttMs.toFixed(2)} ms)`;
    this.#status(`${kind} ${verb}${describePayload(data)}${rtt}`);
  }

  /** The connection closed; `error` when the code means something went wrong. */
  close(code: number, reason: string, wasClean: boolean, error: boolean): void {
    const text = `closed with ${code}${reason === '' ? '' : ` ${JSON.stringify(reason)}`}`;
    if (this.#json) this.#emit('close', { code, reason, wasClean });
    else if (error) this.#sinks.err(this.#colors.error(`conduit connect: ${text}`));
    else this.#status(text);
  }

  /** The connection failed, or a command could not be run. */
  failure(message: string, status?: number): void {
    if (this.#json) this.#emit('error', { message, ...(status === undefined ? {} : { status }) });
    else this.#sinks.err(this.#colors.error(`conduit connect: ${message}`));
  }

  /** Plain information for the person at the terminal (help text, hints); nothing in JSON mode. */
  notice(text: string): void {
    if (!this.#json) this.#sinks.status?.(this.#colors.status(text));
  }
}
