import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type WebSocket from 'ws';
import { type BroadcastServer, start } from '../../examples/broadcast.js';
import { clientClosed, openClient, waitFor, withTimeout } from '../server/helpers.js';

/** Resolves with the next message of each client. */
function nextOfEach(clients: WebSocket[]): Promise<[Buffer, boolean][]> {
  return Promise.all(clients.map((client) => waitFor<[Buffer, boolean]>(client, 'message')));
}

describe('examples/broadcast', () => {
  it('sends each message to all 3 clients, the sender included, with its type', async () => {
    const app: BroadcastServer = await withTimeout(start(0), 5000, 'broadcast start');
    try {
      const clients = await Promise.all([1, 2, 3].map(() => openClient(app.url)));
      assert.equal(app.server.clients.size, 3);

      let received = nextOfEach(clients);
      clients[1]!.send('to everyone');
      for (const [data, isBinary] of await received) {
        assert.equal(data.toString(), 'to everyone');
        assert.equal(isBinary, false);
      }

      received = nextOfEach(clients);
      clients[2]!.send(Buffer.from([1, 2, 3, 4]));
      for (const [data, isBinary] of await received) {
        assert.deepEqual([...data], [1, 2, 3, 4]);
        assert.equal(isBinary, true);
      }
    } finally {
      await withTimeout(app.close(), 5000, 'broadcast close');
    }
  });

  it('negotiates permessage-deflate and round-trips a large compressible message', async () => {
    const app = await withTimeout(start(0), 5000, 'broadcast start');
    try {
      const clients = await Promise.all(
        [1, 2, 3].map(() => openClient(app.url, { perMessageDeflate: true })),
      );
      for (const client of clients) assert.match(client.extensions, /permessage-deflate/);
      const big = 'conduit '.repeat(20_000);
      const received = nextOfEach(clients);
      clients[0]!.send(big);
      for (const [data] of await received) assert.equal(data.toString(), big);
    } finally {
      await withTimeout(app.close(), 5000, 'broadcast close');
    }
  });

  it('stops reaching a client after it closes; close() closes the rest with 1001', async () => {
    const app = await withTimeout(start(0), 5000, 'broadcast start');
    const clients = await Promise.all([1, 2, 3].map(() => openClient(app.url)));
    const [leaver, ...stayers] = clients as [WebSocket, WebSocket, WebSocket];
    const left = clientClosed(leaver);
    leaver.close(1000);
    assert.equal((await left).code, 1000);
    // The server forgets the connection once its TCP socket closed.
    const deadline = Date.now() + 5000;
    while (app.server.clients.size !== 2 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    assert.equal(app.server.clients.size, 2);

    const received = nextOfEach(stayers);
    stayers[0]!.send('two left');
    for (const [data] of await received) assert.equal(data.toString(), 'two left');

    const closed = stayers.map((client) => clientClosed(client));
    await withTimeout(app.close(), 5000, 'broadcast close');
    for (const result of await Promise.all(closed)) assert.equal(result.code, 1001);
  });
});
