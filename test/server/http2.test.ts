/**
 * WebSocketServer over HTTP/2 (RFC 8441): attached to node:http2 servers (TLS h2 next to HTTP/1.1
 * upgrades, cleartext h2c) and standalone with `http2: true`, against the Conduit client and a raw
 * node:http2 client that sends what a client should not.
 */
import assert from 'node:assert/strict';
import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  connect as connectHttp2,
  constants,
  createServer as createH2cServer,
  createSecureServer,
  type Http2SecureServer,
  type Http2Server,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type SecureServerOptions,
  type ServerHttp2Session,
} from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import type { WebSocketConnection } from '../../src/server/connection.js';
import { Http2WebSocketConnection, httpVersionOf } from '../../src/server/http2-connection.js';
import type { WebSocketServerOptions } from '../../src/server/options.js';
import { WebSocketServer } from '../../src/server/server.js';
import { closeOf, Messages, openWebSocket } from '../client/helpers.js';
import { clientFrame, closeServer, fastWheel, waitFor, withTimeout } from './helpers.js';
import { makeTlsFixture } from './tls-fixture.js';

const fixture = makeTlsFixture();
const tlsSkip = typeof fixture === 'string' ? fixture : false;

type AnyH2Server = Http2Server | Http2SecureServer;

/** An HTTP/2 server on 127.0.0.1 whose sessions are destroyed on close (bounded). */
async function listenH2(server: AnyH2Server): Promise<{ port: number; stop: () => Promise<void> }> {
  const sessions = new Set<ServerHttp2Session>();
  server.on('session', (session: ServerHttp2Session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  // HTTP/1.1 sockets (allowHTTP1) are no sessions: Node 24 waits for them in close(), so end them too.
  const sockets = new Set<Socket>();
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };
  server.on('connection', track);
  server.on('secureConnection', track);
  server.listen(0, '127.0.0.1');
  await waitFor(server, 'listening');
  const stop = async (): Promise<void> => {
    for (const session of sessions) session.destroy();
    for (const socket of sockets) socket.destroy();
    await withTimeout(new Promise((resolve) => server.close(resolve)), 5000, 'http2 server close');
  };
  return { port: (server.address() as AddressInfo).port, stop };
}

function secureServer(options: SecureServerOptions = {}): Http2SecureServer {
  if (typeof fixture === 'string') throw new Error(fixture);
  return createSecureServer({
    cert: fixture.cert,
    key: fixture.key,
    allowHTTP1: true,
    settings: { enableConnectProtocol: true },
    ...options,
  });
}

/** A raw client session, once the server's SETTINGS arrived. */
async function rawSession(url: string): Promise<ClientHttp2Session> {
  const session = connectHttp2(url, { rejectUnauthorized: false });
  session.on('error', () => {});
  await waitFor(session, 'remoteSettings');
  return session;
}

/** Sends a CONNECT-style request; resolves with the response headers (or rejects when reset). */
async function rawRequest(
  session: ClientHttp2Session,
  headers: OutgoingHttpHeaders,
): Promise<{ stream: ClientHttp2Stream; response: IncomingHttpHeaders }> {
  const stream = session.request(headers, { endStream: false });
  const response = new Promise<IncomingHttpHeaders>((resolve, reject) => {
    stream.once('response', resolve);
    stream.once('error', reject);
    stream.once('close', () => reject(new Error(`stream closed (rst ${stream.rstCode})`)));
  });
  return { stream, response: await withTimeout(response, 5000, 'CONNECT response') };
}

/** Collects a stream's bytes until it ends; resolves with them as text. */
function bodyOf(stream: ClientHttp2Stream): Promise<string> {
  let body = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    body += chunk;
  });
  return withTimeout(
    new Promise((resolve) => stream.once('close', () => resolve(body))),
    5000,
    'response body',
  );
}

function websocketConnect(path: string, extra: OutgoingHttpHeaders = {}): OutgoingHttpHeaders {
  return {
    ':method': 'CONNECT',
    ':protocol': 'websocket',
    ':scheme': 'http',
    ':path': path,
    'sec-websocket-version': '13',
    ...extra,
  };
}

