/**
 * WebSockets over HTTP/2 (RFC 8441) from headless Chromium (Debian package chromium, driven by
 * playwright-core): the page comes over TLS h2 from a `node:http2` server that advertises
 * SETTINGS_ENABLE_CONNECT_PROTOCOL, and Chromium opens its WebSockets to the same origin as extended
 * CONNECT streams on that connection. The same page served by an HTTP/1.1-only server still works, with
 * HTTP/1.1 upgrades.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { createSecureServer, type Http2SecureServer, type ServerHttp2Session } from 'node:http2';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext } from 'playwright-core';
import type { WebSocketConnection } from '../../src/server/connection.js';
import { httpVersionOf } from '../../src/server/http2-connection.js';
import { WebSocketServer } from '../../src/server/server.js';
import { chromiumSkip, QUIET_NETWORK_ARGS, useChromium } from '../helpers/chromium.js';
import { closeServer, waitFor } from '../server/helpers.js';
import { makeTlsFixture } from '../server/tls-fixture.js';
import { withTimeout } from './helpers.js';

/** Chromium's flags: the test certificate is self-signed. */
const CHROMIUM_ARGS = [...QUIET_NETWORK_ARGS, '--ignore-certificate-errors'];

const fixture = makeTlsFixture();
const skip = typeof fixture === 'string' ? fixture : chromiumSkip('this interop test');

const PAGE = `<!doctype html><meta charset="utf-8"><title>Conduit over HTTP/2</title>`;

/** What the page reports about one WebSocket. */
interface SocketReport {
  echo: string;
  protocol: string;
  extensions: string;
  close: { code: number; reason: string; wasClean: boolean };
}

/** Runs in the page: opens `count` WebSockets at once, echoes one message on each, closes them. */
function exercise({ url, count }: { url: string; count: number }): Promise<SocketReport[]> {
  const one = async (i: number): Promise<SocketReport> => {
    const ws = new WebSocket(url, ['conduit.test']);
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = () => reject(new Error(`socket ${i} failed`));
    });
    const echoed = new Promise<string>((resolve) => {
      ws.onmessage = (event) => resolve(String(event.data));
    });
    ws.send(`hello ${i} ${'x'.repeat(2000)}`);
    const echo = await echoed;
    const closed = new Promise<SocketReport['close']>((resolve) => {
      ws.onclose = ({ code, reason, wasClean }) => resolve({ code, reason, wasClean });
    });
    ws.close(4000 + i, `bye ${i}`);
    return { echo, protocol: ws.protocol, extensions: ws.extensions, close: await closed };
  };
  return Promise.all(Array.from({ length: count }, (_, i) => one(i)));
}

type Handler = (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse) => void;

/** Serves the page and records the HTTP version of each page request. */
function pageHandler(versions: string[]): Handler {
  return (req, res) => {
    versions.push(req.httpVersion);
    if (req.url === '/') res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
    else res.writeHead(404).end();
  };
}

describe('Chromium opens WebSockets over HTTP/2 (RFC 8441)', { skip }, () => {
  let h2: Http2SecureServer;
  let h1: HttpsServer;
  const sessions = new Set<ServerHttp2Session>();
  const pageVersions: string[] = [];
  let overH2: WebSocketServer;
  let overH1: WebSocketServer;
  const accepted: { version: string; closeCode: number }[] = [];
  const browser = useChromium(CHROMIUM_ARGS);
  let context: BrowserContext;

  function track(connection: WebSocketConnection): void {
    const entry = { version: httpVersionOf(connection), closeCode: 0 };
    accepted.push(entry);
    connection.on('message', (data: Buffer) => connection.send(data.toString()));
    connection.on('close', (code: number) => {
      entry.closeCode = code;
    });
  }

  before(async () => {
    if (typeof fixture === 'string') return;
    const tls = { cert: fixture.cert, key: fixture.key };
    const handler = pageHandler(pageVersions);
    h2 = createSecureServer({ ...tls, allowHTTP1: true, settings: { enableConnectProtocol: true } }, handler);
    h2.on('session', (session: ServerHttp2Session) => {
      sessions.add(session);
      session.on('close', () => sessions.delete(session));
    });
    h1 = createHttpsServer(tls, handler);
    const options = {
      path: '/ws',
      perMessageDeflate: true,
      handleProtocols: (offered: Set<string>) => (offered.has('conduit.test') ? 'conduit.test' : false),
    };
    overH2 = new WebSocketServer({ server: h2, ...options });
    overH1 = new WebSocketServer({ server: h1, ...options });
    overH2.on('connection', track);
    overH1.on('connection', track);
    for (const server of [h2, h1]) {
      server.listen(0, '127.0.0.1');
      await waitFor(server, 'listening');
    }
    context = await browser().newContext({ ignoreHTTPSErrors: true });
  });

  after(async () => {
    await Promise.all([overH2, overH1].map((wss) => (wss ? closeServer(wss) : undefined)));
    for (const session of sessions) session.destroy();
    h1?.closeAllConnections();
    await Promise.all(
      [h2, h1].map((server) =>
        server
          ? withTimeout(new Promise((resolve) => server.close(resolve)), 5000, 'server close')
          : undefined,
      ),
    );
  });

  async function runPage(port: number, count: number): Promise<SocketReport[]> {
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    try {
      const origin = `https://127.0.0.1:${port}`;
      await page.goto(`${origin}/`);
      const run = page.evaluate(exercise, { url: `wss://127.0.0.1:${port}/ws`, count });
      return await withTimeout(run, 30_000, 'page WebSockets');
    } finally {
      await page.close();
    }
  }

  function assertReports(reports: SocketReport[]): void {
    reports.forEach((report, i) => {
      assert.equal(report.echo, `hello ${i} ${'x'.repeat(2000)}`);
      assert.equal(report.protocol, 'conduit.test');
      assert.match(report.extensions, /^permessage-deflate\b/);
      assert.deepEqual(report.close, { code: 4000 + i, reason: '', wasClean: true });
    });
  }

  it('loads the page over h2 and multiplexes its WebSockets on the same connection', async () => {
    const port = (h2.address() as AddressInfo).port;
    const before = accepted.length;
    const reports = await runPage(port, 4);
    assertReports(reports);
    // The page (and Chromium's favicon request) came over HTTP/2.
    assert.ok(
      pageVersions.length > 0 && pageVersions.every((version) => version === '2.0'),
      `${pageVersions}`,
    );
    // The server's counters: four handshakes, all extended CONNECT, none an HTTP/1.1 upgrade.
    assert.deepEqual({ ...overH2.upgradeCounts }, { '1.1': 0, '2': 4 });
    const mine = accepted.slice(before);
    assert.deepEqual(
      mine.map((entry) => entry.version),
      ['2', '2', '2', '2'],
    );
    await withTimeout(
      (async () => {
        while (mine.some((entry) => entry.closeCode === 0)) await new Promise((r) => setTimeout(r, 20));
      })(),
      5000,
      'server-side closes',
    );
    assert.deepEqual(mine.map((entry) => entry.closeCode).sort(), [4000, 4001, 4002, 4003]);
    // One TLS connection carried the page and every WebSocket.
    assert.equal(sessions.size, 1);
  });

  it('still works when the same page comes over HTTP/1.1', async () => {
    const port = (h1.address() as AddressInfo).port;
    const reports = await runPage(port, 2);
    assertReports(reports);
    assert.equal(pageVersions.at(-1), '1.1');
    assert.deepEqual({ ...overH1.upgradeCounts }, { '1.1': 2, '2': 0 });
  });
});
