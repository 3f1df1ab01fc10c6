import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WebSocketConnection } from '../../src/server/connection.js';
import { SendCallbacks } from '../../src/transport/send-callbacks.js';
import {
  clientClosed,
  closeServer,
  openClient,
  rawUpgrade,
  startServer,
  waitFor,
} from '../server/helpers.js';

describe('write batching', () => {
  it('sends every frame written in one tick in a single write of one buffer', async () => {
    const { server, port } = await startServer();
    const connected = waitFor<[WebSocketConnection]>(server, 'connection');
    const { socket } = await rawUpgrade(port);
    try {
      const [connection] = await connected;
      const raw = connection.socket as unknown as {
        _writev: (chunks: unknown[], cb: () => void) => void;
        _write: (...args: unknown[]) => void;
      };
      const calls: number[] = [];
      const writev = raw._writev.bind(raw);
      const write = raw._write.bind(raw);
      raw._writev = (chunks, cb) => {
        calls.push(chunks.length);
        writev(chunks, cb);
      };
      raw._write = (...args) => {
        calls.push(1);
        write(...args);
      };
      for (let i = 0; i < 50; i++) connection.send(`message ${i}`);
      assert.deepEqual(calls, [], 'nothing is written before the end of the tick');
      await new Promise((resolve) => process.nextTick(resolve));
      // One `_write` of one buffer: the 50 small frames were copied together, not handed over one by one.
      assert.deepEqual(calls, [1]);
      // The bytes are the 50 frames, in order.
      let received = Buffer.alloc(0);
      // 'message 0'..'message 9' are 11-byte frames, the other 40 are 12 bytes.
      while (received.length < 10 * 11 + 40 * 12) {
        const [chunk] = await waitFor<[Buffer]>(socket, 'data');
        received = Buffer.concat([received, chunk]);
      }
      assert.equal(received[0], 0x81);
      assert.equal(received.subarray(2, 11).toString(), 'message 0');
      assert.equal(received.subarray(-10).toString(), 'message 49');
    } finally {
      socket.destroy();
      await closeServer(server);
    }
  });

  it('hands received payloads out as Buffers without copying', async () => {
    const { server, url } = await startServer();
    try {
      const connected = waitFor<[WebSocketConnection]>(server, 'connection');
      const client = await openClient(url);
      const [connection] = await connected;
      const message = waitFor<[Buffer]>(connection, 'message');
      client.send(Buffer.alloc(10_000, 7));
      const [data] = await message;
      assert.ok(Buffer.isBuffer(data));
      assert.equal(data.length, 10_000);
      client.close();
      await clientClosed(client);
    } finally {
      await closeServer(server);
    }
  });
});

describe('SendCallbacks', () => {
  it('runs callbacks in order once their offset is flushed, and fails the rest', () => {
    const callbacks = new SendCallbacks();
    const log: string[] = [];
    callbacks.push(10, () => log.push('a'));
    callbacks.push(20, () => log.push('b'));
    callbacks.push(30, (error) => log.push(`c:${error?.message}`));
    callbacks.runUpTo(19);
    assert.deepEqual(log, ['a']);
    callbacks.runUpTo(20);
    assert.deepEqual(log, ['a', 'b']);
    assert.equal(callbacks.length, 1);
    callbacks.failAll(new Error('gone'));
    assert.deepEqual(log, ['a', 'b', 'c:gone']);
    assert.equal(callbacks.length, 0);
  });
});
