import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WebSocketConnection } from '../../src/server/connection.js';
import { clientClosed, closeServer, openClient, startServer, waitFor } from './helpers.js';
import { makeTlsFixture } from './tls-fixture.js';

const fixture = makeTlsFixture();

describe('wss (TLS) standalone listener', { skip: typeof fixture === 'string' ? fixture : false }, () => {
  it('echoes over TLS and reports a secure request', async () => {
    if (typeof fixture === 'string') return;
    const { server, port } = await startServer({ tls: { cert: fixture.cert, key: fixture.key } });
    let secure: boolean | undefined;
    server.on('connection', (connection: WebSocketConnection, request: { secure: boolean }) => {
      secure = request.secure;
      connection.on('message', (data: Buffer, isBinary: boolean) =>
        connection.send(data, { binary: isBinary }),
      );
    });
    try {
      const client = await openClient(`wss://127.0.0.1:${port}/`, { rejectUnauthorized: false });
      client.send('over tls');
      const [echoed] = await waitFor<[Buffer]>(client, 'message');
      assert.equal(echoed.toString(), 'over tls');
      assert.equal(secure, true);
      client.close();
      await clientClosed(client);
    } finally {
      await closeServer(server);
    }
  });
});
