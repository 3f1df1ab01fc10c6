// Fan-out server on ws 8 (with bufferutil, which ws loads by itself) for bench/fanout.bench.ts: every
// connection is a subscriber, and a publication is a loop over the clients.
// Usage: node bench/servers/ws-fanout.mjs PORT   (0 picks a free port; the real one is printed)
import { WebSocket, WebSocketServer } from 'ws';
import { startPublisher } from './publisher-fanout.mjs';

const port = Number(process.argv[2] ?? 0);
const server = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: false });

server.on('connection', (socket) => {
  // A subscriber that vanishes with a reset must not end the server through an unhandled 'error'.
  socket.on('error', () => {});
});
server.on('listening', () => {
  console.log(`listening on ws://127.0.0.1:${server.address().port}`);
});
startPublisher((text) => {
  for (const client of server.clients) {
    if (client.readyState === WebSocket.OPEN) client.send(text);
  }
});
process.on('SIGTERM', () => process.exit(0));
