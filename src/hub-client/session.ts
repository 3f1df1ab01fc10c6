/**
 * One connection attempt: a socket, its listeners, and the first-message authentication. The client
 * makes a new session for every attempt; a session that was replaced or closed reports nothing more,
 * so late events of an old socket cannot disturb the current one.
 * @module
 */
import type { HubSocket, HubSocketConstructor, SocketCloseEvent, SocketMessageEvent } from './options.js';
import { authFrame } from './wire.js';

/** WebSocket.OPEN (the constant, not the property: the constructor may be a minimal one). */
const OPEN = 1;

/** What a session reports to its client. */
export interface SessionSink {
  /** A text message arrived. */
  onText(session: Session, text: string): void;
  /** A binary message arrived (the protocol has none). */
  onBinary(session: Session): void;
  /** The socket closed (1006 when it never opened or was cut). Reported once. */
  onClose(session: Session, code: number, reason: string): void;
}

/** How to open a session. */
export interface SessionRequest {
  url: string;
  protocols: readonly string[];
  /** Sent as `{"type":"auth"}` once the socket opens; undefined for none. */
  authToken: string | undefined;
}

/** A socket of one connection attempt. */
export class Session {
  readonly #socket: HubSocket;
  #live = true;

  /** Opens the socket; throws what the WebSocket constructor throws (a SyntaxError for a bad URL). */
  constructor(
    WebSocket: HubSocketConstructor,
    request: SessionRequest,
    private readonly sink: SessionSink,
  ) {
    const protocols = request.protocols.length === 0 ? undefined : [...request.protocols];
    this.#socket = new WebSocket(request.url, protocols);
    this.#socket.addEventListener('open', () => {
      if (this.#live && request.authToken !== undefined) this.#socket.send(authFrame(request.authToken));
    });
    this.#socket.addEventListener('message', (event) =>
      this.#onMessage(event as unknown as SocketMessageEvent),
    );
    this.#socket.addEventListener('close', (event) => this.#onClose(event as unknown as SocketCloseEvent));
    // 'error' is always followed by 'close', which carries what the client needs.
    this.#socket.addEventListener('error', () => {});
  }

  /** True while the socket is open and the session was not abandoned. */
  get open(): boolean {
    return this.#live && this.#socket.readyState === OPEN;
  }

  /** Sends one text message; false (and nothing sent) when the socket is not open. */
  send(text: string): boolean {
    if (!this.open) return false;
    this.#socket.send(text);
    return true;
  }

  /**
   * Closes the socket and silences the session: the client already knows why it ends, so the socket's
   * `close` event is not reported.
   */
  abandon(code: number, reason: string): void {
    this.#live = false;
    try {
      this.#socket.close(code, reason);
    } catch {
      // A socket that is already closing or closed has nothing left to close.
    }
  }

  #onMessage(event: SocketMessageEvent): void {
    if (!this.#live) return;
    if (typeof event.data === 'string') this.sink.onText(this, event.data);
    else this.sink.onBinary(this);
  }

  #onClose(event: SocketCloseEvent): void {
    if (!this.#live) return;
    this.#live = false;
    this.sink.onClose(this, event.code, event.reason);
  }
}
