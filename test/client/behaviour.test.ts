/**
 * Connection behaviour after the handshake: protocol violations by the server, the message size
 * limit, manual pongs, heartbeats, bufferedAmount and drain, terminate.
 */
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { CloseEvent, ErrorEvent } from '../../src/client/events.js';
import { WebSocket } from '../../src/client/websocket.js';
import { ProtocolError } from '../../src/protocol/errors.js';
import { computeAccept } from '../../src/protocol/handshake.js';
import type { WebSocketConnection } from '../../src/server/connection.js';
import type { WebSocketServer } from '../../src/server/server.js';
import { TransportError } from '../../src/transport/errors.js';
import { TimerWheel } from '../../src/transport/timer-wheel.js';
import { closeServer, startServer, waitFor } from '../server/helpers.js';
import {
  closeClient,
  closeRawServer,
  headerOf,
  Messages,
  nextEvent,
  openWebSocket,
  rawServer,
  readRequestHead,
  withTimeout,
} from './helpers.js';

/** Collects the error and close events of a client. */
function ending(ws: WebSocket): Promise<{ error: unknown; close: CloseEvent; order: string[] }> {
  const order: string[] = [];
  let error: unknown;
  ws.addEventListener('error', (event) => {
    order.push('error');
    error = (event as ErrorEvent).error;
  });
  return nextEvent<CloseEvent>(ws, 'close').then((close) => {
    order.push('close');
    return { error, close, order };
  });
}

/** Unmasks the first client frame in `bytes` (RFC 6455 §5.3); returns its opcode and payload. */
function firstClientFrame(bytes: Buffer): { opcode: number; payload: Buffer } {
  const length = bytes[1]! & 0x7f;
  const key = bytes.subarray(2, 6);
  const payload = Buffer.from(bytes.subarray(6, 6 + length));
  for (let i = 0; i < payload.length; i++) payload[i]! ^= key[i & 3]!;
  return { opcode: bytes[0]! & 0x0f, payload };
}

