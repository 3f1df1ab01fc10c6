import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type EchoServer, start } from '../../examples/echo-server.js';
import { WebSocket } from '../../src/client/websocket.js';
import { closeOf, Messages, openWebSocket } from '../client/helpers.js';
import { withTimeout } from '../server/helpers.js';

describe('examples/echo-server', () => {
  it('echoes text and binary to Conduit clients, and close() closes them with 1001', async () => {
    const server: EchoServer = await withTimeout(start(0), 5000, 'echo start');
    try {
      assert.match(server.url, /^ws:\/\/127\.0\.0\.1:\d+$/);
      const client = await openWebSocket(server.url);
      client.binaryType = 'arraybuffer';
      const messages = new Messages(client);
      client.send('ping?');
      assert.equal(await messages.next<string>(), 'ping?');
      client.send(new Uint8Array([9, 8, 7]));
      const bytes = await messages.next<ArrayBuffer>();
      assert.ok(bytes instanceof ArrayBuffer, 'binary stays binary');
      assert.deepEqual([...new Uint8Array(bytes)], [9, 8, 7]);

      const closed = closeOf(client);
      await withTimeout(server.close(), 5000, 'server.close');
      const event = await closed;
      assert.equal(event.code, 1001);
      assert.equal(client.readyState, WebSocket.CLOSED);
    } finally {
      await server.close();
    }
  });

  it('answers every client independently', async () => {
    const server = await withTimeout(start(0), 5000, 'echo start');
    try {
      const clients = await Promise.all([openWebSocket(server.url), openWebSocket(server.url)]);
      const inboxes = clients.map((client) => new Messages(client));
      clients.forEach((client, i) => {
        client.send(`from ${i}`);
      });
      assert.deepEqual(await Promise.all(inboxes.map((inbox) => inbox.next<string>())), ['from 0', 'from 1']);
      for (const client of clients) {
        const closed = closeOf(client);
        client.close(1000);
        assert.equal((await closed).code, 1000);
      }
    } finally {
      await withTimeout(server.close(), 5000, 'server.close');
    }
  });
});
