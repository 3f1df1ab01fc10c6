/**
 * Conduit's opening handshake as seen by curl (Debian package curl), a plain HTTP/1.1 client that knows
 * nothing of WebSocket: the 101 response with the RFC 6455 §1.3 sample accept value, the first frames
 * after it, and the error responses of the standalone listener and of an attached server.
 */
import assert from 'node:assert/strict';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { WebSocketConnection } from '../../src/server/connection.js';
import { WebSocketServer } from '../../src/server/server.js';
import { closeServer, waitFor } from '../server/helpers.js';
import { ChildProcesses, findExecutable, missingPeer, withTimeout } from './helpers.js';

const CURL = findExecutable(['/usr/bin/curl', '/usr/local/bin/curl']);
const skip =
  CURL === undefined
    ? missingPeer('curl is needed for this interop test (install the Debian package curl)')
    : false;

/** RFC 6455 §1.3's sample key and the accept value it must produce. */
const SAMPLE_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const SAMPLE_ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

interface CurlResponse {
  status: number;
  headers: Map<string, string>;
  /** The bytes after the response head (the body, or the first frames after a 101). */
  body: Buffer;
  exitCode: number | null;
}

function parseResponse(raw: Buffer, exitCode: number | null): CurlResponse {
  const end = raw.indexOf('\r\n\r\n');
  assert.ok(end > 0, `no response head in ${JSON.stringify(raw.toString('latin1'))}`);
  const [statusLine, ...lines] = raw.subarray(0, end).toString('latin1').split('\r\n');
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  return { status: Number(statusLine?.split(' ')[1]), headers, body: raw.subarray(end + 4), exitCode };
}

