// Fan-out server on Conduit's hub for bench/fanout.bench.ts: every hub default, MemoryEngine, or with
// `--redis URL` the RedisEngine (the cross-node variant: one node publishes, the other fans out).
// Subscribers speak conduit.v1 and subscribe to "bench"; the stdin-driven publisher calls hub.publish.
// Usage: node bench/servers/conduit-fanout.mjs PORT [--redis URL]   (runs dist/: `npx tsc` first)
import { parseArgs } from 'node:util';
import { Hub, RedisEngine } from '../../dist/src/hub/index.js';
import { startPublisher } from './publisher-fanout.mjs';

const { values, positionals } = parseArgs({ options: { redis: { type: 'string' } }, allowPositionals: true });
const port = Number(positionals[0] ?? 0);
const hub = new Hub(values.redis === undefined ? {} : { engine: new RedisEngine({ url: values.redis }) });
const server = hub.attach({ port, host: '127.0.0.1' });

server.on('listening', async () => {
  await hub.ready();
  console.log(`listening on ws://127.0.0.1:${server.address().port}`);
});
const failed = (error) => console.error(`conduit-fanout: publish failed: ${error.message}`);
startPublisher((text) => hub.publish('bench', text).catch(failed));
process.on('SIGTERM', () => process.exit(0));
