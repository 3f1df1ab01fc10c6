/**
 * A server connection whose WebSocket runs on an HTTP/2 stream (RFC 8441): the same API and transport
 * as over HTTP/1.1 (an `Http2Stream` stands in for the socket), plus what tells the two apart.
 * @module
 */
import type { ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import { type ConnectionSetup, WebSocketConnection } from './connection.js';

/** The HTTP version a connection's opening handshake used. */
export type HttpVersion = '1.1' | '2';

/** A connection set up by an HTTP/2 extended CONNECT; `connection.stream` is its HTTP/2 stream. */
export class Http2WebSocketConnection extends WebSocketConnection {
  /** The HTTP/2 stream the WebSocket runs on (do not read from or write to it). */
  readonly stream: ServerHttp2Stream;
  private readonly sessionSocket: Socket;

  /**
   * @internal The transport runs on `stream`; `sessionSocket` is the TCP or TLS connection of its session,
   * `remoteAddress` that connection's peer.
   */
  constructor(
    setup: Omit<ConnectionSetup, 'socket'>,
    stream: ServerHttp2Stream,
    sessionSocket: Socket,
    remoteAddress: string,
  ) {
    // The transport only uses what Http2Stream shares with net.Socket (see socket-transport.ts).
    super({ ...setup, socket: stream as unknown as Socket });
    (this as { remoteAddress: string }).remoteAddress = remoteAddress;
    this.stream = stream;
    this.sessionSocket = sessionSocket;
  }

  /** Always '2' (a getter: no per-connection field). */
  override get httpVersion(): '2' {
    return '2';
  }

  /** The HTTP/2 session's TCP or TLS socket (shared with the session's other streams). */
  override get socket(): Socket {
    return this.sessionSocket;
  }
}

/** The HTTP version of `connection`'s opening handshake. */
export function httpVersionOf(connection: WebSocketConnection): HttpVersion {
  return connection instanceof Http2WebSocketConnection ? '2' : '1.1';
}
