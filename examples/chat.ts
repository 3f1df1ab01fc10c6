/**
 * Example: a chat backend on the realtime hub. Rooms are topics `chat.<room>` with presence (who is in
 * the room, join/leave events) and history (a reconnecting client receives what it missed). The server
 * announces every join itself with `hub.publish`; clients use the hub client SDK.
 *
 * Run: `node dist/examples/chat.js` (port 8080), then open `ws://127.0.0.1:8080/hub` with the SDK:
 *   const client = new HubClient('ws://127.0.0.1:8080/hub', { WebSocket });
 *   client.subscribe('chat.lobby', { onMessage: (data) => console.log(data) });
 *   await client.publish('chat.lobby', { from: 'ann', text: 'hi' }, { ack: true });
 * @module
 */
import { pathToFileURL } from 'node:url';
import { Hub } from '../src/hub/index.js';
import type { WebSocketServer } from '../src/index.js';

/** A running chat server. */
export interface ChatServer {
  /** The hub endpoint, e.g. `ws://127.0.0.1:8080/hub`. */
  url: string;
  hub: Hub;
  server: WebSocketServer;
  /** Closes every connection with 1001 and stops. */
  close(): Promise<void>;
}

/** Starts a chat server on `host:port` (port 0 picks a free one). */
export async function start(port = 0, host = '127.0.0.1'): Promise<ChatServer> {
  const hub = new Hub({
    topics: [{ match: 'chat.>', presence: true, history: { size: 200, ttlMs: 3_600_000 } }],
    // A chat message is small: refuse anything that is not.
    maxPublishBytes: 4096,
  });
  const server = hub.attach({ port, host, path: '/hub' });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.once('listening', () => resolve());
  });
  const address = server.address();
  const actual = typeof address === 'object' && address !== null ? address.port : port;
  return { url: `ws://${host}:${actual}/hub`, hub, server, close: () => hub.close() };
}

// Run directly (not imported by a test): listen on 8080.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { url } = await start(8080);
  console.log(`chat hub on ${url}`);
}
