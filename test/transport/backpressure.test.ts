import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import type { WebSocketConnection } from '../../src/server/connection.js';
import type { TransportError } from '../../src/transport/errors.js';
import { clientFrame, closeServer, fastWheel, rawUpgrade, startServer, waitFor } from '../server/helpers.js';

const KiB = 1024;
const MESSAGE = Buffer.alloc(64 * KiB, 0x61);
const FRAME_OVERHEAD = 14;

/** Connects a raw client that completes the handshake and then never reads. */
async function stalledClient(options: Parameters<typeof startServer>[0]) {
  const started = await startServer({ heartbeatInterval: 0, ...options });
  const connected = waitFor<[WebSocketConnection]>(started.server, 'connection');
  const { socket } = await rawUpgrade(started.port);
  socket.on('error', () => {});
  socket.pause();
  const [connection] = await connected;
  return { ...started, socket, connection };
}

describe('backpressure', () => {
  it("policy 'close': a client that never reads is closed with 1008 before memory passes maxBackpressure", async () => {
    const maxBackpressure = 256 * KiB;
    const { server, socket, connection } = await stalledClient({
      maxBackpressure,
      closeTimeout: 100,
      timerWheel: fastWheel(),
    });
    try {
      const errors: TransportError[] = [];
      connection.on('error', (error: TransportError) => errors.push(error));
      const closed = waitFor<[number]>(connection, 'close', 10_000);
      let peak = 0;
      for (let i = 0; i < 10_000 && connection.readyState === 1; i++) {
        connection.send(MESSAGE);
        peak = Math.max(peak, connection.bufferedAmount);
        await tick();
      }
      assert.equal(errors[0]?.code, 'ERR_BACKPRESSURE_LIMIT');
      assert.ok(peak <= maxBackpressure + MESSAGE.length + FRAME_OVERHEAD, `peak ${peak}`);
      assert.ok(peak > maxBackpressure / 2, `the limit was actually approached (peak ${peak})`);
      // The peer never reads the close frame: the close timeout destroys the socket.
      const [code] = await closed;
      assert.equal(code, 1006);
    } finally {
      socket.destroy();
      await closeServer(server);
    }
  });

  it("policy 'drop': messages over maxBackpressure are discarded and the connection stays open", async () => {
    const maxBackpressure = 256 * KiB;
    const { server, socket, connection } = await stalledClient({
      maxBackpressure,
      backpressurePolicy: 'drop',
    });
    try {
      let peak = 0;
      let dropped = 0;
      const refusals: Promise<Error | undefined>[] = [];
      for (let i = 0; i < 10_000 && dropped < 20; i++) {
        const queued = connection.bufferedAmount <= maxBackpressure;
        const result = new Promise<Error | undefined>((resolve) => connection.send(MESSAGE, resolve));
        if (!queued) {
          dropped++;
          refusals.push(result);
        }
        peak = Math.max(peak, connection.bufferedAmount);
        await tick();
      }
      assert.equal(dropped, 20);
      for (const error of await Promise.all(refusals)) {
        assert.equal((error as TransportError).code, 'ERR_BACKPRESSURE_DROPPED');
      }
      assert.ok(peak <= maxBackpressure + MESSAGE.length + FRAME_OVERHEAD, `peak ${peak}`);
      assert.equal(connection.readyState, 1);
    } finally {
      socket.destroy();
      await closeServer(server);
    }
  });

  it('stops reading from a client that floods an echo server without reading the echoes', async () => {
    const { server, socket, connection } = await stalledClient({ highWaterMark: 64 * KiB });
    try {
      let received = 0;
      let peak = 0;
      let drains = 0;
      connection.on('drain', () => drains++);
      connection.on('message', (data: Buffer, isBinary: boolean) => {
        received++;
        connection.send(data, { binary: isBinary }); // ignores the return value on purpose
        peak = Math.max(peak, connection.bufferedAmount);
      });
      const frame = clientFrame(0x2, MESSAGE);
      const total = 400; // 25 MiB, far more than the socket buffers on both sides hold
      for (let i = 0; i < total; i++) socket.write(frame);
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.ok(received < total, `reading paused (${received} of ${total} echoed)`);
      assert.ok(peak <= 1024 * KiB, `server buffer peak ${peak} stays under maxBackpressure`);
      assert.equal(connection.readyState, 1);
      // Reading the echoes lets the server drain and resume.
      const before = received;
      socket.resume();
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.ok(received > before, 'reading resumed');
      assert.ok(drains > 0, "'drain' was emitted");
    } finally {
      socket.destroy();
      await closeServer(server);
    }
  });
});
