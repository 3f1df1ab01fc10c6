/**
 * A backend WebSocket whose opening handshake succeeded but which is not relaying yet: the gateway has
 * still to answer the client. Its socket is paused (first frames wait in the kernel, or in `rest`), and
 * it is either claimed by a pair or tunnel, or abandoned with a close frame if the client goes away.
 * Over HTTP/2 the "socket" is the WebSocket's stream, which has the socket API the transport uses.
 * @module
 */
import type { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import { CloseCode } from '../../protocol/constants.js';
import type { Extension } from '../../protocol/extension.js';
import type { TransportConfig } from '../../transport/options.js';
import { SocketTransport, type TransportSink } from '../../transport/socket-transport.js';

/** Ignores everything: the sink of an abandoned upstream, which only waits for the close handshake. */
const DISCARD: TransportSink = {
  onMessage() {},
  onPing() {},
  onPong() {},
  onDrain() {},
  onError() {},
  onClose() {},
};

/** Socket errors before pairing: the 'close' that follows is what counts. */
function ignoreError(): void {}

/** One established, not yet relaying, upstream WebSocket. */
export class UpstreamHandshake {
  readonly socket: Socket;
  /** The URL that was dialled (the backend's, with the client's path). */
  readonly url: URL;
  /** The subprotocol the backend chose, '' for none. */
  readonly protocol: string;
  /** Extensions confirmed with the backend (permessage-deflate), in response order. */
  readonly extensions: Extension[];
  /** The backend's `Sec-WebSocket-Extensions` response value, '' for none. */
  readonly extensionsHeader: string;
  /** Bytes that followed the 101 response head (the backend's first frames, rarely). */
  readonly rest: Buffer;
  /** Transport settings for this upstream (client role, the route's limits and heartbeat). */
  readonly config: TransportConfig;
  /** Time the dial took, ms (connect + handshake). */
  readonly connectMs: number;
  /** '2' when the WebSocket runs on an HTTP/2 stream (RFC 8441; `socket` is then that stream). */
  readonly httpVersion: '1.1' | '2';
  private settled = false;
  private lostBeforeClaim = false;

  constructor(
    socket: Socket,
    url: URL,
    outcome: { protocol: string; extensions: Extension[]; extensionsHeader: string },
    rest: Buffer,
    config: TransportConfig,
    connectMs: number,
    httpVersion: '1.1' | '2' = '1.1',
  ) {
    this.socket = socket;
    this.url = url;
    this.protocol = outcome.protocol;
    this.extensions = outcome.extensions;
    this.extensionsHeader = outcome.extensionsHeader;
    this.rest = rest;
    this.config = config;
    this.connectMs = connectMs;
    this.httpVersion = httpVersion;
    // The connector removed its own listeners: without one, an error of the paused socket would throw.
    socket.on('error', ignoreError);
    socket.once('close', this.onEarlyClose);
  }

  /** True once claimed or abandoned. */
  get done(): boolean {
    return this.settled;
  }

  /** True when the backend closed the connection before it was claimed. */
  get lost(): boolean {
    return this.lostBeforeClaim || this.socket.destroyed;
  }

  /**
   * Takes the upstream over (for a pair or a tunnel): stops watching it. Throws when it was already
   * claimed or abandoned. Check {@link lost} afterwards: a lost upstream must not be started.
   */
  claim(): this {
    if (this.settled) throw new Error('upstream already claimed or abandoned');
    this.settled = true;
    this.socket.removeListener('close', this.onEarlyClose);
    return this;
  }

  /**
   * Gives the upstream up (the client went away before it could be paired): closes it with a close
   * frame (default 1001) so that the backend sees a clean departure. A no-op once claimed.
   */
  abandon(code: number = CloseCode.GOING_AWAY, reason = 'client went away'): void {
    if (this.settled) return;
    this.settled = true;
    this.socket.removeListener('close', this.onEarlyClose);
    if (this.lost) {
      for (const extension of this.extensions) extension.close();
      this.socket.destroy();
      return;
    }
    const transport = new SocketTransport(this.socket, DISCARD, this.config, this.extensions);
    transport.start(this.rest);
    transport.close(code, reason);
  }

  private readonly onEarlyClose = (): void => {
    this.lostBeforeClaim = true;
  };
}
