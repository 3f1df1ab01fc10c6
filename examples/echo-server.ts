/**
 * Example: the smallest standalone echo server. Conduit accepts TCP itself and answers every message
 * with the same bytes and the same type (text stays text, binary stays binary).
 *
 * Run: `node dist/examples/echo-server.js` (port 8080), then connect to `ws://127.0.0.1:8080`.
 * @module
 */
import type { Buffer } from 'node:buffer';
import { pathToFileURL } from 'node:url';
import { type WebSocketConnection, WebSocketServer } from '../src/index.js';

/** A running echo server. */
export interface EchoServer {
  /** The WebSocket URL, e.g. `ws://127.0.0.1:8080`. */
  url: string;
  /** Closes every connection with 1001 and stops listening. */
  close(): Promise<void>;
}

/** Starts an echo server on `host:port` (port 0 picks a free one). */
export function start(port = 0, host = '127.0.0.1'): Promise<EchoServer> {
  const server = new WebSocketServer({ port, host });
  server.on('connection', (connection: WebSocketConnection) => {
    connection.on('message', (data: Buffer, isBinary: boolean) =>
      connection.send(data, { binary: isBinary }),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.once('listening', () => {
      const address = server.address();
      const actual = typeof address === 'object' && address !== null ? address.port : port;
      resolve({
        url: `ws://${host}:${actual}`,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}

// Run directly (not imported by a test): listen on 8080.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { url } = await start(8080);
  console.log(`echo server on ${url}`);
}
