// Fan-out server on Socket.IO 4 for bench/fanout.bench.ts: default settings except the WebSocket-only
// transport; a publication is io.emit('m', text) to every socket of the main namespace. With
// `--redis URL` it uses @socket.io/redis-adapter (ioredis clients): the cross-node variant, where one
// node emits and the other delivers to its subscribers.
// Usage: node bench/servers/socketio-fanout.mjs PORT [--redis URL]   (0 picks a free port)
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { startPublisher } from './publisher-fanout.mjs';

const { values, positionals } = parseArgs({ options: { redis: { type: 'string' } }, allowPositionals: true });
const port = Number(positionals[0] ?? 0);
const http = createServer();
const io = new Server(http, { transports: ['websocket'] });

if (values.redis !== undefined) {
  const publishing = new Redis(values.redis);
  io.adapter(createAdapter(publishing, publishing.duplicate()));
}
http.listen(port, '127.0.0.1', () => {
  console.log(`listening on ws://127.0.0.1:${http.address().port}`);
});
startPublisher((text) => io.emit('m', text));
process.on('SIGTERM', () => process.exit(0));
