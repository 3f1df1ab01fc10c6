import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { describe, it } from 'node:test';
import WebSocket from 'ws';
import type { WebSocketConnection } from '../../src/server/connection.js';
import type { VerifyClientCallback, VerifyClientInfo } from '../../src/server/options.js';
import { WebSocketServer } from '../../src/server/server.js';
import type { UpgradeRequest } from '../../src/server/upgrade-request.js';
import {
  clientClosed,
  closeServer,
  openClient,
  rawExchange,
  startServer,
  upgradeRequest,
  waitFor,
  withTimeout,
} from './helpers.js';

function statusOf(response: string): number {
  return Number(/^HTTP\/1\.1 (\d{3}) /.exec(response)?.[1]);
}

/** Opens a ws client that is expected to be refused; resolves with the status and headers. */
async function refused(url: string, options: WebSocket.ClientOptions = {}): Promise<IncomingMessage> {
  const client = new WebSocket(url, options);
  client.on('error', () => {});
  const [, response] = await waitFor<[unknown, IncomingMessage]>(client, 'unexpected-response');
  response.resume();
  client.terminate();
  return response;
}

describe('standalone listener: malformed and non-upgrade requests', () => {
  it('answers 426 to a plain GET, 400 to garbage, 431 to a huge head, 405 to POST, 426 to version 8', async () => {
    const { server, port } = await startServer({ maxHeaderSize: 4096 });
    try {
      const plain = await rawExchange(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.equal(statusOf(plain), 426);
      assert.match(plain, /\r\nUpgrade: websocket\r\n/i);
      assert.match(plain, /\r\nConnection: Upgrade, close\r\n/i);

      assert.equal(statusOf(await rawExchange(port, 'HELLO\r\n\r\n')), 400);
      assert.equal(statusOf(await rawExchange(port, 'GET / HTTP/1.1\nHost: x\n\n')), 400);

      const huge = `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(8000)}\r\n\r\n`;
      assert.equal(statusOf(await rawExchange(port, huge)), 431);

      const post = await rawExchange(port, upgradeRequest().replace('GET', 'POST'));
      assert.equal(statusOf(post), 405);
      assert.match(post, /\r\nAllow: GET\r\n/);

      const v8 = await rawExchange(port, upgradeRequest().replace('Version: 13', 'Version: 8'));
      assert.equal(statusOf(v8), 426);
      assert.match(v8, /\r\nSec-WebSocket-Version: 13\r\n/);

      const badKey = await rawExchange(port, upgradeRequest().replace('dGhlIHNhbXBsZSBub25jZQ==', 'short'));
      assert.equal(statusOf(badKey), 400);
    } finally {
      await closeServer(server);
    }
  });

  it('answers a valid request with 101 and the RFC 6455 sample accept value', async () => {
    const { server, port } = await startServer();
    server.on('connection', (connection: WebSocketConnection) => connection.terminate());
    try {
      const response = await rawExchange(port, upgradeRequest());
      assert.equal(statusOf(response), 101);
      // RFC 6455 §1.3's example key and accept value.
      assert.match(response, /\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n/);
    } finally {
      await closeServer(server);
    }
  });

  it('routes by path: another path gets 404', async () => {
    const { server, url } = await startServer({ path: '/ws' });
    try {
      const client = await openClient(`${url}/ws?token=1`);
      client.close();
      await clientClosed(client);
      assert.equal((await refused(`${url}/other`)).statusCode, 404);
    } finally {
      await closeServer(server);
    }
  });
});

describe('limits and hooks', () => {
  it('refuses with 503 past maxConnections and with 429 past maxConnectionsPerIp', async () => {
    const total = await startServer({ maxConnections: 1 });
    const perIp = await startServer({ maxConnectionsPerIp: 1 });
    try {
      const first = await openClient(total.url);
      assert.equal((await refused(total.url)).statusCode, 503);
      first.close();
      await clientClosed(first);
      // The slot is given back once the connection closed.
      await waitForCondition(async () => {
        const client = new WebSocket(total.url);
        client.on('error', () => {});
        const opened = await withTimeout(
          Promise.race([
            once(client, 'open').then(() => true),
            once(client, 'unexpected-response').then(() => false),
          ]),
          3000,
          'open or refusal',
        );
        client.terminate();
        return opened;
      });

      const one = await openClient(perIp.url);
      const response = await refused(perIp.url);
      assert.equal(response.statusCode, 429);
      assert.equal(response.headers['retry-after'], '1');
      one.close();
      await clientClosed(one);
    } finally {
      await closeServer(total.server);
      await closeServer(perIp.server);
    }
  });

  it('lets an async upgrade hook refuse with a custom status and headers, or accept with data', async () => {
    const { server, url } = await startServer({
      async upgrade(request: UpgradeRequest) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (request.headers.authorization !== 'Bearer good') {
          return { status: 401, message: 'who are you?', headers: { 'WWW-Authenticate': 'Bearer' } };
        }
        request.data = { user: 'alice' };
        request.responseHeaders = { 'X-Conduit': 'yes' };
        return undefined;
      },
    });
    try {
      const response = await refused(url);
      assert.equal(response.statusCode, 401);
      assert.equal(response.headers['www-authenticate'], 'Bearer');

      const connected = waitFor<[WebSocketConnection]>(server, 'connection');
      const client = new WebSocket(url, { headers: { Authorization: 'Bearer good' } });
      const upgraded = waitFor<[IncomingMessage]>(client, 'upgrade');
      const opened = waitFor(client, 'open');
      const [upgrade] = await upgraded;
      assert.equal(upgrade.headers['x-conduit'], 'yes');
      const [connection] = await connected;
      assert.deepEqual(connection.data, { user: 'alice' });
      await opened;
      client.close();
      await clientClosed(client);
    } finally {
      await closeServer(server);
    }
  });

  it('answers 500 when a hook throws, and reports it on handshakeError', async () => {
    const { server, url } = await startServer({
      upgrade() {
        throw new Error('boom');
      },
    });
    try {
      const reported = waitFor<[Error]>(server, 'handshakeError');
      assert.equal((await refused(url)).statusCode, 500);
      assert.equal((await reported)[0].message, 'boom');
    } finally {
      await closeServer(server);
    }
  });

  it('supports ws-style verifyClient (sync and async) and handleProtocols', async () => {
    const sync = await startServer({ verifyClient: (info: VerifyClientInfo) => info.req.url !== '/deny' });
    const async = await startServer({
      verifyClient: (info: VerifyClientInfo, done: VerifyClientCallback) => {
        setImmediate(() => done(info.origin === 'https://good.example', 403, 'bad origin'));
      },
      handleProtocols: (protocols) => (protocols.has('chat.v2') ? 'chat.v2' : false),
    });
    try {
      assert.equal((await refused(`${sync.url}/deny`)).statusCode, 401);
      assert.equal((await refused(async.url, { origin: 'https://evil.example' })).statusCode, 403);
      const client = new WebSocket(async.url, ['chat.v1', 'chat.v2'], { origin: 'https://good.example' });
      await waitFor(client, 'open');
      assert.equal(client.protocol, 'chat.v2');
      client.close();
      await clientClosed(client);
    } finally {
      await closeServer(sync.server);
      await closeServer(async.server);
    }
  });
});

