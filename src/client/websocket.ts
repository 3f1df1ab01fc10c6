/**
 * `WebSocket`: the client, compatible with the WHATWG WebSocket standard (code written for browsers
 * runs unchanged) plus Node extras (a third `options` argument, `binaryType = 'nodebuffer'`, `ping()`,
 * `pong()`, `terminate()`, and `ping` / `pong` / `drain` events).
 * @module
 */
import { Buffer } from 'node:buffer';
import { ReadyState } from '../protocol/constants.js';
import { ClientConnection } from './client-connection.js';
import { domException } from './errors.js';
import { EventHandlers } from './event-handlers.js';
import type { CloseEvent, ErrorEvent } from './events.js';
import { type SendData, toPayload } from './message-data.js';
import { type BinaryType, resolveClientOptions, type WebSocketOptions } from './options.js';
import { normalizeProtocols, parseWebSocketUrl } from './url.js';

const BINARY_TYPES: ReadonlySet<string> = new Set(['blob', 'arraybuffer', 'nodebuffer']);

/** WebIDL `[Clamp] unsigned short`: NaN is 0, out-of-range values clamp, halves round to even. */
function clampUnsignedShort(value: unknown): number {
  const n = Number(value);
  if (Number.isNaN(n)) return 0;
  const clamped = Math.min(Math.max(n, 0), 65535);
  const floor = Math.floor(clamped);
  const fraction = clamped - floor;
  return fraction > 0.5 || (fraction === 0.5 && floor % 2 === 1) ? floor + 1 : floor;
}

/** True for a ws-style options object passed in place of `protocols`. */
function isOptionsObject(value: unknown): value is WebSocketOptions {
  return typeof value === 'object' && value !== null && !(Symbol.iterator in value);
}

/**
 * A WebSocket client connection. Events: `open`; `message` (a MessageEvent: `data` is a string for text,
 * else a Blob, ArrayBuffer or Buffer per `binaryType`); `error` (an {@link ErrorEvent} whose `error` says
 * why), always followed by `close`; `close` (a {@link CloseEvent}: `code`, `reason`, `wasClean`); Node
 * extras `ping` and `pong` (MessageEvent with a Buffer payload; pings are already answered unless
 * `autoPong` is false) and `drain` (`bufferedAmount` fell to the low water mark).
 */
export class WebSocket extends EventTarget {
  static readonly CONNECTING = ReadyState.CONNECTING;
  static readonly OPEN = ReadyState.OPEN;
  static readonly CLOSING = ReadyState.CLOSING;
  static readonly CLOSED = ReadyState.CLOSED;
  // Also on the prototype, as WebIDL constants are (defined below the class).
  declare readonly CONNECTING: typeof ReadyState.CONNECTING;
  declare readonly OPEN: typeof ReadyState.OPEN;
  declare readonly CLOSING: typeof ReadyState.CLOSING;
  declare readonly CLOSED: typeof ReadyState.CLOSED;

  readonly #url: string;
  readonly #connection: ClientConnection;
  readonly #handlers: EventHandlers;

  /**
   * Connects to `url` (ws:, wss:, http: or https:) offering `protocols`. Throws a `SyntaxError`
   * DOMException for an invalid URL, a fragment, or invalid or repeated subprotocols; a TypeError or
   * RangeError for invalid `options`. `options` may also be passed second, in place of `protocols`.
   */
  constructor(
    url: string | URL,
    protocols?: string | Iterable<string> | WebSocketOptions,
    options: WebSocketOptions = {},
  ) {
    super();
    if (isOptionsObject(protocols)) {
      options = protocols;
      protocols = undefined;
    }
    const parsed = parseWebSocketUrl(url);
    const list = normalizeProtocols(protocols as string | Iterable<string> | undefined);
    if (options.binaryType !== undefined && !BINARY_TYPES.has(options.binaryType)) {
      throw new TypeError(`binaryType must be 'blob', 'arraybuffer' or 'nodebuffer'`);
    }
    this.#url = parsed.href;
    this.#handlers = new EventHandlers(this);
    this.#connection = new ClientConnection(this, parsed, list, options, resolveClientOptions(options));
  }

  /** The URL, after parsing (http(s) mapped to ws(s)); redirects do not change it. */
  get url(): string {
    return this.#url;
  }

  /** CONNECTING (0), OPEN (1), CLOSING (2) or CLOSED (3). */
  get readyState(): ReadyState {
    return this.#connection.readyState;
  }

