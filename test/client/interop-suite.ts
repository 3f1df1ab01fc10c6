/**
 * The interop scenarios every server peer goes through (Conduit, ws, uWebSockets.js, python-websockets).
 * A peer is an echo server with a few text commands:
 *   `fragment`             → sends FRAGMENTED_TEXT as a message of several frames;
 *   `ping:<payload>`       → pings with <payload>, then sends `pong:<payload>` once the pong arrived;
 *   `close:<code>:<reason>` → closes with that code and reason;
 *   anything else          → echoed with the same type.
 * It selects the subprotocol `chat` when offered, negotiates permessage-deflate when offered, and
 * reports the close code and reason it saw on each request path through `closeSeen(path)`.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from '../../src/client/websocket.js';
import { closeClient, closeOf, Messages, nextEvent, openWebSocket, withTimeout } from './helpers.js';

/** What a peer sends for `fragment`. */
export const FRAGMENTED_TEXT = 'abc'.repeat(1000);

export interface Peer {
  /** Base URL, without a trailing slash: tests append a path of their own. */
  url: string;
  /** The close (code, reason) the server saw on the connection to `path`. */
  closeSeen(path: string): Promise<[number, string]>;
  stop(): Promise<void>;
}

/** Close codes and reasons seen by a server, per request path, with bounded waits. */
export class CloseLog {
  private readonly seen = new Map<string, [number, string]>();
  private readonly waiters = new Map<string, (close: [number, string]) => void>();

  record(path: string, code: number, reason: string): void {
    const waiter = this.waiters.get(path);
    if (waiter !== undefined) {
      this.waiters.delete(path);
      waiter([code, reason]);
    } else {
      this.seen.set(path, [code, reason]);
    }
  }

  closeSeen(path: string): Promise<[number, string]> {
    const known = this.seen.get(path);
    if (known !== undefined) return Promise.resolve(known);
    const seen = new Promise<[number, string]>((resolve) => this.waiters.set(path, resolve));
    return withTimeout(seen, 5000, `server-side close of ${path}`);
  }
}

/** Starts a peer, or returns why it cannot run here (the suite is then skipped). */
export type PeerStarter = () => Promise<Peer | string>;

function patterned(size: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + (i >> 8)) & 0xff;
  return bytes;
}

/** A client whose socket the test can see (via the createConnection escape hatch). */
async function openWatched(url: string, options = {}): Promise<{ ws: WebSocket; socket: () => Socket }> {
  let socket: Socket | undefined;
  const ws = await openWebSocket(url, undefined, {
    ...options,
    createConnection: ({ host, port }) => {
      socket = connect(port, host);
      return socket;
    },
  });
  return { ws, socket: () => socket! };
}

