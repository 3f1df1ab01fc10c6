/**
 * Example: Express 5 and Conduit on one port. `http.createServer(app)` serves the ordinary routes, and a
 * `WebSocketServer` attached to the same `http.Server` with `path: '/ws'` takes the upgrade requests to
 * that path (Node hands them to the 'upgrade' event, never to Express). The WebSocket side echoes.
 *
 * Run: `node dist/examples/express.js` (port 8080), then `curl http://127.0.0.1:8080/hello` and connect
 * a WebSocket client to `ws://127.0.0.1:8080/ws`.
 * @module
 */
import type { Buffer } from 'node:buffer';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import express, { type Request, type Response } from 'express';
import { type WebSocketConnection, WebSocketServer } from '../src/index.js';

/** A running app: its URLs and a graceful close. */
export interface RunningApp {
  /** The WebSocket endpoint, e.g. `ws://127.0.0.1:8080/ws`. */
  url: string;
  /** The HTTP base URL, e.g. `http://127.0.0.1:8080`. */
  httpUrl: string;
  /** Closes the WebSocket connections with 1001, then the HTTP server. */
  close(): Promise<void>;
}

/** The Express app: ordinary HTTP routes only. */
function createApp(): express.Express {
  const app = express();
  app.get('/hello', (_req: Request, res: Response) => {
    res.json({ hello: 'world', websocket: '/ws' });
  });
  return app;
}

/** Echoes every message with its type (text stays text, binary stays binary). */
function echo(connection: WebSocketConnection): void {
  connection.on('message', (data: Buffer, isBinary: boolean) => connection.send(data, { binary: isBinary }));
}

function listen(http: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, host, () => {
      http.off('error', reject);
      resolve(http.address() as AddressInfo);
    });
  });
}

/** Starts Express and the WebSocket endpoint on `host:port` (port 0 picks a free one). */
export async function start(port = 0, host = '127.0.0.1'): Promise<RunningApp> {
  const http = createServer(createApp());
  // Attached mode: Conduit listens to http's 'upgrade' event; other paths get 404.
  const wss = new WebSocketServer({ server: http, path: '/ws' });
  wss.on('connection', echo);
  const address = await listen(http, port, host);
  const base = `${host}:${address.port}`;
  return {
    url: `ws://${base}/ws`,
    httpUrl: `http://${base}`,
    async close() {
      // Close the WebSockets first: an upgraded socket keeps the http.Server's close() waiting.
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve, reject) =>
        http.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
}

// Run directly (not imported by a test): listen on 8080.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { url, httpUrl } = await start(8080);
  console.log(`HTTP on ${httpUrl}/hello`);
  console.log(`WebSocket on ${url}`);
}
