/**
 * The client's opening handshake against scripted raw TCP servers and a Conduit server: the request it
 * sends, every way the response can fail it (error event, then close 1006), timeouts, refused
 * connections and redirects.
 */
import assert from 'node:assert/strict';
import type { Server, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ClientError } from '../../src/client/errors.js';
import type { CloseEvent, ErrorEvent } from '../../src/client/events.js';
import { WebSocket } from '../../src/client/websocket.js';
import { HandshakeError } from '../../src/protocol/errors.js';
import { computeAccept, isValidKey } from '../../src/protocol/handshake.js';
import type { WebSocketServer } from '../../src/server/server.js';
import type { UpgradeRequest } from '../../src/server/upgrade-request.js';
import { TimerWheel } from '../../src/transport/timer-wheel.js';
import { closeServer, startServer } from '../server/helpers.js';
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

/** Runs a client to its end; resolves with the error event, the close event and the event order. */
async function failure(ws: WebSocket): Promise<{ error: unknown; close: CloseEvent; order: string[] }> {
  const order: string[] = [];
  let error: unknown;
  let stateAtError = -1;
  ws.addEventListener('open', () => order.push('open'));
  ws.addEventListener('error', (event) => {
    order.push('error');
    error = (event as ErrorEvent).error;
    stateAtError = ws.readyState;
  });
  ws.addEventListener('close', () => order.push('close'));
  const close = await nextEvent<CloseEvent>(ws, 'close');
  assert.equal(stateAtError, WebSocket.CLOSED, 'readyState is CLOSED when error fires');
  return { error, close, order };
}

function assertFailedClose(close: CloseEvent, order: string[]): void {
  assert.deepEqual(order, ['error', 'close']);
  assert.equal(close.code, 1006);
  assert.equal(close.reason, '');
  assert.equal(close.wasClean, false);
}

/** A raw server that answers every handshake with `respond(key, path)`'s bytes. */
async function scripted(
  respond: (key: string, path: string, socket: Socket) => string | Buffer | null,
): Promise<{ server: Server; port: number; heads: string[] }> {
  const heads: string[] = [];
  const { server, port } = await rawServer(async (socket) => {
    const { head } = await readRequestHead(socket);
    heads.push(head);
    const key = headerOf(head, 'sec-websocket-key') ?? '';
    const path = head.split(' ')[1] ?? '/';
    const answer = respond(key, path, socket);
    if (answer !== null) socket.write(answer);
  });
  return { server, port, heads };
}

function switching(key: string, extra = ''): string {
  return (
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    `Sec-WebSocket-Accept: ${computeAccept(key)}\r\n${extra}\r\n`
  );
}

