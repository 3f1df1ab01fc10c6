import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WebSocketConnection } from '../../src/server/connection.js';
import { closeServer, openClient, startServer, waitFor } from './helpers.js';

describe('text messages sent as strings', () => {
  it('arrive intact for every length form and for multi-byte UTF-8', async () => {
    const { server, url } = await startServer();
    const connected = waitFor<[WebSocketConnection]>(server, 'connection');
    const client = await openClient(url);
    try {
      const [connection] = await connected;
      // Around the 7/16/64-bit length boundaries (RFC 6455 §5.2) and the single-buffer limit of 4096 bytes.
      const texts = ['', 'a', 'x'.repeat(125), 'x'.repeat(126), 'é'.repeat(2048), 'y'.repeat(4097)];
      texts.push('z'.repeat(65_536), `${'ü'.repeat(40_000)}🙂`);
      const received: string[] = [];
      const all = new Promise<void>((resolve) => {
        client.on('message', (data, isBinary) => {
          assert.equal(isBinary, false);
          received.push(data.toString());
          if (received.length === texts.length) resolve();
        });
      });
      for (const text of texts) connection.send(text);
      await all;
      assert.deepEqual(received, texts);
    } finally {
      client.terminate();
      await closeServer(server);
    }
  });
});
