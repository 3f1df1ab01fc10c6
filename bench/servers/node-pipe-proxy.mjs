// The least a proxy on node:net can do, for the gateway benchmark's "Node floor" row: accept, dial the
// backend, and pipe the bytes both ways (the upgrade included) without looking at them. Not a gateway:
// no routing, no limits, no frames; only a measure of what Node's sockets cost on their own, so that a
// ratio no Node proxy can reach is recognised as such.
// Usage: node bench/servers/node-pipe-proxy.mjs PORT BACKEND_PORT   (PORT 0 picks a free port)
import { connect, createServer } from 'node:net';

const port = Number(process.argv[2] ?? 0);
const backendPort = Number(process.argv[3]);

const server = createServer({ noDelay: true }, (client) => {
  const backend = connect({ host: '127.0.0.1', port: backendPort, noDelay: true });
  client.pipe(backend).pipe(client);
  const close = () => {
    client.destroy();
    backend.destroy();
  };
  client.on('error', close).on('close', close);
  backend.on('error', close).on('close', close);
});
server.listen(port, '127.0.0.1', () => {
  console.log(`listening on ws://127.0.0.1:${server.address().port}`);
});
process.on('SIGTERM', () => process.exit(0));