describe('client connection behaviour', () => {
  let server: WebSocketServer;
  let url: string;
  const connections: WebSocketConnection[] = [];

  before(async () => {
    ({ server, url } = await startServer({ autoPong: false, heartbeatInterval: 0 }));
    server.on('connection', (connection: WebSocketConnection) => {
      connections.push(connection);
      connection.on('message', (data: Buffer, isBinary: boolean) => {
        const text = isBinary ? '' : data.toString();
        if (text.startsWith('send:')) connection.send(Buffer.alloc(Number(text.slice(5)), 7));
        else if (text.startsWith('ping:')) connection.ping(text.slice(5));
        else connection.send(data, { binary: isBinary });
      });
    });
  });
  after(() => closeServer(server));

  it('fails the connection when the server masks a frame: close 1002 sent, error, close 1006', async () => {
    const received: Buffer[] = [];
    const { server: raw, port } = await rawServer(async (socket: Socket) => {
      const { head } = await readRequestHead(socket);
      const key = headerOf(head, 'sec-websocket-key')!;
      socket.on('data', (chunk: Buffer) => received.push(chunk));
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${computeAccept(key)}\r\n\r\n`,
      );
      // RFC 6455 §5.1: a server must not mask its frames.
      socket.write(Buffer.from([0x81, 0x82, 0, 0, 0, 0, 0x68, 0x69]));
    });
    const ws = new WebSocket(`ws://127.0.0.1:${port}`);
    const { error, close, order } = await ending(ws);
    assert.deepEqual(order, ['error', 'close']);
    assert.ok(error instanceof ProtocolError);
    assert.equal(error.code, 'ERR_MASK_FORBIDDEN');
    assert.equal(close.code, 1006);
    assert.equal(close.wasClean, false);
    const frame = firstClientFrame(Buffer.concat(received));
    assert.equal(frame.opcode, 0x8);
    assert.equal(frame.payload.readUInt16BE(0), 1002);
    await closeRawServer(raw);
  });

  it('closes with 1009 when a message exceeds maxPayload', async () => {
    const ws = await openWebSocket(url, undefined, { maxPayload: 1000 });
    const messages = new Messages(ws);
    const ended = ending(ws);
    const connection = connections.at(-1)!;
    const serverClosed = waitFor<[number, string]>(connection, 'close');
    ws.send('send:1000');
    assert.equal(((await messages.next()) as Blob).size, 1000);
    ws.send('send:1001');
    const { error, close, order } = await ended;
    assert.deepEqual(order, ['error', 'close']);
    assert.equal((error as ProtocolError).closeCode, 1009);
    assert.equal(close.code, 1006);
    assert.equal((await serverClosed)[0], 1009);
  });

  it('leaves pongs to the application with autoPong: false', async () => {
    const ws = await openWebSocket(url, undefined, { autoPong: false });
    const connection = connections.at(-1)!;
    const pongs: string[] = [];
    connection.on('pong', (payload: Buffer) => pongs.push(payload.toString()));
    const pings = new Messages(ws, 'ping');
    ws.send('ping:first');
    assert.equal(String(await pings.next()), 'first');
    // A round trip through the echo shows that no automatic pong was sent meanwhile.
    const messages = new Messages(ws);
    ws.send('sync');
    await messages.next();
    assert.deepEqual(pongs, []);
    assert.equal(ws.pong('manual'), true);
    await waitFor(connection, 'pong');
    assert.deepEqual(pongs, ['manual']);
    await closeClient(ws);
  });

  it('answers pings by default', async () => {
    const ws = await openWebSocket(url);
    const connection = connections.at(-1)!;
    const pong = waitFor<[Buffer]>(connection, 'pong');
    ws.send('ping:auto');
    assert.equal(String((await pong)[0]), 'auto');
    await closeClient(ws);
  });

  it('terminates a server that does not answer heartbeat pings', async () => {
    const ws = await openWebSocket(url, undefined, {
      heartbeatInterval: 40,
      timerWheel: new TimerWheel({ resolution: 10 }),
    });
    const { error, close, order } = await ending(ws);
    assert.deepEqual(order, ['error', 'close']);
    assert.ok(error instanceof TransportError);
    assert.equal(error.code, 'ERR_HEARTBEAT_TIMEOUT');
    assert.equal(close.code, 1006);
  });

  it('keeps bufferedAmount and fires drain', async () => {
    const ws = await openWebSocket(url, undefined, { highWaterMark: 16 * 1024, binaryType: 'nodebuffer' });
    const messages = new Messages(ws);
    const drained = nextEvent(ws, 'drain');
    ws.send(Buffer.alloc(4 * 1024 * 1024, 1));
    assert.ok(ws.bufferedAmount >= 4 * 1024 * 1024, `bufferedAmount ${ws.bufferedAmount}`);
    await drained;
    assert.ok(ws.bufferedAmount <= 16 * 1024);
    assert.equal((await messages.next<Buffer>(10_000)).length, 4 * 1024 * 1024);
    const closed = nextEvent<CloseEvent>(ws, 'close');
    ws.close(3001);
    assert.equal(ws.readyState, WebSocket.CLOSING);
    const before = ws.bufferedAmount;
    ws.send('discarded');
    assert.equal(ws.bufferedAmount, before + 9);
    assert.equal((await closed).code, 3001);
  });

  it('terminate() ends an open connection at once with 1006', async () => {
    const ws = await openWebSocket(url);
    const connection = connections.at(-1)!;
    const serverClosed = waitFor<[number, string]>(connection, 'close');
    const closed = nextEvent<CloseEvent>(ws, 'close');
    ws.terminate();
    const event = await closed;
    assert.equal(event.code, 1006);
    assert.equal(event.wasClean, false);
    assert.equal((await serverClosed)[0], 1006);
  });

  it('sends text, ArrayBuffer, typed array views, DataView and other values', async () => {
    const ws = await openWebSocket(url, undefined, { binaryType: 'nodebuffer' });
    const messages = new Messages(ws);
    const bytes = new Uint8Array([9, 8, 7, 6, 5]);
    ws.send(bytes.subarray(1, 4));
    ws.send(new DataView(bytes.buffer, 2, 2));
    ws.send(new Float32Array([1.5]));
    ws.send(42 as unknown as string);
    assert.deepEqual([...(await messages.next<Buffer>())], [8, 7, 6]);
    assert.deepEqual([...(await messages.next<Buffer>())], [7, 6]);
    assert.deepEqual(
      [...(await messages.next<Buffer>())],
      [...new Uint8Array(new Float32Array([1.5]).buffer)],
    );
    assert.equal(await messages.next(), '42');
    // The user's bytes are not touched by masking.
    assert.deepEqual([...bytes], [9, 8, 7, 6, 5]);
    await withTimeout(closeClient(ws), 5000, 'close');
  });
});
