/**
 * Example: Fastify 5 and Conduit on one port. `app.server` is Fastify's underlying `http.Server`; its
 * 'upgrade' event receives the WebSocket upgrade requests (Fastify's router never sees them), and a
 * `noServer` `WebSocketServer` completes the ones for `/ws` with `handleUpgrade`. The WebSocket side
 * echoes.
 *
 * Run: `node dist/examples/fastify.js` (port 8080), then `curl http://127.0.0.1:8080/hello` and connect
 * a WebSocket client to `ws://127.0.0.1:8080/ws`.
 * @module
 */
import type { Buffer } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { pathToFileURL } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import { type UpgradeRequest, type WebSocketConnection, WebSocketServer } from '../src/index.js';

/** A running app: its URLs and a graceful close. */
export interface RunningApp {
  /** The WebSocket endpoint, e.g. `ws://127.0.0.1:8080/ws`. */
  url: string;
  /** The HTTP base URL, e.g. `http://127.0.0.1:8080`. */
  httpUrl: string;
  /** Closes the WebSocket connections with 1001, then Fastify. */
  close(): Promise<void>;
}

/** Echoes every message with its type (text stays text, binary stays binary). */
function echo(connection: WebSocketConnection): void {
  connection.on('message', (data: Buffer, isBinary: boolean) => connection.send(data, { binary: isBinary }));
}

/** Routes upgrade requests by path: `/ws` to `wss`, anything else gets 404 (RFC 6455 §4.2.2 allows any HTTP error). */
function routeUpgrades(app: FastifyInstance, wss: WebSocketServer): void {
  app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const { pathname } = new URL(req.url ?? '/', 'http://localhost');
    if (pathname !== '/ws') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    // noServer mode emits no 'connection' for handleUpgrade: emit it so there is one code path.
    wss.handleUpgrade(req, socket, head, (connection: WebSocketConnection, request: UpgradeRequest) => {
      wss.emit('connection', connection, request);
    });
  });
}

/** Starts Fastify and the WebSocket endpoint on `host:port` (port 0 picks a free one). */
export async function start(port = 0, host = '127.0.0.1'): Promise<RunningApp> {
  const app = Fastify();
  app.get('/hello', async () => ({ hello: 'world', websocket: '/ws' }));

  const wss = new WebSocketServer({ noServer: true });
  wss.on('connection', echo);
  routeUpgrades(app, wss);
  // preClose runs before Fastify closes its server: an open upgraded socket would keep that waiting.
  app.addHook('preClose', (done) => {
    wss.close(() => done());
  });

  await app.listen({ port, host });
  const address = app.server.address() as AddressInfo;
  const base = `${host}:${address.port}`;
  return {
    url: `ws://${base}/ws`,
    httpUrl: `http://${base}`,
    close: () => app.close(),
  };
}

// Run directly (not imported by a test): listen on 8080.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { url, httpUrl } = await start(8080);
  console.log(`HTTP on ${httpUrl}/hello`);
  console.log(`WebSocket on ${url}`);
}
