// Echo server on ws 8 (with bufferutil, which ws loads by itself) for the server benchmarks.
// Usage: node bench/servers/ws-echo.mjs PORT   (0 picks a free port; the real one is printed)
import { WebSocketServer } from 'ws';

const port = Number(process.argv[2] ?? 0);
const server = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: false });

server.on('connection', (socket) => {
  socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
  // Load-generator sockets vanish with resets; an unhandled 'error' must not end the server.
  socket.on('error', () => {});
});
server.on('listening', () => {
  console.log(`listening on ws://127.0.0.1:${server.address().port}`);
});
process.on('SIGTERM', () => process.exit(0));