describe('the opening handshake as curl sees it', { skip }, () => {
  const children = new ChildProcesses();
  let standalone: WebSocketServer;
  let port: number;
  /** The close code the server reported, per connection in order. */
  const closes: Promise<number>[] = [];

  /** Runs curl on 127.0.0.1:port with `headers`, bounded by --max-time. */
  async function curl(target: string, headers: string[], maxTime = 5): Promise<CurlResponse> {
    const args = ['--http1.1', '-sS', '-i', '-N', '--max-time', String(maxTime)];
    for (const header of headers) args.push('-H', header);
    const result = await children.run(CURL!, [...args, `http://127.0.0.1:${target}`], (maxTime + 5) * 1000);
    return parseResponse(result.stdoutBytes, result.code);
  }

  const upgradeHeaders = (version = '13') => [
    'Connection: Upgrade',
    'Upgrade: websocket',
    `Sec-WebSocket-Version: ${version}`,
    `Sec-WebSocket-Key: ${SAMPLE_KEY}`,
  ];

  before(async () => {
    // A peer that never answers our close frame is cut after closeTimeout (short here).
    standalone = new WebSocketServer({
      host: '127.0.0.1',
      port: 0,
      closeTimeout: 300,
      perMessageDeflate: true,
    });
    standalone.on('connection', (connection: WebSocketConnection) => {
      closes.push(new Promise((resolve) => connection.on('close', (code: number) => resolve(code))));
      connection.send('hello from conduit', { compress: false });
      connection.close(4000, 'bye');
    });
    await waitFor(standalone, 'listening');
    port = (standalone.address() as AddressInfo).port;
  });
  after(async () => {
    await children.stopAll();
    await closeServer(standalone);
  });

  it('answers 101 with the RFC 6455 sample accept value, then sends unmasked frames', async () => {
    const response = await curl(`${port}/`, upgradeHeaders());
    assert.equal(response.status, 101);
    assert.equal(response.headers.get('sec-websocket-accept'), SAMPLE_ACCEPT);
    assert.match(response.headers.get('upgrade') ?? '', /^websocket$/i);
    assert.match(response.headers.get('connection') ?? '', /\bupgrade\b/i);
    assert.equal(response.headers.has('sec-websocket-extensions'), false, 'nothing offered, nothing chosen');
    // RFC 6455 §5.1: a server never masks. A text frame, then a close frame with 4000 and 'bye'.
    const text = Buffer.from('hello from conduit');
    const expected = Buffer.concat([
      Buffer.from([0x81, text.length]),
      text,
      Buffer.from([0x88, 5, 0x0f, 0xa0]),
      Buffer.from('bye'),
    ]);
    assert.deepEqual([...response.body], [...expected]);
    // curl never answers the close frame: the server cut the connection after closeTimeout (1006).
    assert.equal(response.exitCode, 0, 'curl saw the server close the connection before --max-time');
    assert.equal(closes.length, 1);
    assert.equal(await withTimeout(closes[0]!, 5000, 'server-side close'), 1006);
  });

  it('answers a permessage-deflate offer, and chooses no subprotocol without handleProtocols', async () => {
    const response = await curl(`${port}/`, [
      ...upgradeHeaders(),
      'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits',
      'Sec-WebSocket-Protocol: chat',
    ]);
    assert.equal(response.status, 101);
    assert.match(response.headers.get('sec-websocket-extensions') ?? '', /^permessage-deflate\b/);
    // RFC 6455 §4.2.2: no Sec-WebSocket-Protocol field when the server selects none (the default).
    assert.equal(response.headers.has('sec-websocket-protocol'), false);
  });

  it('reads Connection and Upgrade as token lists, and refuses incomplete requests with 400', async () => {
    // RFC 6455 §4.2.1: tokens match case-insensitively within a list (Firefox sends `keep-alive, Upgrade`).
    const firefoxLike = await curl(`${port}/`, [
      'Connection: keep-alive, Upgrade',
      'Upgrade: WebSocket',
      'Sec-WebSocket-Version: 13',
      `Sec-WebSocket-Key: ${SAMPLE_KEY}`,
    ]);
    assert.equal(firefoxLike.status, 101);
    assert.equal(firefoxLike.headers.get('sec-websocket-accept'), SAMPLE_ACCEPT);
    const incomplete = [
      upgradeHeaders().filter((h) => !h.startsWith('Sec-WebSocket-Key')),
      [...upgradeHeaders(), `Sec-WebSocket-Key: ${SAMPLE_KEY}`],
      [...upgradeHeaders().filter((h) => !h.startsWith('Connection')), 'Connection: keep-alive'],
      [...upgradeHeaders(), 'Host:'],
    ];
    for (const headers of incomplete) {
      assert.equal((await curl(`${port}/`, headers)).status, 400, headers.join(' | '));
    }
  });

  it('answers a wrong Sec-WebSocket-Version with 426 and the version it speaks', async () => {
    for (const version of ['8', '14']) {
      const response = await curl(`${port}/`, upgradeHeaders(version));
      // RFC 6455 §4.2.2 and §4.4: 426 with Sec-WebSocket-Version: 13.
      assert.equal(response.status, 426);
      assert.equal(response.headers.get('sec-websocket-version'), '13');
      assert.equal(response.exitCode, 0, 'the server closed the connection after its answer');
    }
  });

  it('answers a plain GET with 426 Upgrade Required, naming websocket and version 13', async () => {
    const response = await curl(`${port}/`, []);
    // The documented behaviour (server/upgrade.ts checkRequest): RFC 9110 §15.5.22 needs an Upgrade header.
    assert.equal(response.status, 426);
    assert.match(response.headers.get('upgrade') ?? '', /^websocket$/i);
    assert.equal(response.headers.get('sec-websocket-version'), '13');
    assert.equal(Number(response.headers.get('content-length')), response.body.length);
    assert.equal(response.exitCode, 0);
  });

  describe('attached to an http.Server', () => {
    let http: HttpServer;
    let httpPort: number;
    let servers: WebSocketServer[];
    // Upgraded sockets are no longer the http.Server's to close: keep them to destroy what is left.
    const sockets = new Set<Socket>();

    before(async () => {
      http = createServer((_, res) => res.end('plain http'));
      http.on('connection', (socket: Socket) => sockets.add(socket));
      servers = ['/a', '/b'].map((path) => {
        const wss = new WebSocketServer({ server: http, path, closeTimeout: 300 });
        wss.on('connection', (connection: WebSocketConnection) => connection.close(1000, path));
        return wss;
      });
      http.listen(0, '127.0.0.1');
      await waitFor(http, 'listening');
      httpPort = (http.address() as AddressInfo).port;
    });
    after(async () => {
      await Promise.all(servers.map((wss) => closeServer(wss)));
      for (const socket of sockets) socket.destroy();
      await withTimeout(new Promise((resolve) => http.close(resolve)), 5000, 'http close');
    });

    it('upgrades on the paths of its servers and leaves plain requests to the http.Server', async () => {
      for (const path of ['/a', '/b']) {
        const response = await curl(`${httpPort}${path}`, upgradeHeaders());
        assert.equal(response.status, 101);
        assert.equal(response.exitCode, 0, 'the server cut the connection after closeTimeout');
        assert.equal(response.headers.get('sec-websocket-accept'), SAMPLE_ACCEPT);
        // The close frame of the server of that path: 1000 and the path as reason.
        assert.deepEqual([...response.body.subarray(0, 4)], [0x88, 4, 0x03, 0xe8]);
        assert.equal(response.body.subarray(4, 6).toString(), path);
      }
      const plain = await curl(`${httpPort}/a`, []);
      assert.equal(plain.status, 200);
      assert.equal(plain.body.toString(), 'plain http');
    });

    it('refuses an upgrade to a path that none of its servers accepts (documented: 404)', async () => {
      const response = await curl(`${httpPort}/elsewhere`, upgradeHeaders(), 2).catch((error) => error);
      assert.ok(!(response instanceof Error), String(response));
      assert.equal(response.status, 404);
    });
  });
});
