/**
 * Example: a broadcast server. Every message a client sends goes to every connected client (the sender
 * included) with `server.broadcast`, which builds one `PreparedMessage` per message: the frame is made
 * (and, with permessage-deflate, compressed) once and the same bytes are written to every socket.
 *
 * Run: `node dist/examples/broadcast.js` (port 8080), then connect several clients to
 * `ws://127.0.0.1:8080`.
 * @module
 */
import type { Buffer } from 'node:buffer';
import { pathToFileURL } from 'node:url';
import { type WebSocketConnection, WebSocketServer } from '../src/index.js';

/** A running broadcast server. */
export interface BroadcastServer {
  /** The WebSocket URL, e.g. `ws://127.0.0.1:8080`. */
  url: string;
  /** The Conduit server (its `clients` are the broadcast audience). */
  server: WebSocketServer;
  /** Closes every connection with 1001 and stops listening. */
  close(): Promise<void>;
}

/** Starts a broadcast server on `host:port` (port 0 picks a free one). */
export function start(port = 0, host = '127.0.0.1'): Promise<BroadcastServer> {
  // perMessageDeflate shows the point of preparing: one compression per message, not one per client.
  const server = new WebSocketServer({ port, host, perMessageDeflate: true });
  server.on('connection', (connection: WebSocketConnection) => {
    connection.on('message', (data: Buffer, isBinary: boolean) => {
      server.broadcast(data, { binary: isBinary });
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.once('listening', () => {
      const address = server.address();
      const actual = typeof address === 'object' && address !== null ? address.port : port;
      resolve({
        url: `ws://${host}:${actual}`,
        server,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}

// Run directly (not imported by a test): listen on 8080.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { url } = await start(8080);
  console.log(`broadcast server on ${url}`);
}
