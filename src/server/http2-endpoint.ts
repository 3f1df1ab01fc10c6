/**
 * A WebSocketServer's HTTP/2 side: it takes the extended CONNECT streams meant for it, runs their
 * handshakes, answers the streams no WebSocket server takes when nobody else will, and cancels the
 * handshakes in flight when the server closes.
 * @module
 */
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { type Http2ConnectionCallback, Http2Handshake, type Http2Host } from './http2-handshake.js';
import { claimsStream, createHttp2Request } from './http2-request.js';
import { respondRefusal } from './http2-response.js';
import { pathnameOf } from './upgrade-request.js';

/** `headers` as the flat name, value, ... list `node:http2` passes as rawHeaders. */
function flatten(headers: IncomingHttpHeaders): string[] {
  const raw: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (Array.isArray(value)) for (const item of value) raw.push(name, item);
    else if (value !== undefined) raw.push(name, String(value));
  }
  return raw;
}

/** The HTTP/2 side of one WebSocketServer. */
export class Http2Endpoint {
  private readonly host: Http2Host;
  private readonly pending = new Set<Http2Handshake>();

  constructor(host: Http2Host) {
    this.host = host;
  }

  /** True when this server takes the stream: a CONNECT to its `path` (see `claimsStream`). */
  claims(headers: IncomingHttpHeaders): boolean {
    return claimsStream(this.host.config.path, headers);
  }

  /** Runs the opening handshake on a CONNECT stream; `callback` replaces the 'connection' event. */
  handle(
    stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    rawHeaders?: readonly string[],
    callback?: Http2ConnectionCallback,
  ): void {
    // A stream reset before it got here has nothing left to answer (and no 'close' to come).
    if (stream.destroyed) return;
    const request = createHttp2Request(stream, headers, rawHeaders ?? flatten(headers));
    const handshake = new Http2Handshake(this.host, request, callback, this.forget);
    this.pending.add(handshake);
    handshake.run(headers);
  }

  /**
   * Answers a stream that no WebSocket server takes, for a server that is the only one listening: 404 for
   * a WebSocket at another path; for anything else 405, naming CONNECT when the path is a WebSocket's.
   */
  answerOther(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    const path = this.host.config.path;
    const target = headers[':path'];
    const elsewhere = path !== undefined && target !== undefined && pathnameOf(target) !== path;
    const address = stream.session?.socket?.remoteAddress ?? '';
    if (headers[':protocol'] !== undefined || elsewhere) {
      this.host.refused('not_found', 404, address);
      respondRefusal(stream, 404, 'Not Found');
      return;
    }
    this.host.refused('not_websocket', 405, address);
    const allow = headers[':method'] === 'CONNECT' ? undefined : { allow: 'CONNECT' };
    respondRefusal(stream, 405, 'This endpoint speaks WebSocket (extended CONNECT) only', allow);
  }

  /** Handshakes still running. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Resets the streams of the handshakes in flight (the server is closing). */
  close(): void {
    for (const handshake of this.pending) handshake.cancel();
  }

  private readonly forget = (handshake: Http2Handshake): void => {
    this.pending.delete(handshake);
  };
}
