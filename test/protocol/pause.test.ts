/**
 * Pausing a connection mid-chunk: the transport's backpressure relies on the protocol stopping between
 * messages and holding the rest of a chunk until it resumes, in order.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WebSocketProtocol } from '../../src/protocol/connection.js';

/** Frames written by a client-role protocol for the given texts, concatenated into one chunk. */
function clientFrames(texts: string[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const client = new WebSocketProtocol(
    { write: (d) => parts.push(d.slice()), onMessage() {} },
    { role: 'client' },
  );
  for (const text of texts) client.send(text);
  return Buffer.concat(parts);
}

describe('pause and resume', () => {
  it('stops after the message being delivered and delivers the rest of the chunk on resume', () => {
    const received: string[] = [];
    const server: WebSocketProtocol = new WebSocketProtocol(
      {
        write() {},
        onMessage(data) {
          received.push(Buffer.from(data).toString());
          if (received.length === 1) server.pause();
        },
      },
      { role: 'server' },
    );
    server.receive(clientFrames(['one', 'two', 'three']));
    assert.deepEqual(received, ['one']);
    // Bytes that arrive while paused queue behind the held ones.
    server.receive(clientFrames(['four']));
    assert.deepEqual(received, ['one']);
    server.resume();
    assert.deepEqual(received, ['one', 'two', 'three', 'four']);
  });

  it('can pause again while delivering held messages', () => {
    const received: string[] = [];
    const server: WebSocketProtocol = new WebSocketProtocol(
      {
        write() {},
        onMessage(data) {
          received.push(Buffer.from(data).toString());
          server.pause();
        },
      },
      { role: 'server' },
    );
    server.receive(clientFrames(['a', 'b', 'c']));
    assert.deepEqual(received, ['a']);
    server.resume();
    assert.deepEqual(received, ['a', 'b']);
    server.resume();
    server.resume();
    assert.deepEqual(received, ['a', 'b', 'c']);
  });

  it('fails the connection for a violation found in held bytes', () => {
    const errors: number[] = [];
    const server: WebSocketProtocol = new WebSocketProtocol(
      { write() {}, onMessage: () => server.pause(), onError: (e) => errors.push(e.closeCode) },
      { role: 'server' },
    );
    const bad = Uint8Array.of(0x83, 0x80, 1, 2, 3, 4); // reserved opcode 0x3, masked, empty
    server.receive(Buffer.concat([clientFrames(['ok']), bad]));
    assert.deepEqual(errors, []);
    server.resume();
    assert.deepEqual(errors, [1002]);
  });
});