describe('client opening handshake', () => {
  let conduit: WebSocketServer;
  let conduitPort: number;
  const requests: UpgradeRequest[] = [];

  before(async () => {
    ({ server: conduit, port: conduitPort } = await startServer({
      upgrade: (request) => {
        requests.push(request);
        return request.pathname !== '/forbidden';
      },
    }));
    conduit.on('connection', (connection) => {
      connection.on('message', (data: Buffer, isBinary: boolean) =>
        connection.send(data, { binary: isBinary }),
      );
    });
  });
  after(() => closeServer(conduit));

  it('sends a well-formed request with subprotocols, origin, headers, credentials and offers', async () => {
    const { server, port, heads } = await scripted(() => null);
    const ws = new WebSocket(`ws://user:p%40ss@127.0.0.1:${port}/chat/room?id=7`, ['chat', 'superchat'], {
      origin: 'https://example.test',
      headers: { 'X-Trace': 'abc' },
      perMessageDeflate: true,
    });
    await withTimeout(
      (async () => {
        while (heads.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      })(),
      5000,
      'request head',
    );
    const head = heads[0]!;
    assert.match(head, /^GET \/chat\/room\?id=7 HTTP\/1\.1\r\n/);
    assert.equal(headerOf(head, 'host'), `127.0.0.1:${port}`);
    assert.equal(headerOf(head, 'upgrade'), 'websocket');
    assert.equal(headerOf(head, 'connection'), 'Upgrade');
    assert.equal(headerOf(head, 'sec-websocket-version'), '13');
    assert.ok(isValidKey(headerOf(head, 'sec-websocket-key') ?? ''));
    assert.equal(headerOf(head, 'sec-websocket-protocol'), 'chat, superchat');
    assert.match(headerOf(head, 'sec-websocket-extensions') ?? '', /^permessage-deflate/);
    assert.equal(headerOf(head, 'origin'), 'https://example.test');
    assert.equal(headerOf(head, 'x-trace'), 'abc');
    assert.equal(headerOf(head, 'authorization'), `Basic ${Buffer.from('user:p@ss').toString('base64')}`);
    const closed = nextEvent<CloseEvent>(ws, 'close');
    ws.close();
    assert.equal((await closed).code, 1006);
    await closeRawServer(server);
  });

  it('uses the default port without a port in Host, and maps http: to ws:', async () => {
    const { server, port, heads } = await scripted((key) => switching(key));
    const ws = await openWebSocket(`http://127.0.0.1:${port}`);
    assert.equal(ws.url, `ws://127.0.0.1:${port}/`);
    assert.match(heads[0]!, /^GET \/ HTTP\/1\.1\r\n/);
    ws.terminate();
    await nextEvent(ws, 'close');
    await closeRawServer(server);
  });

  it('fails on a wrong Sec-WebSocket-Accept', async () => {
    const { server, port } = await scripted(() => switching('AAAAAAAAAAAAAAAAAAAAAA=='));
    const { error, close, order } = await failure(new WebSocket(`ws://127.0.0.1:${port}`));
    assertFailedClose(close, order);
    assert.ok(error instanceof HandshakeError);
    assert.equal(error.code, 'ERR_HANDSHAKE_ACCEPT');
    await closeRawServer(server);
  });

  it('fails when the server picks a subprotocol that was not offered', async () => {
    const { server, port } = await scripted((key) => switching(key, 'Sec-WebSocket-Protocol: evil\r\n'));
    for (const offered of [['chat'], []]) {
      const { error, close, order } = await failure(new WebSocket(`ws://127.0.0.1:${port}`, offered));
      assertFailedClose(close, order);
      assert.ok(error instanceof HandshakeError);
      assert.equal(error.code, 'ERR_HANDSHAKE_SUBPROTOCOL');
    }
    await closeRawServer(server);
  });

  it('fails when the server accepts an extension that was not offered', async () => {
    const { server, port } = await scripted((key) =>
      switching(key, 'Sec-WebSocket-Extensions: permessage-deflate\r\n'),
    );
    const { error, close, order } = await failure(new WebSocket(`ws://127.0.0.1:${port}`));
    assertFailedClose(close, order);
    assert.equal((error as HandshakeError).code, 'ERR_HANDSHAKE_EXTENSION');
    await closeRawServer(server);
  });

  it('fails on a refusal status, with the status in the error', async () => {
    const { error, close, order } = await failure(new WebSocket(`ws://127.0.0.1:${conduitPort}/forbidden`));
    assertFailedClose(close, order);
    assert.ok(error instanceof HandshakeError);
    assert.equal(error.code, 'ERR_HANDSHAKE_STATUS');
    assert.equal(error.status, 403);
  });

  it('fails on a malformed response head', async () => {
    const { server, port } = await scripted(() => 'HTTP/1.1 101 OK\nUpgrade: websocket\n\n');
    const { error, close, order } = await failure(new WebSocket(`ws://127.0.0.1:${port}`));
    assertFailedClose(close, order);
    assert.equal((error as HandshakeError).code, 'ERR_HANDSHAKE_MALFORMED');
    await closeRawServer(server);
  });

  it('fails when the server closes the connection before answering', async () => {
    const { server, port } = await scripted((_key, _path, socket) => {
      socket.end();
      return null;
    });
    const { error, close, order } = await failure(new WebSocket(`ws://127.0.0.1:${port}`));
    assertFailedClose(close, order);
    assert.equal((error as ClientError).code, 'ERR_HANDSHAKE_ABORTED');
    await closeRawServer(server);
  });

  it('times out a server that never answers, and drops the connection', async () => {
    let serverSide: Socket | undefined;
    const { server, port } = await scripted((_key, _path, socket) => {
      serverSide = socket;
      return null;
    });
    const started = performance.now();
    const ws = new WebSocket(`ws://127.0.0.1:${port}`, [], {
      handshakeTimeout: 150,
      timerWheel: new TimerWheel({ resolution: 10 }),
    });
    const { error, close, order } = await failure(ws);
    const elapsed = performance.now() - started;
    assertFailedClose(close, order);
    assert.ok(error instanceof ClientError);
    assert.equal(error.code, 'ERR_HANDSHAKE_TIMEOUT');
    assert.ok(elapsed >= 140 && elapsed < 2000, `timed out after ${elapsed} ms`);
    await withTimeout(
      new Promise((resolve) => (serverSide!.destroyed ? resolve(null) : serverSide!.once('close', resolve))),
      2000,
      'server-side socket closed',
    );
    await closeRawServer(server);
  });

  it('reports a refused connection as error then close 1006', async () => {
    const { server, port } = await rawServer(() => {});
    await closeRawServer(server);
    const { error, close, order } = await failure(new WebSocket(`ws://127.0.0.1:${port}`));
    assertFailedClose(close, order);
    assert.equal((error as NodeJS.ErrnoException).code, 'ECONNREFUSED');
  });

  it('parses frames that arrive in the same chunk as the 101 response, after open', async () => {
    const frame = Buffer.concat([Buffer.from([0x81, 5]), Buffer.from('early')]);
    const { server, port } = await scripted((key) => Buffer.concat([Buffer.from(switching(key)), frame]));
    const ws = new WebSocket(`ws://127.0.0.1:${port}`);
    const order: string[] = [];
    ws.onopen = () => order.push('open');
    ws.onmessage = (event) => order.push(`message:${event.data}`);
    await nextEvent(ws, 'message');
    assert.deepEqual(order, ['open', 'message:early']);
    ws.terminate();
    await nextEvent(ws, 'close');
    await closeRawServer(server);
  });

  describe('redirects', () => {
    it('are not followed by default: the 3xx fails the connection', async () => {
      const { server, port } = await scripted(
        () => `HTTP/1.1 302 Found\r\nLocation: ws://127.0.0.1:${conduitPort}/target\r\n\r\n`,
      );
      const { error, close, order } = await failure(new WebSocket(`ws://127.0.0.1:${port}/start`));
      assertFailedClose(close, order);
      assert.equal((error as HandshakeError).code, 'ERR_HANDSHAKE_STATUS');
      assert.equal((error as HandshakeError).status, 302);
      await closeRawServer(server);
    });

    it('are followed when asked, across hosts without credential headers', async () => {
      const { server, port, heads } = await scripted(
        () =>
          `HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:${conduitPort}/target?x=1\r\n\r\n`,
      );
      requests.length = 0;
      const ws = await openWebSocket(`ws://127.0.0.1:${port}/start`, undefined, {
        followRedirects: true,
        headers: { Authorization: 'Bearer secret', 'X-Keep': 'yes' },
      });
      assert.equal(ws.url, `ws://127.0.0.1:${port}/start`);
      assert.equal(headerOf(heads[0]!, 'authorization'), 'Bearer secret');
      assert.equal(requests.length, 1);
      assert.equal(requests[0]!.url, '/target?x=1');
      assert.equal(requests[0]!.headers['x-keep'], 'yes');
      assert.equal(requests[0]!.headers.authorization, undefined);
      const messages = new Messages(ws);
      ws.send('after a redirect');
      assert.equal(await messages.next(), 'after a redirect');
      await closeClient(ws);
      await closeRawServer(server);
    });

    it('resolve a relative Location against the current URL', async () => {
      const { server, port, heads } = await scripted((key, path) =>
        path === '/final' ? switching(key) : 'HTTP/1.1 301 Moved Permanently\r\nLocation: /final\r\n\r\n',
      );
      const ws = await openWebSocket(`ws://127.0.0.1:${port}/first`, undefined, { followRedirects: true });
      assert.equal(heads.length, 2);
      assert.match(heads[1]!, /^GET \/final HTTP\/1\.1/);
      ws.terminate();
      await nextEvent(ws, 'close');
      await closeRawServer(server);
    });

    it('stop after maxRedirects', async () => {
      const { server, port, heads } = await scripted(
        (_key, path) => `HTTP/1.1 302 Found\r\nLocation: ${path}x\r\n\r\n`,
      );
      const ws = new WebSocket(`ws://127.0.0.1:${port}/loop`, [], { followRedirects: true, maxRedirects: 3 });
      const { error, close, order } = await failure(ws);
      assertFailedClose(close, order);
      assert.equal((error as ClientError).code, 'ERR_TOO_MANY_REDIRECTS');
      assert.equal(heads.length, 4);
      await closeRawServer(server);
    });

    it('fail on a Location that is not a WebSocket URL', async () => {
      const { server, port } = await scripted(
        () => 'HTTP/1.1 302 Found\r\nLocation: ftp://example.test/\r\n\r\n',
      );
      const ws = new WebSocket(`ws://127.0.0.1:${port}/`, [], { followRedirects: true });
      const { error, close, order } = await failure(ws);
      assertFailedClose(close, order);
      assert.equal((error as ClientError).code, 'ERR_INVALID_REDIRECT');
      await closeRawServer(server);
    });
  });
});
