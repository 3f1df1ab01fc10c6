// Fan-out server on uWebSockets.js (the @trufflesuite build) for bench/fanout.bench.ts: every
// connection subscribes to the "bench" topic when it opens; a publication is app.publish (uWS's own
// topic tree, which batches per subscriber). Usage: node bench/servers/uws-fanout.mjs PORT
import { createRequire } from 'node:module';
import { startPublisher } from './publisher-fanout.mjs';

const uws = createRequire(import.meta.url)('@trufflesuite/uws-js-unofficial');
const port = Number(process.argv[2] ?? 0);

const app = uws.App().ws('/*', {
  compression: uws.DISABLED,
  // Above maxBackpressure uWS drops a subscriber's publications; the 64 KB default would drop at bursts
  // that the other servers queue. The same limit as the echo benchmark's server.
  maxBackpressure: 16 * 1024 * 1024,
  open: (ws) => ws.subscribe('bench'),
});
app.listen('127.0.0.1', port, (listenSocket) => {
  if (!listenSocket) {
    console.error(`uws-fanout: cannot listen on port ${port}`);
    process.exit(1);
  }
  console.log(`listening on ws://127.0.0.1:${uws.us_socket_local_port(listenSocket)}`);
});
startPublisher((text) => app.publish('bench', text, false));
process.on('SIGTERM', () => process.exit(0));