function echo(connection: WebSocketConnection): void {
  connection.on('message', (data: Buffer, isBinary: boolean) => connection.send(data, { binary: isBinary }));
}

async function attached(
  server: AnyH2Server,
  options: Omit<WebSocketServerOptions, 'server'> = {},
): Promise<WebSocketServer> {
  return new WebSocketServer({ server, ...options });
}

/** Parses unmasked server frames (RFC 6455 §5.2) from a byte stream. */
class FrameReader {
  readonly frames: { opcode: number; payload: Buffer }[] = [];
  private pending = Buffer.alloc(0);

  push(chunk: Buffer): void {
    this.pending = Buffer.concat([this.pending, chunk]);
    for (;;) {
      const head = this.pending;
      if (head.length < 2) return;
      let length = head[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (head.length < 4) return;
        length = head.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (head.length < 10) return;
        length = Number(head.readBigUInt64BE(2));
        offset = 10;
      }
      if (head.length < offset + length) return;
      this.frames.push({ opcode: head[0]! & 0x0f, payload: head.subarray(offset, offset + length) });
      this.pending = head.subarray(offset + length);
    }
  }
}

describe('WebSocketServer on a node:http2 TLS server (allowHTTP1)', { skip: tlsSkip }, () => {
  it('takes HTTP/2 extended CONNECT and HTTP/1.1 upgrades on one port, and leaves requests to the app', async () => {
    const h2 = secureServer();
    h2.on('request', (req, res) => res.end(`page ${req.httpVersion} ${req.url}`));
    const { port, stop } = await listenH2(h2);
    const wss = await attached(h2, { path: '/ws' });
    const seen: { version: string; secure: boolean; host: string | undefined; instance: boolean }[] = [];
    wss.on(
      'connection',
      (connection: WebSocketConnection, request: { secure: boolean; headers: Record<string, string> }) => {
        seen.push({
          version: httpVersionOf(connection),
          secure: request.secure,
          host: request.headers.host,
          instance: connection instanceof Http2WebSocketConnection,
        });
        echo(connection);
      },
    );
    try {
      const tls = { rejectUnauthorized: false };
      const overH2 = await openWebSocket(`wss://127.0.0.1:${port}/ws`, undefined, { ...tls, http2: true });
      const overH1 = await openWebSocket(`wss://127.0.0.1:${port}/ws`, undefined, tls);
      for (const ws of [overH2, overH1]) {
        const messages = new Messages(ws);
        ws.send('ping over both');
        assert.equal(await messages.next(), 'ping over both');
      }
      assert.deepEqual(seen, [
        { version: '2', secure: true, host: `127.0.0.1:${port}`, instance: true },
        { version: '1.1', secure: true, host: `127.0.0.1:${port}`, instance: false },
      ]);
      assert.deepEqual({ ...wss.upgradeCounts }, { '1.1': 1, '2': 1 });
      // Plain requests still reach the application's handler, over HTTP/2 too.
      const session = await rawSession(`https://127.0.0.1:${port}`);
      const page = session.request({ ':path': '/index.html' });
      assert.equal(await bodyOf(page), 'page 2.0 /index.html');
      // A WebSocket CONNECT to another path is no server's; without an app 'connect' listener: 404.
      const { stream, response } = await rawRequest(session, websocketConnect('/elsewhere'));
      assert.equal(response[':status'], 404);
      stream.close();
      session.close();
      for (const ws of [overH2, overH1]) {
        const closed = closeOf(ws);
        ws.close(1000, 'done');
        assert.equal((await closed).wasClean, true);
      }
    } finally {
      await closeServer(wss);
      await stop();
    }
  });

  it('multiplexes many WebSockets on one HTTP/2 connection', async () => {
    const h2 = secureServer();
    const { port, stop } = await listenH2(h2);
    const wss = await attached(h2);
    const connections: WebSocketConnection[] = [];
    wss.on('connection', (connection: WebSocketConnection) => {
      connections.push(connection);
      echo(connection);
    });
    try {
      const options = { rejectUnauthorized: false, http2: true as const };
      const sockets = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          openWebSocket(`wss://127.0.0.1:${port}/room/${i}`, undefined, options),
        ),
      );
      const replies = await Promise.all(
        sockets.map(async (ws, i) => {
          const messages = new Messages(ws);
          ws.send(`socket ${i}`);
          return messages.next();
        }),
      );
      assert.deepEqual(
        replies,
        Array.from({ length: 8 }, (_, i) => `socket ${i}`),
      );
      // One TCP connection: every connection's socket is the same session socket (same client port).
      assert.equal(connections.length, 8);
      assert.equal(new Set(connections.map((c) => c.socket.remotePort)).size, 1);
      assert.equal(new Set(connections.map((c) => (c as Http2WebSocketConnection).stream)).size, 8);
      const serverCloses = connections.map((c) => waitFor(c, 'close'));
      await Promise.all(
        sockets.map((ws) => {
          const closed = closeOf(ws);
          ws.close();
          return closed;
        }),
      );
      await Promise.all(serverCloses);
      assert.equal(wss.clients.size, 0);
    } finally {
      await closeServer(wss);
      await stop();
    }
  });

  it('negotiates permessage-deflate and subprotocols over HTTP/2', async () => {
    const h2 = secureServer();
    const { port, stop } = await listenH2(h2);
    const wss = await attached(h2, {
      perMessageDeflate: true,
      handleProtocols: (offered) => (offered.has('chat.v2') ? 'chat.v2' : false),
    });
    let received = 0;
    wss.on('connection', (connection: WebSocketConnection) => {
      connection.on('message', (data: Buffer) => {
        received = data.length;
        connection.send(data.toString());
      });
    });
    try {
      const ws = await openWebSocket(`wss://127.0.0.1:${port}/`, ['chat.v1', 'chat.v2'], {
        rejectUnauthorized: false,
        http2: true,
        perMessageDeflate: true,
      });
      assert.equal(ws.protocol, 'chat.v2');
      assert.match(ws.extensions, /^permessage-deflate\b/);
      const messages = new Messages(ws);
      const big = 'compressible '.repeat(20_000);
      ws.send(big);
      assert.equal(await messages.next(), big);
      assert.equal(received, big.length);
      const [client] = wss.clients;
      assert.match(client!.extensions, /^permessage-deflate\b/);
      const closed = closeOf(ws);
      ws.close();
      await closed;
    } finally {
      await closeServer(wss);
      await stop();
    }
  });
});