/** Registers the interop tests for one peer. */
export function interopSuite(name: string, start: PeerStarter, skip: string | false = false): void {
  describe(`WebSocket client against ${name}`, { skip }, () => {
    let peer: Peer;
    let url: string;

    before(async () => {
      const started = await start();
      if (typeof started === 'string') throw new Error(started);
      peer = started;
      url = peer.url;
    });
    after(() => peer?.stop());

    it('exchanges text and reports open state, url, protocol and extensions', async () => {
      const ws = await openWebSocket(url);
      assert.equal(ws.readyState, WebSocket.OPEN);
      assert.equal(ws.protocol, '');
      assert.equal(ws.extensions, '');
      const messages = new Messages(ws);
      ws.send('héllo wörld ✓');
      ws.send('');
      assert.equal(await messages.next(), 'héllo wörld ✓');
      assert.equal(await messages.next(), '');
      const closed = await closeClient(ws);
      assert.equal(closed.wasClean, true);
    });

    it('delivers binary messages as Blob (default), ArrayBuffer and Buffer', async () => {
      const ws = await openWebSocket(url);
      assert.equal(ws.binaryType, 'blob');
      const messages = new Messages(ws);
      ws.send(new Uint8Array([1, 2, 3]));
      const blob = await messages.next<Blob>();
      assert.ok(blob instanceof Blob);
      assert.deepEqual([...new Uint8Array(await blob.arrayBuffer())], [1, 2, 3]);
      ws.binaryType = 'arraybuffer';
      ws.send(new Uint16Array([0x0102, 0x0304]).buffer);
      const arrayBuffer = await messages.next<ArrayBuffer>();
      assert.ok(arrayBuffer instanceof ArrayBuffer);
      assert.deepEqual(
        [...new Uint8Array(arrayBuffer)],
        [...new Uint8Array(new Uint16Array([0x0102, 0x0304]).buffer)],
      );
      ws.binaryType = 'nodebuffer';
      ws.send(new Blob([Buffer.from('from a blob')]));
      const buffer = await messages.next<Buffer>();
      assert.ok(Buffer.isBuffer(buffer));
      assert.equal(buffer.toString(), 'from a blob');
      await closeClient(ws);
    });

    it('keeps send order across a Blob', async () => {
      const ws = await openWebSocket(url, undefined, { binaryType: 'nodebuffer' });
      const messages = new Messages(ws);
      ws.send('first');
      ws.send(new Blob(['second']));
      ws.send('third');
      ws.send(new Blob([new Uint8Array([4])]));
      assert.equal(await messages.next(), 'first');
      assert.equal(String(await messages.next()), 'second');
      assert.equal(await messages.next(), 'third');
      assert.deepEqual([...(await messages.next<Buffer>())], [4]);
      await closeClient(ws);
    });

    it('round-trips a 1 MB binary message', async () => {
      const ws = await openWebSocket(url, undefined, { binaryType: 'nodebuffer' });
      const messages = new Messages(ws);
      const payload = patterned(1024 * 1024);
      ws.send(payload);
      const echoed = await messages.next<Buffer>(10_000);
      assert.equal(echoed.length, payload.length);
      assert.ok(echoed.equals(payload));
      await closeClient(ws);
    });

    it('reassembles a fragmented message from the server', async () => {
      const ws = await openWebSocket(url);
      const messages = new Messages(ws);
      ws.send('fragment');
      assert.equal(await messages.next(), FRAGMENTED_TEXT);
      await closeClient(ws);
    });

    it('negotiates permessage-deflate and really compresses', async () => {
      const { ws, socket } = await openWatched(url, { perMessageDeflate: true, binaryType: 'nodebuffer' });
      assert.match(ws.extensions, /^permessage-deflate/);
      const messages = new Messages(ws);
      const text = 'compress me, please! '.repeat(10_000);
      const [read, written] = [socket().bytesRead, socket().bytesWritten];
      ws.send(text);
      assert.equal(await messages.next(), text);
      // Compressed both ways: far fewer bytes on the wire than the 210 kB message.
      assert.ok(
        socket().bytesWritten - written < text.length / 10,
        `wrote ${socket().bytesWritten - written}`,
      );
      assert.ok(socket().bytesRead - read < text.length / 10, `read ${socket().bytesRead - read} bytes`);
      const random = randomBytes(1024 * 1024);
      ws.send(random);
      assert.ok((await messages.next<Buffer>(10_000)).equals(random));
      ws.send('fragment');
      assert.equal(await messages.next(), FRAGMENTED_TEXT);
      await closeClient(ws);
    });

    it('answers the server ping and gets a pong for its own', async () => {
      const ws = await openWebSocket(url);
      const messages = new Messages(ws);
      const pings = new Messages(ws, 'ping');
      const pongs = new Messages(ws, 'pong');
      ws.send('ping:hello');
      assert.equal(String(await pings.next()), 'hello');
      assert.equal(await messages.next(), 'pong:hello');
      assert.equal(ws.ping('are you there'), true);
      assert.equal(String(await pongs.next()), 'are you there');
      await closeClient(ws);
    });

    it('closes with a code and reason from the client', async () => {
      const ws = await openWebSocket(`${url}/client-close`);
      const closed = await closeClient(ws, 4001, 'client bye');
      assert.equal(closed.code, 4001);
      assert.equal(closed.wasClean, true);
      assert.equal(ws.readyState, WebSocket.CLOSED);
      assert.deepEqual(await peer.closeSeen('/client-close'), [4001, 'client bye']);
    });

    it('reports the close code and reason from the server', async () => {
      const ws = await openWebSocket(`${url}/server-close`);
      const closed = closeOf(ws);
      ws.send('close:4002:server bye');
      const event = await closed;
      assert.equal(event.code, 4002);
      assert.equal(event.reason, 'server bye');
      assert.equal(event.wasClean, true);
      assert.equal((await peer.closeSeen('/server-close'))[0], 4002);
    });

    it('sends a reason without a code as 1000, and an empty close as 1005', async () => {
      const ws = await openWebSocket(`${url}/reason-only`);
      await closeClient(ws, undefined, 'just a reason');
      assert.deepEqual(await peer.closeSeen('/reason-only'), [1000, 'just a reason']);
      const other = await openWebSocket(`${url}/empty-close`);
      const closed = await closeClient(other);
      assert.equal(closed.code, 1005);
      assert.equal(closed.wasClean, true);
      assert.equal((await peer.closeSeen('/empty-close'))[0], 1005);
    });

    it('selects the subprotocol the server chose', async () => {
      const ws = await openWebSocket(url, ['superchat', 'chat']);
      assert.equal(ws.protocol, 'chat');
      const messages = new Messages(ws);
      ws.send('with a subprotocol');
      assert.equal(await messages.next(), 'with a subprotocol');
      await closeClient(ws);
    });

    it('dispatches events through the handler attributes too', async () => {
      const ws = new WebSocket(url);
      const seen: string[] = [];
      ws.onopen = () => {
        seen.push('open');
        ws.send('handler');
      };
      ws.onmessage = (event) => {
        seen.push(`message:${event.data}`);
        ws.close();
      };
      ws.onclose = (event) => seen.push(`close:${event.code}`);
      await nextEvent(ws, 'close');
      assert.deepEqual(seen, ['open', 'message:handler', 'close:1005']);
    });
  });
}
