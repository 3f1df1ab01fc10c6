/** wss: the client over TLS against a Conduit server with a throwaway self-signed certificate. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ErrorEvent } from '../../src/client/events.js';
import { WebSocket } from '../../src/client/websocket.js';
import type { WebSocketConnection } from '../../src/server/connection.js';
import { closeServer, startServer } from '../server/helpers.js';
import { makeTlsFixture } from '../server/tls-fixture.js';
import { closeClient, Messages, nextEvent, openWebSocket } from './helpers.js';

const fixture = makeTlsFixture();

describe('wss (TLS) client', { skip: typeof fixture === 'string' ? fixture : false }, () => {
  it('connects with the CA, and refuses the certificate without it', async () => {
    if (typeof fixture === 'string') return;
    const { server, port } = await startServer({
      tls: { cert: fixture.cert, key: fixture.key },
      perMessageDeflate: true,
    });
    server.on('connection', (connection: WebSocketConnection) => {
      connection.on('message', (data: Buffer, isBinary: boolean) =>
        connection.send(data, { binary: isBinary }),
      );
    });
    try {
      // The certificate names localhost; connect to 127.0.0.1 and check it against that name.
      const ws = await openWebSocket(`wss://127.0.0.1:${port}/secure`, undefined, {
        ca: fixture.cert,
        servername: 'localhost',
        perMessageDeflate: true,
      });
      assert.match(ws.extensions, /permessage-deflate/);
      const messages = new Messages(ws);
      const big = 'secret '.repeat(50_000);
      ws.send('over tls');
      ws.send(big);
      assert.equal(await messages.next(), 'over tls');
      assert.equal(await messages.next(), big);
      assert.equal((await closeClient(ws, 1000, 'done')).wasClean, true);

      const untrusted = new WebSocket(`wss://127.0.0.1:${port}/`, [], { servername: 'localhost' });
      const error = nextEvent<ErrorEvent>(untrusted, 'error');
      const close = await nextEvent<CloseEvent>(untrusted, 'close');
      assert.match(String((await error).error), /self[- ]signed/i);
      assert.equal(close.code, 1006);

      const wrongName = new WebSocket(`wss://127.0.0.1:${port}/`, [], { ca: fixture.cert });
      const nameError = nextEvent<ErrorEvent>(wrongName, 'error');
      await nextEvent(wrongName, 'close');
      assert.equal(((await nameError).error as NodeJS.ErrnoException).code, 'ERR_TLS_CERT_ALTNAME_INVALID');
    } finally {
      await closeServer(server);
    }
  });
});
