/**
 * WebSocketServers attached to an application's `node:http2` server (`http2.createServer` or
 * `createSecureServer`, with `settings: { enableConnectProtocol: true }`). One listener pair per HTTP/2
 * server, whatever the number of WebSocketServers sharing it by path:
 *
 * - a 'stream' listener, put first, hands each CONNECT stream to the server whose path it targets;
 * - a 'connect' listener keeps the compatibility layer of `node:http2` (active once the application
 *   listens to 'request') from answering 405 to the streams a WebSocketServer took: without any
 *   'connect' listener it would.
 *
 * Streams no WebSocketServer takes stay the application's; when nobody else listens they are answered
 * here (404 for a WebSocket at another path, else 405 as `node:http2` would).
 * @module
 */
import type {
  Http2SecureServer,
  Http2Server,
  Http2ServerRequest,
  IncomingHttpHeaders,
  ServerHttp2Stream,
} from 'node:http2';
import type { Http2Endpoint } from './http2-endpoint.js';

/** An HTTP/2 server, cleartext (h2c) or TLS. */
export type AnyHttp2Server = Http2Server | Http2SecureServer;

/** True for `node:http2` servers (they have `updateSettings`; `http`/`https` servers do not). */
export function isHttp2Server(server: object): server is AnyHttp2Server {
  return typeof (server as Partial<Http2Server>).updateSettings === 'function';
}

/** The WebSocketServers (their HTTP/2 sides) of one HTTP/2 server, and the listeners that serve them. */
class Attachment {
  readonly endpoints: Http2Endpoint[] = [];
  private readonly server: AnyHttp2Server;
  /** Streams a WebSocketServer took, so that the 'connect' event for them is ignored. */
  private readonly taken = new WeakSet<ServerHttp2Stream>();

  constructor(server: AnyHttp2Server) {
    this.server = server;
    server.prependListener('stream', this.onStream);
    server.on('connect', this.onConnect);
  }

  detach(): void {
    this.server.off('stream', this.onStream);
    this.server.off('connect', this.onConnect);
  }

  private readonly onStream = (
    stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    _flags: number,
    rawHeaders?: string[],
  ): void => {
    if (headers[':method'] !== 'CONNECT') return;
    const endpoint = this.endpoints.find((candidate) => candidate.claims(headers));
    if (endpoint !== undefined) {
      this.taken.add(stream);
      endpoint.handle(stream, headers, rawHeaders);
      return;
    }
    // Without the compatibility layer or another 'stream' listener nobody would answer this stream.
    if (this.server.listenerCount('stream') === 1) this.endpoints[0]?.answerOther(stream, headers);
  };

  private readonly onConnect = (request: Http2ServerRequest): void => {
    const stream = request.stream;
    if (this.taken.has(stream)) return;
    // The application's own 'connect' listeners answer the rest; without one, answer as node:http2 would.
    if (this.server.listenerCount('connect') === 1) this.endpoints[0]?.answerOther(stream, request.headers);
  };
}

const attachments = new WeakMap<AnyHttp2Server, Attachment>();

/** Attaches a WebSocketServer's HTTP/2 side to `server`. */
export function attachHttp2(server: AnyHttp2Server, endpoint: Http2Endpoint): void {
  let attachment = attachments.get(server);
  if (attachment === undefined) {
    attachment = new Attachment(server);
    attachments.set(server, attachment);
  }
  attachment.endpoints.push(endpoint);
}

/** Detaches it again; the last one removes the listeners. */
export function detachHttp2(server: AnyHttp2Server, endpoint: Http2Endpoint): void {
  const attachment = attachments.get(server);
  if (attachment === undefined) return;
  const index = attachment.endpoints.indexOf(endpoint);
  if (index !== -1) attachment.endpoints.splice(index, 1);
  if (attachment.endpoints.length > 0) return;
  attachment.detach();
  attachments.delete(server);
}
