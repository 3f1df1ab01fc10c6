// Echo server on uWebSockets.js (the @trufflesuite build) for the server benchmarks.
// Usage: node bench/servers/uws-echo.mjs PORT   (0 picks a free port; the real one is printed)
import { createRequire } from 'node:module';

const uws = createRequire(import.meta.url)('@trufflesuite/uws-js-unofficial');
const port = Number(process.argv[2] ?? 0);

uws
  .App()
  .ws('/*', {
    compression: uws.DISABLED,
    // The default (16 KB) would reject the 64 KB scenario; match ws's and Conduit's generous limits.
    maxPayloadLength: 16 * 1024 * 1024,
    maxBackpressure: 16 * 1024 * 1024,
    idleTimeout: 0,
    message: (ws, message, isBinary) => ws.send(message, isBinary),
  })
  .listen('127.0.0.1', port, (listenSocket) => {
    if (!listenSocket) {
      console.error(`uws-echo: cannot listen on port ${port}`);
      process.exit(1);
    }
    console.log(`listening on ws://127.0.0.1:${uws.us_socket_local_port(listenSocket)}`);
  });
process.on('SIGTERM', () => process.exit(0));