describe('WebSocketServer on a cleartext node:http2 server (h2c)', () => {
  it('answers malformed and refused extended CONNECTs with the right status', async () => {
    const h2 = createH2cServer({ settings: { enableConnectProtocol: true } });
    const { port, stop } = await listenH2(h2);
    const wss = await attached(h2, {
      upgrade: (request) =>
        request.url.includes('deny') ? { status: 401, message: 'who are you' } : undefined,
    });
    try {
      const session = await rawSession(`http://127.0.0.1:${port}`);
      const cases: [OutgoingHttpHeaders, number, string | undefined][] = [
        [{ ':method': 'CONNECT', ':authority': `127.0.0.1:${port}` }, 400, undefined],
        [websocketConnect('/', { ':protocol': 'webtransport' }), 400, undefined],
        [websocketConnect('/', { 'sec-websocket-version': '8' }), 400, '13'],
        [{ ...websocketConnect('/'), 'sec-websocket-version': undefined }, 400, '13'],
        [websocketConnect('/', { 'sec-websocket-protocol': 'a b' }), 400, undefined],
        [websocketConnect('/?deny=1'), 401, undefined],
      ];
      for (const [headers, status, version] of cases) {
        const clean = Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== undefined));
        const { stream, response } = await rawRequest(session, clean);
        assert.equal(response[':status'], status, JSON.stringify(clean));
        assert.equal(response['sec-websocket-version'], version);
        await bodyOf(stream);
      }
      session.close();
    } finally {
      await closeServer(wss);
      await stop();
    }
  });

  it('resets a CONNECT whose handshake outlasts handshakeTimeout', async () => {
    const h2 = createH2cServer({ settings: { enableConnectProtocol: true } });
    const { port, stop } = await listenH2(h2);
    const wss = await attached(h2, {
      handshakeTimeout: 50,
      timerWheel: fastWheel(),
      upgrade: () => new Promise<undefined>((resolve) => setTimeout(resolve, 500)),
    });
    let connections = 0;
    wss.on('connection', () => connections++);
    try {
      const session = await rawSession(`http://127.0.0.1:${port}`);
      const stream = session.request(websocketConnect('/'), { endStream: false });
      stream.on('error', () => {});
      await waitFor(stream, 'close');
      assert.equal(stream.rstCode, constants.NGHTTP2_CANCEL);
      // The late verdict finds the stream gone: no connection, and the server can still close.
      await new Promise((resolve) => setTimeout(resolve, 600));
      assert.equal(connections, 0);
      session.close();
    } finally {
      await closeServer(wss);
      await stop();
    }
  });

  it('is refused by node:http2 itself when the server does not advertise the setting', async () => {
    const h2 = createH2cServer();
    const { port, stop } = await listenH2(h2);
    const wss = await attached(h2);
    let connections = 0;
    wss.on('connection', () => connections++);
    try {
      const session = await rawSession(`http://127.0.0.1:${port}`);
      assert.equal(session.remoteSettings.enableConnectProtocol, false);
      const stream = session.request(websocketConnect('/'), { endStream: false });
      const [error] = await waitFor<[NodeJS.ErrnoException]>(stream, 'error');
      assert.equal(error.code, 'ERR_HTTP2_STREAM_ERROR');
      assert.equal(stream.rstCode, constants.NGHTTP2_PROTOCOL_ERROR);
      assert.equal(connections, 0);
      session.close();
    } finally {
      await closeServer(wss);
      await stop();
    }
  });

  it('maps a slow reader onto backpressure and loses nothing', async () => {
    const h2 = createH2cServer({ settings: { enableConnectProtocol: true } });
    const { port, stop } = await listenH2(h2);
    // A high water mark well above the stream's flow-control window (64 KiB): backpressure can only
    // build up once the window is exhausted and the stream queues what HTTP/2 may not send yet.
    const wss = await attached(h2, { highWaterMark: 256 * 1024, maxBackpressure: 8 * 1024 * 1024 });
    const session = await rawSession(`http://127.0.0.1:${port}`);
    try {
      const accepted = waitFor<[WebSocketConnection]>(wss, 'connection');
      const { stream } = await rawRequest(session, websocketConnect('/'));
      const [server] = await accepted;
      // The client reads nothing: its window fills and the server's sends queue up.
      stream.pause();
      const size = 16 * 1024;
      let sent = 0;
      let accepting = true;
      while (accepting && sent < 1000) {
        const message = Buffer.alloc(size);
        message.writeUInt32BE(sent, 0);
        accepting = server.send(message);
        sent++;
      }
      assert.equal(accepting, false, 'send() reported backpressure');
      assert.ok(sent * size >= 256 * 1024, `${sent} messages queued`);
      assert.ok(server.bufferedAmount >= 256 * 1024);
      const drained = waitFor(server, 'drain', 10_000);
      const reader = new FrameReader();
      stream.on('data', (chunk: Buffer) => reader.push(chunk));
      stream.resume();
      await drained;
      await withTimeout(
        (async () => {
          while (reader.frames.length < sent) await new Promise((resolve) => setTimeout(resolve, 10));
        })(),
        10_000,
        'every frame',
      );
      assert.deepEqual(
        reader.frames.map((frame) => frame.payload.readUInt32BE(0)),
        Array.from({ length: sent }, (_, i) => i),
      );
      assert.ok(reader.frames.every((frame) => frame.opcode === 2 && frame.payload.length === size));
    } finally {
      session.destroy();
      await closeServer(wss);
      await stop();
    }
  });

  it('maps close codes both ways, terminate onto RST_STREAM(CANCEL) and a peer reset onto 1006', async () => {
    const h2 = createH2cServer({ settings: { enableConnectProtocol: true } });
    const { port, stop } = await listenH2(h2);
    const wss = await attached(h2);
    const url = `ws://127.0.0.1:${port}/`;
    try {
      // Client closes: the server sees its code and reason; the stream ends cleanly on both sides.
      let accepted = waitFor<[WebSocketConnection]>(wss, 'connection');
      let ws = await openWebSocket(url, undefined, { http2: true });
      let [server] = await accepted;
      let serverClosed = waitFor<[number, string]>(server, 'close');
      let clientClosed = closeOf(ws);
      ws.close(4001, 'client says bye');
      assert.deepEqual(await serverClosed, [4001, 'client says bye']);
      // The server's reply repeats the code (RFC 6455 §5.5.1), without a reason.
      const reply = await clientClosed;
      assert.deepEqual([reply.code, reply.wasClean], [4001, true]);
      assert.equal((server as Http2WebSocketConnection).stream.rstCode, constants.NGHTTP2_NO_ERROR);

      // Server closes.
      accepted = waitFor<[WebSocketConnection]>(wss, 'connection');
      ws = await openWebSocket(url, undefined, { http2: true });
      [server] = await accepted;
      serverClosed = waitFor<[number, string]>(server, 'close');
      clientClosed = closeOf(ws);
      server.close(4002, 'server says bye');
      const event = await clientClosed;
      assert.deepEqual([event.code, event.reason, event.wasClean], [4002, 'server says bye', true]);
      assert.deepEqual(await serverClosed, [4002, '']);

      // Server terminates: the client's stream is reset with CANCEL, the client reports 1006.
      const session = await rawSession(`http://127.0.0.1:${port}`);
      accepted = waitFor<[WebSocketConnection]>(wss, 'connection');
      const raw = await rawRequest(session, websocketConnect('/'));
      [server] = await accepted;
      const rawClosed = waitFor(raw.stream, 'close');
      server.terminate();
      await rawClosed;
      assert.equal(raw.stream.rstCode, constants.NGHTTP2_CANCEL);

      // The client resets its stream: the server reports 1006.
      accepted = waitFor<[WebSocketConnection]>(wss, 'connection');
      const other = await rawRequest(session, websocketConnect('/'));
      [server] = await accepted;
      serverClosed = waitFor<[number, string]>(server, 'close');
      other.stream.write(clientFrame(0x1, Buffer.from('last words')));
      other.stream.close(constants.NGHTTP2_CANCEL);
      assert.deepEqual(await serverClosed, [1006, '']);
      session.close();
    } finally {
      await closeServer(wss);
      await stop();
    }
  });
});