describe('attached and noServer modes', () => {
  it('attaches to an http.Server on a path and leaves HTTP requests alone', async () => {
    const http = createServer((_, res) => res.end('plain http'));
    const wss = new WebSocketServer({ server: http, path: '/ws' });
    wss.on('connection', (connection: WebSocketConnection) => {
      connection.on('message', (data: Buffer, isBinary: boolean) =>
        connection.send(data, { binary: isBinary }),
      );
    });
    http.listen(0, '127.0.0.1');
    await waitFor(http, 'listening');
    const { port } = http.address() as { port: number };
    try {
      const text = await (await fetch(`http://127.0.0.1:${port}/`)).text();
      assert.equal(text, 'plain http');
      const client = await openClient(`ws://127.0.0.1:${port}/ws`);
      client.send('over http.Server');
      const [echoed] = await waitFor<[Buffer]>(client, 'message');
      assert.equal(echoed.toString(), 'over http.Server');
      client.close();
      await clientClosed(client);
      assert.equal((await refused(`ws://127.0.0.1:${port}/elsewhere`)).statusCode, 404);
    } finally {
      await closeServer(wss);
      http.closeAllConnections();
      http.close();
    }
  });

  it('completes upgrades given to handleUpgrade (noServer)', async () => {
    const wss = new WebSocketServer({ noServer: true });
    const http = createServer();
    http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (req.url === '/no') {
        socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
        return;
      }
      wss.handleUpgrade(req, socket, head, (connection: WebSocketConnection, request: UpgradeRequest) => {
        connection.send(`hello ${request.pathname}`);
      });
    });
    http.listen(0, '127.0.0.1');
    await waitFor(http, 'listening');
    const { port } = http.address() as { port: number };
    try {
      const client = new WebSocket(`ws://127.0.0.1:${port}/room?x=1`);
      const [greeting] = await waitFor<[Buffer]>(client, 'message');
      assert.equal(greeting.toString(), 'hello /room');
      client.close();
      await clientClosed(client);
      assert.equal((await refused(`ws://127.0.0.1:${port}/no`)).statusCode, 403);
    } finally {
      await closeServer(wss);
      http.closeAllConnections();
      http.close();
    }
  });
});

async function waitForCondition(check: () => Promise<boolean>, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
