/**
 * HTTP/2 on a standalone WebSocketServer's own port (`http2: true`), next to its HTTP/1.1 upgrades: over
 * TLS the client's ALPN choice tells them apart (RFC 7301), in cleartext the first bytes do (h2c with
 * prior knowledge, see http2-preface.ts). HTTP/2 connections go to a private `node:http2` server that
 * never listens itself and advertises SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3).
 * @module
 */
import type { Buffer } from 'node:buffer';
import {
  createServer as createHttp2Server,
  type Http2Server,
  type IncomingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
  type ServerOptions,
} from 'node:http2';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { TimerWheel } from '../transport/timer-wheel.js';
import type { Http2Endpoint } from './http2-endpoint.js';
import { type PrefaceSink, PrefaceSniffer } from './http2-preface.js';

/** ALPN protocols a TLS listener offers with `http2`, most preferred first. */
export const HTTP2_ALPN: readonly string[] = ['h2', 'http/1.1'];

/** Settings of the private HTTP/2 server. */
export interface Http2ListenerOptions {
  /** `node:http2` server options; `settings.enableConnectProtocol` is always set. */
  server: ServerOptions;
  /** Largest header list accepted (SETTINGS_MAX_HEADER_LIST_SIZE), as for HTTP/1.1 heads. */
  maxHeaderSize: number;
  wheel: TimerWheel;
  /** Bounds the wait for a cleartext client's first bytes, in ms (0: none). */
  timeout: number;
  /** Takes a socket that speaks HTTP/1.1, with the bytes already read from it. */
  http1(socket: Socket, head: Buffer | null): void;
}

/** The HTTP/2 side of a standalone listener. */
export class Http2Listener implements PrefaceSink {
  private readonly endpoint: Http2Endpoint;
  private readonly options: Http2ListenerOptions;
  private readonly server: Http2Server;
  private readonly sessions = new Set<ServerHttp2Session>();
  private readonly sniffers = new Set<PrefaceSniffer>();

  constructor(endpoint: Http2Endpoint, options: Http2ListenerOptions) {
    this.endpoint = endpoint;
    this.options = options;
    const base = options.server;
    this.server = createHttp2Server({
      ...base,
      settings: {
        maxHeaderListSize: options.maxHeaderSize,
        ...base.settings,
        enableConnectProtocol: true,
      },
    });
    this.server.on('stream', this.onStream);
    this.server.on('session', this.onSession);
  }

  /** Takes a socket the listener accepted: HTTP/2 stays here, HTTP/1.1 goes to `options.http1`. */
  route(socket: Socket): void {
    if ((socket as TLSSocket).encrypted === true) {
      if ((socket as TLSSocket).alpnProtocol === 'h2') this.adopt(socket, null);
      else this.options.http1(socket, null);
      return;
    }
    this.sniffers.add(new PrefaceSniffer(socket, this, this.options.wheel, this.options.timeout));
  }

  /** Open HTTP/2 sessions (TCP connections). */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /**
   * Stops: sockets still being sniffed are destroyed; sessions get GOAWAY and close once their streams
   * (the WebSockets, which the server closes with 1001) are done.
   */
  close(): void {
    for (const sniffer of this.sniffers) sniffer.socket.destroy();
    for (const session of this.sessions) session.close();
  }

  // --- PrefaceSink -------------------------------------------------------------------------------------

  /** @internal */
  http1(sniffer: PrefaceSniffer, head: Buffer): void {
    this.sniffers.delete(sniffer);
    this.options.http1(sniffer.socket, head);
  }

  /** @internal */
  http2(sniffer: PrefaceSniffer, head: Buffer): void {
    this.sniffers.delete(sniffer);
    this.adopt(sniffer.socket, head);
  }

  /** @internal */
  abandoned(sniffer: PrefaceSniffer): void {
    this.sniffers.delete(sniffer);
  }

  /** Hands a connection to the HTTP/2 server, the bytes already read put back first. */
  private adopt(socket: Socket, head: Buffer | null): void {
    socket.setNoDelay(true);
    if (head !== null) {
      socket.pause();
      socket.unshift(head);
    }
    this.server.emit('connection', socket);
  }

  private readonly onStream = (
    stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    _flags: number,
    raw?: string[],
  ): void => {
    if (this.endpoint.claims(headers)) this.endpoint.handle(stream, headers, raw);
    else this.endpoint.answerOther(stream, headers);
  };

  private readonly onSession = (session: ServerHttp2Session): void => {
    this.sessions.add(session);
    session.once('close', () => this.sessions.delete(session));
  };
}