describe('standalone WebSocketServer with http2: true', () => {
  it('serves h2c and HTTP/1.1 upgrades on one cleartext port, and closes HTTP/2 clients with 1001', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', http2: true, path: '/live' });
    await waitFor(wss, 'listening');
    wss.on('connection', echo);
    const port = (wss.address() as AddressInfo).port;
    try {
      const h2 = await openWebSocket(`ws://127.0.0.1:${port}/live`, undefined, { http2: true });
      const h1 = await openWebSocket(`ws://127.0.0.1:${port}/live`);
      for (const ws of [h2, h1]) {
        const messages = new Messages(ws);
        ws.send('standalone');
        assert.equal(await messages.next(), 'standalone');
      }
      assert.deepEqual({ ...wss.upgradeCounts }, { '1.1': 1, '2': 1 });
      const session = await rawSession(`http://127.0.0.1:${port}`);
      assert.equal(session.remoteSettings.enableConnectProtocol, true);
      const get = await rawRequest(session, { ':path': '/live' });
      assert.equal(get.response[':status'], 405);
      assert.equal(get.response.allow, 'CONNECT');
      await bodyOf(get.stream);
      const missing = await rawRequest(session, websocketConnect('/other'));
      assert.equal(missing.response[':status'], 404);
      await bodyOf(missing.stream);
      session.close();
      const closes = [closeOf(h2), closeOf(h1)];
      await closeServer(wss);
      assert.deepEqual(
        (await Promise.all(closes)).map((event) => event.code),
        [1001, 1001],
      );
    } finally {
      await closeServer(wss);
    }
  });

  it('serves h2 and HTTP/1.1 over TLS, chosen by ALPN', { skip: tlsSkip }, async () => {
    if (typeof fixture === 'string') return;
    const wss = new WebSocketServer({
      port: 0,
      host: '127.0.0.1',
      http2: true,
      tls: { cert: fixture.cert, key: fixture.key },
    });
    await waitFor(wss, 'listening');
    const versions: string[] = [];
    wss.on('connection', (connection: WebSocketConnection, request: { secure: boolean }) => {
      versions.push(`${httpVersionOf(connection)} ${request.secure}`);
      echo(connection);
    });
    const port = (wss.address() as AddressInfo).port;
    try {
      const options = { ca: fixture.cert, servername: 'localhost' };
      const h2 = await openWebSocket(`wss://127.0.0.1:${port}/`, undefined, { ...options, http2: true });
      const h1 = await openWebSocket(`wss://127.0.0.1:${port}/`, undefined, options);
      for (const ws of [h2, h1]) {
        const messages = new Messages(ws);
        ws.send(new Uint8Array([1, 2, 3]));
        ws.binaryType = 'nodebuffer';
        assert.deepEqual([...((await messages.next()) as Buffer)], [1, 2, 3]);
      }
      assert.deepEqual(versions, ['2 true', '1.1 true']);
      await Promise.all(
        [h2, h1].map((ws) => {
          const closed = closeOf(ws);
          ws.close();
          return closed;
        }),
      );
    } finally {
      await closeServer(wss);
    }
  });

  it('counts upgrades per HTTP version on the metrics registry', async () => {
    const registry = new Registry();
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', http2: true, metrics: { registry } });
    await waitFor(wss, 'listening');
    const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`;
    try {
      const sockets = [
        await openWebSocket(url, undefined, { http2: true }),
        await openWebSocket(url, undefined, { http2: true }),
        await openWebSocket(url),
      ];
      const text = await registry.getSingleMetricAsString('conduit_upgrades_total');
      assert.match(text, /conduit_upgrades_total\{http_version="2"\} 2/);
      assert.match(text, /conduit_upgrades_total\{http_version="1.1"\} 1/);
      await Promise.all(
        sockets.map((ws) => {
          const closed = closeOf(ws);
          ws.close();
          return closed;
        }),
      );
    } finally {
      await closeServer(wss);
    }
  });

  it('rejects http2 without port', () => {
    const h2 = createH2cServer();
    assert.throws(() => new WebSocketServer({ server: h2, http2: true }), TypeError);
  });
});

describe('WebSocketServer with noServer and handleHttp2Stream', () => {
  it("completes CONNECT streams the application routes to it from its own 'stream' listener", async () => {
    const h2 = createH2cServer({ settings: { enableConnectProtocol: true } });
    const wss = new WebSocketServer({ noServer: true, path: '/socket' });
    const requests: string[] = [];
    h2.on('stream', (stream, headers) => {
      if (headers[':method'] === 'CONNECT') {
        wss.handleHttp2Stream(stream, headers, (connection, request) => {
          requests.push(`${request.method} ${request.url}`);
          echo(connection);
        });
      } else {
        stream.respond({ ':status': 200 });
        stream.end('not a socket');
      }
    });
    const { port, stop } = await listenH2(h2);
    try {
      const ws = await openWebSocket(`ws://127.0.0.1:${port}/socket?id=7`, undefined, { http2: true });
      const messages = new Messages(ws);
      ws.send('routed');
      assert.equal(await messages.next(), 'routed');
      assert.deepEqual(requests, ['CONNECT /socket?id=7']);
      // Its `path` still applies.
      const session = await rawSession(`http://127.0.0.1:${port}`);
      const { stream, response } = await rawRequest(session, websocketConnect('/other'));
      assert.equal(response[':status'], 404);
      await bodyOf(stream);
      session.close();
      const closed = closeOf(ws);
      ws.close();
      await closed;
    } finally {
      await closeServer(wss);
      await stop();
    }
  });
});