  /**
   * Bytes passed to `send()` and not yet handed to the kernel (frame headers included); after the
   * connection started closing, sends are discarded but still counted, as the WHATWG standard says.
   */
  get bufferedAmount(): number {
    return this.#connection.bufferedAmount;
  }

  /** The `Sec-WebSocket-Extensions` value the server answered with, '' for none. */
  get extensions(): string {
    return this.#connection.extensions;
  }

  /** The subprotocol the server chose, '' for none. */
  get protocol(): string {
    return this.#connection.protocol;
  }

  /**
   * How binary messages are delivered: 'blob' (default, WHATWG), 'arraybuffer', or 'nodebuffer' (a
   * Buffer view of the received bytes, no copy). Other values are ignored, as for an IDL enum.
   */
  get binaryType(): BinaryType {
    return this.#connection.binaryType;
  }

  set binaryType(value: BinaryType) {
    if (BINARY_TYPES.has(value)) this.#connection.binaryType = value;
  }

  /** Node extra: round-trip time of the last answered heartbeat ping, in ms; -1 until one was answered. */
  get rtt(): number {
    return this.#connection.rtt;
  }

  get onopen(): ((this: WebSocket, event: Event) => unknown) | null {
    return this.#handlers.get('open');
  }

  set onopen(handler: ((this: WebSocket, event: Event) => unknown) | null) {
    this.#handlers.set('open', handler);
  }

  get onmessage(): ((this: WebSocket, event: MessageEvent) => unknown) | null {
    return this.#handlers.get('message');
  }

  set onmessage(handler: ((this: WebSocket, event: MessageEvent) => unknown) | null) {
    this.#handlers.set('message', handler);
  }

  get onerror(): ((this: WebSocket, event: ErrorEvent) => unknown) | null {
    return this.#handlers.get('error');
  }

  set onerror(handler: ((this: WebSocket, event: ErrorEvent) => unknown) | null) {
    this.#handlers.set('error', handler);
  }

  get onclose(): ((this: WebSocket, event: CloseEvent) => unknown) | null {
    return this.#handlers.get('close');
  }

  set onclose(handler: ((this: WebSocket, event: CloseEvent) => unknown) | null) {
    this.#handlers.set('close', handler);
  }

  /**
   * Sends a message: a string as text; an ArrayBuffer, a view or a Blob as binary (a Blob is read
   * first, and later messages wait for it); anything else as its string. Throws an `InvalidStateError`
   * DOMException while CONNECTING; once closing, the data is discarded (and counted in `bufferedAmount`).
   */
  send(data: SendData): void {
    if (this.#connection.readyState === ReadyState.CONNECTING) {
      throw domException('The WebSocket is still connecting', 'InvalidStateError');
    }
    this.#connection.send(toPayload(data));
  }

  /**
   * Starts the closing handshake with `code` (1000 or 3000–4999, else an `InvalidAccessError`
   * DOMException) and `reason` (at most 123 bytes of UTF-8, else a `SyntaxError` DOMException). While
   * CONNECTING it abandons the connection: `error` and `close` (1006) follow. Does nothing once closing.
   */
  close(code?: number, reason?: string): void {
    let status: number | undefined;
    if (code !== undefined) {
      status = clampUnsignedShort(code);
      if (status !== 1000 && (status < 3000 || status > 4999)) {
        throw domException(`Close code ${status} is neither 1000 nor in 3000–4999`, 'InvalidAccessError');
      }
    }
    const text = reason === undefined ? '' : String(reason);
    if (Buffer.byteLength(text, 'utf8') > 123) {
      throw domException('The close reason is longer than 123 bytes of UTF-8', 'SyntaxError');
    }
    this.#connection.close(status, text);
  }

  /** Node extra: sends a ping (at most 125 bytes, else RangeError). Returns false when not open. */
  ping(data?: string | Uint8Array): boolean {
    this.#checkConnected();
    return this.#connection.ping(data);
  }

  /** Node extra: sends a pong (at most 125 bytes, else RangeError). Returns false when not open. */
  pong(data?: string | Uint8Array): boolean {
    this.#checkConnected();
    return this.#connection.pong(data);
  }

  /** Node extra: cuts the connection at once, without a closing handshake; `close` reports 1006. */
  terminate(): void {
    this.#connection.terminate();
  }

  #checkConnected(): void {
    if (this.#connection.readyState === ReadyState.CONNECTING) {
      throw domException('The WebSocket is still connecting', 'InvalidStateError');
    }
  }
}

for (const [name, value] of Object.entries(ReadyState)) {
  Object.defineProperty(WebSocket.prototype, name, { value, enumerable: true });
}
