/**
 * Not a test: measures what metrics cost on the echo path. Run `node dist/test/observability/metrics-cost.js`.
 *
 * 1. Transport only: a SocketTransport over an in-memory socket parses chunks of 64-byte masked frames
 *    and echoes every message (protocol parse, sink callback, framing, batched write), with metrics off
 *    and on, alternating rounds: the kernel and the network stack are out of the picture, so a cost of a
 *    few nanoseconds per message is visible.
 * 2. Sockets: a Conduit echo server and ws clients in this process, off and on alternating (noisy on a
 *    shared VM; shown for scale).
 * Prints Markdown tables.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { Registry } from 'prom-client';
import WebSocket from 'ws';
import { createServerMetrics } from '../../src/observability/server-metrics.js';
import type { WebSocketConnection } from '../../src/server/connection.js';
import { WebSocketServer } from '../../src/server/server.js';
import { resolveTransportOptions } from '../../src/transport/options.js';
import { SocketTransport, type TransportSink } from '../../src/transport/socket-transport.js';
import { TimerWheel } from '../../src/transport/timer-wheel.js';

const ROUNDS = 15;

/** Just enough of a net.Socket for a transport: writes are counted and dropped. */
class MemorySocket extends EventEmitter {
  writableLength = 0;
  written = 0;
  remoteAddress = '127.0.0.1';
  setNoDelay(): void {}
  setTimeout(): void {}
  cork(): void {}
  uncork(): void {}
  pause(): void {}
  resume(): void {}
  end(): void {}
  destroy(): void {}
  write(data: Uint8Array): boolean {
    this.written += data.byteLength;
    return true;
  }
}

/** Masked text frames with a zero key: unmasking in place leaves them unchanged, so they can be re-fed. */
function frames(count: number, size: number): Buffer {
  const one = Buffer.concat([Buffer.from([0x81, 0x80 | size, 0, 0, 0, 0]), Buffer.alloc(size, 0x61)]);
  return Buffer.concat(Array.from({ length: count }, () => one));
}

function transportRound(withMetrics: boolean, chunk: Buffer, chunks: number): number {
  const wheel = new TimerWheel({ manual: true });
  const metrics = withMetrics ? createServerMetrics(new Registry()) : null;
  const config = resolveTransportOptions('server', { heartbeatInterval: 0 }, wheel, metrics);
  const socket = new MemorySocket();
  let transport: SocketTransport | null = null;
  let messages = 0;
  const sink: TransportSink = {
    onMessage(data) {
      messages++;
      transport!.send(data, { binary: false });
    },
    onPing() {},
    onPong() {},
    onDrain() {},
    onError() {},
    onClose() {},
  };
  transport = new SocketTransport(socket as unknown as Socket, sink, config);
  transport.start();
  const began = process.hrtime.bigint();
  for (let i = 0; i < chunks; i++) socket.emit('data', chunk);
  const ns = Number(process.hrtime.bigint() - began);
  if (withMetrics && metrics!.textMessagesSent.constructor.name !== 'Tally') throw new Error('no tallies');
  return ns / messages;
}

async function socketRound(withMetrics: boolean): Promise<number> {
  const CONNECTIONS = 8;
  const WINDOW = 64;
  const PER_CONNECTION = 20_000;
  const payload = Buffer.alloc(64, 0x61);
  const server = new WebSocketServer({
    port: 0,
    host: '127.0.0.1',
    heartbeatInterval: 0,
    ...(withMetrics ? { metrics: { registry: new Registry() } } : {}),
  });
  server.on('connection', (connection: WebSocketConnection) => {
    connection.on('message', (data: Buffer, isBinary: boolean) =>
      connection.send(data, { binary: isBinary }),
    );
  });
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  const clients = await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      const client = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false });
      await new Promise((resolve) => client.once('open', resolve));
      return client;
    }),
  );
  const began = performance.now();
  await Promise.all(
    clients.map(
      (client) =>
        new Promise<void>((resolve) => {
          let sent = 0;
          let received = 0;
          client.on('message', () => {
            received++;
            if (received === PER_CONNECTION) resolve();
            else if (sent < PER_CONNECTION) {
              sent++;
              client.send(payload);
            }
          });
          for (; sent < WINDOW; sent++) client.send(payload);
        }),
    ),
  );
  const seconds = (performance.now() - began) / 1000;
  for (const client of clients) client.terminate();
  await new Promise((resolve) => server.close(() => resolve(undefined)));
  return (CONNECTIONS * PER_CONNECTION) / seconds;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const chunk = frames(1000, 64);
const off: number[] = [];
const on: number[] = [];
transportRound(false, chunk, 200);
transportRound(true, chunk, 200);
for (let i = 0; i < ROUNDS; i++) {
  off.push(transportRound(false, chunk, 200));
  on.push(transportRound(true, chunk, 200));
  // Let the batched flushes and garbage of the round go before the next one.
  await new Promise((resolve) => setTimeout(resolve, 20));
}
const ns = (n: number) => n.toFixed(1);
// The minimum is the least disturbed run: on a shared machine the spread comes from the neighbours.
console.log('Transport echo path (64-byte messages, in-memory socket), ns per message:\n');
console.log('| metrics | min | median |');
console.log('|---|---:|---:|');
console.log(`| off | ${ns(Math.min(...off))} | ${ns(median(off))} |`);
console.log(`| on  | ${ns(Math.min(...on))} | ${ns(median(on))} |`);
console.log(
  `\ncost of metrics (min on - min off): ${ns(Math.min(...on) - Math.min(...off))} ns per echoed message\n`,
);

const socketOff: number[] = [];
const socketOn: number[] = [];
await socketRound(false);
for (let i = 0; i < 3; i++) {
  socketOff.push(await socketRound(false));
  socketOn.push(await socketRound(true));
}
const rate = (n: number) => Math.round(n).toLocaleString('en-US');
console.log('Echo over sockets (8 ws clients in this process, 64 in flight each), echoes/s:\n');
console.log('| metrics | median | runs |');
console.log('|---|---:|---|');
console.log(`| off | ${rate(median(socketOff))} | ${socketOff.map(rate).join(', ')} |`);
console.log(`| on  | ${rate(median(socketOn))} | ${socketOn.map(rate).join(', ')} |`);
