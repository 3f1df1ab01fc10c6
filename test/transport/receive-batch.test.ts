import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import { describe, it } from 'node:test';
import type { WebSocketConnection } from '../../src/server/connection.js';
import { allocateFrame, concatFrames, POOLED_MAX } from '../../src/transport/frame-pool.js';
import {
  addToBatch,
  type BatchTarget,
  batchedBytes,
  batchOwner,
  receiveBatched,
} from '../../src/transport/receive-batch.js';
import { holdForTick } from '../../src/transport/write-batcher.js';
import { clientFrame, closeServer, rawUpgrade, startServer, waitFor } from '../server/helpers.js';

/** A batch target that records what it writes and what its socket was asked to do. */
type Recorder = BatchTarget & { log: string[] };

function recorder(parse: (target: Recorder) => void): Recorder {
  const log: string[] = [];
  const socket = { cork: () => log.push('cork'), uncork: () => log.push('uncork') } as unknown as Socket;
  const target: Recorder = {
    socket,
    held: null,
    heldBytes: 0,
    log,
    writeOut: (data: Uint8Array) => log.push(Buffer.from(data).toString()),
    checkBackpressure: () => log.push('check'),
    parseChunk: () => parse(target),
  };
  return target;
}

describe('receive batch', () => {
  it('writes the frames a connection held for the tick before the replies to its own chunk', () => {
    const target = recorder(() => addToBatch(Buffer.from('reply')));
    holdForTick(target, Buffer.from('held 1'));
    holdForTick(target, Buffer.from('held 2'));
    receiveBatched(target, new Uint8Array(1));
    assert.deepEqual(target.log, ['held 1held 2', 'check', 'reply', 'check']);
    assert.equal(target.heldBytes, 0);
  });

  it('writes a single frame as it is, and small frames as one copy, after the chunk is parsed', () => {
    const single = Buffer.from('one');
    const one = recorder(() => addToBatch(single));
    receiveBatched(one, new Uint8Array(1));
    assert.deepEqual(one.log, ['one', 'check']);

    const many = recorder((target) => {
      addToBatch(Buffer.from('a'));
      addToBatch(Buffer.from('bc'));
      assert.equal(batchedBytes(target), 3);
      assert.deepEqual(target.log, [], 'nothing leaves while the chunk is parsed');
    });
    receiveBatched(many, new Uint8Array(1));
    assert.deepEqual(many.log, ['abc', 'check']);
    assert.equal(batchOwner(), null);
    assert.equal(batchedBytes(many), 0);
  });

  it('writes large batches frame by frame inside one cork', () => {
    const big = Buffer.alloc(POOLED_MAX, 'x');
    const target = recorder(() => {
      addToBatch(Buffer.from('h'));
      addToBatch(big);
    });
    receiveBatched(target, new Uint8Array(1));
    assert.deepEqual(target.log, ['cork', 'h', big.toString(), 'uncork', 'check']);
  });

  it('flushes the outer batch before a nested one and still flushes when parsing throws', () => {
    const inner = recorder(() => addToBatch(Buffer.from('inner')));
    const outer = recorder(() => {
      addToBatch(Buffer.from('outer'));
      receiveBatched(inner, new Uint8Array(1));
      assert.equal(batchOwner(), outer, 'the outer batch is open again');
      addToBatch(Buffer.from('again'));
      throw new Error('handler failed');
    });
    assert.throws(() => receiveBatched(outer, new Uint8Array(1)), /handler failed/);
    assert.deepEqual(outer.log, ['outer', 'check', 'again', 'check']);
    assert.deepEqual(inner.log, ['inner', 'check']);
    assert.equal(batchOwner(), null);
  });
});

describe('frame pool', () => {
  it('hands out non-overlapping frames of the requested size', () => {
    const a = allocateFrame(100);
    const b = allocateFrame(200);
    a.fill(1);
    b.fill(2);
    assert.equal(a.length, 100);
    assert.equal(b.length, 200);
    assert.ok(a.every((byte) => byte === 1));
    const large = allocateFrame(POOLED_MAX + 1);
    assert.equal(large.length, POOLED_MAX + 1);
    assert.deepEqual([...concatFrames([Buffer.from([1, 2]), Buffer.from([3])], 3)], [1, 2, 3]);
  });
});

describe('replies to one received chunk', () => {
  it('leave in a single write, in order', async () => {
    const { server, port } = await startServer();
    const connected = waitFor<[WebSocketConnection]>(server, 'connection');
    const { socket } = await rawUpgrade(port);
    try {
      const [connection] = await connected;
      connection.on('message', (data: Buffer) => connection.send(data, { binary: false }));
      const raw = connection.socket as unknown as { _write: (chunk: Buffer, ...rest: unknown[]) => void };
      const writes: number[] = [];
      const write = raw._write.bind(raw);
      raw._write = (chunk: Buffer, ...rest: unknown[]) => {
        writes.push(chunk.length);
        write(chunk, ...rest);
      };
      const frames = Array.from({ length: 16 }, (_, i) => clientFrame(0x1, Buffer.from(`m${i}`.padEnd(8))));
      socket.write(Buffer.concat(frames));
      let received = Buffer.alloc(0);
      while (received.length < 16 * 10) {
        const [chunk] = await waitFor<[Buffer]>(socket, 'data');
        received = Buffer.concat([received, chunk]);
      }
      assert.deepEqual(writes, [160], 'sixteen 10-byte echo frames, one write');
      for (let i = 0; i < 16; i++) {
        assert.equal(
          received
            .subarray(i * 10 + 2, i * 10 + 10)
            .toString()
            .trim(),
          `m${i}`,
        );
      }
    } finally {
      socket.destroy();
      await closeServer(server);
    }
  });
});
