/**
 * A large upload to an echo server, written with the drain loop the client docs show: the server stops
 * reading while its replies back up, so the client must keep reading or both ends stall.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { WebSocketConnection } from '../../src/server/connection.js';
import type { WebSocketServer } from '../../src/server/server.js';
import { closeServer, startServer } from '../server/helpers.js';
import { closeClient, nextEvent, openWebSocket, withTimeout } from './helpers.js';

const CHUNK = 256 * 1024;
const COUNT = 64;

describe('large echo exchange', () => {
  let server: WebSocketServer;
  let url: string;
  before(async () => {
    ({ server, url } = await startServer());
    server.on('connection', (connection: WebSocketConnection) => {
      connection.on('message', (data: Buffer, isBinary: boolean) =>
        connection.send(data, { binary: isBinary }),
      );
    });
  });
  after(() => closeServer(server));

  it('uploads 16 MiB in 256 KiB messages while the echoes come back, without stalling', async () => {
    const ws = await openWebSocket(url, undefined, { binaryType: 'nodebuffer' });
    let received = 0;
    let bytes = 0;
    const allBack = new Promise<void>((resolve) => {
      ws.addEventListener('message', (event) => {
        received++;
        bytes += (event as MessageEvent<Buffer>).data.length;
        if (received === COUNT) resolve();
      });
    });
    const upload = (async () => {
      for (let i = 0; i < COUNT; i++) {
        ws.send(Buffer.alloc(CHUNK, i));
        // The drain loop: wait whenever the client's own buffer is over its high water mark.
        if (ws.bufferedAmount > CHUNK) await nextEvent(ws, 'drain', 10_000);
      }
    })();
    await withTimeout(Promise.all([upload, allBack]), 30_000, 'large echo exchange');
    assert.equal(received, COUNT);
    assert.equal(bytes, COUNT * CHUNK);
    await closeClient(ws);
  });
});
