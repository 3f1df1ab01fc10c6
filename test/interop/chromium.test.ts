/**
 * Conduit's WebSocketServer against headless Chromium (Debian package chromium, driven by
 * playwright-core). Servers attached to one `http.Server` by path — `/deflate` negotiates
 * permessage-deflate with the defaults, `/takeover` with context takeover, `/plain` not at all,
 * `/limited` has a 1 MiB maxPayload — and the same `http.Server` serves the page that runs the WHATWG
 * scenarios.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { chromiumSkip, QUIET_NETWORK_ARGS, useChromium } from '../helpers/chromium.js';
import { waitFor } from '../server/helpers.js';
import { InteropServer, TAKEOVER } from './conduit-peer.js';
import { withTimeout } from './helpers.js';
import { MODES, type Mode, whatwgTests } from './whatwg-checks.js';
import type { ScenarioName, ScenarioResult } from './whatwg-scenarios.js';

const skip = chromiumSkip('this interop test');

/** The page: loads the scenarios module and exposes `runScenario(base, name)` to page.evaluate. */
const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>Conduit interop</title>
<script type="module">
  import { runScenario } from '/whatwg-scenarios.js';
  window.runScenario = (base, name) =>
    runScenario((url, protocols) => new WebSocket(url, protocols), base, name);
  window.scenariosReady = true;
</script>`;

interface PageGlobals {
  runScenario(base: string, name: ScenarioName): Promise<ScenarioResult>;
  scenariosReady?: boolean;
}

async function serveFiles(): Promise<HttpServer> {
  const script = await readFile(join(import.meta.dirname, 'whatwg-scenarios.js'));
  const http = createServer((req, res) => {
    if (req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
    } else if (req.url === '/whatwg-scenarios.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(script);
    } else {
      res.writeHead(404).end();
    }
  });
  http.listen(0, '127.0.0.1');
  await waitFor(http, 'listening');
  return http;
}

describe('WebSocketServer (attached to an http.Server) against headless Chromium', { skip }, () => {
  let http: HttpServer;
  const servers = {} as Record<Mode, InteropServer>;
  let limited: InteropServer;
  const browser = useChromium(QUIET_NETWORK_ARGS);
  let page: Page;
  let origin: string;

  before(async () => {
    http = await serveFiles();
    origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    servers.deflate = await InteropServer.start({ server: http, path: '/deflate', perMessageDeflate: true });
    servers.takeover = await InteropServer.start({
      server: http,
      path: '/takeover',
      perMessageDeflate: TAKEOVER,
    });
    servers.plain = await InteropServer.start({ server: http, path: '/plain', perMessageDeflate: false });
    limited = await InteropServer.start({
      server: http,
      path: '/limited',
      perMessageDeflate: true,
      maxPayload: 1024 * 1024,
    });
    page = await browser().newPage();
    page.setDefaultTimeout(30_000);
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).scenariosReady === true);
  });
  after(async () => {
    await Promise.all([...Object.values(servers), limited].map((server) => server?.stop()));
    http?.closeAllConnections();
    await withTimeout(new Promise((resolve) => http?.close(resolve)), 5000, 'http close');
  });

  function run(mode: Mode, name: ScenarioName): Promise<ScenarioResult> {
    const evaluated = page.evaluate(
      ({ base, scenario }) => (globalThis as unknown as PageGlobals).runScenario(base, scenario),
      { base: `ws://127.0.0.1:${new URL(origin).port}/${mode}`, scenario: name },
    );
    return withTimeout(evaluated, 40_000, `chromium scenario ${mode}/${name}`);
  }

  whatwgTests(() => ({ run, server: (mode) => servers[mode], compressesSends: true }));

  it('sends its Origin and offers permessage-deflate in the handshake', async () => {
    for (const mode of MODES) {
      const { request, extensions } = await servers[mode].connection(`/${mode}?case=text`);
      assert.equal(request.origin, origin);
      assert.match(request.headers['user-agent'] ?? '', /Chrome\//);
      assert.match(request.headers['sec-websocket-extensions'] ?? '', /^permessage-deflate\b/);
      assert.match(extensions, mode === 'plain' ? /^$/ : /^permessage-deflate\b/);
      assert.ok(request.incomingMessage !== undefined, 'the upgrade came through the http.Server');
    }
  });

  it('leaves plain HTTP requests and other paths to the http.Server', async () => {
    const page404 = await fetch(`${origin}/elsewhere`);
    assert.equal(page404.status, 404);
    const html = await (await fetch(`${origin}/`)).text();
    assert.match(html, /Conduit interop/);
  });

  it('closes with 1009 when a compressed message inflates past maxPayload', async () => {
    const url = `ws://127.0.0.1:${new URL(origin).port}/limited?case=bomb`;
    const evaluated = page.evaluate(async (target) => {
      const ws = new WebSocket(target);
      const closed = new Promise<{ code: number; reason: string; wasClean: boolean }>((resolve) => {
        ws.onclose = ({ code, reason, wasClean }) => resolve({ code, reason, wasClean });
      });
      await new Promise((resolve, reject) => {
        ws.onopen = resolve;
        ws.onerror = () => reject(new Error('error event before open'));
      });
      // 2 MiB of zeros deflate to a few kB: the limit must hold on the inflated size.
      ws.send(new Uint8Array(2 * 1024 * 1024));
      return { extensions: ws.extensions, close: await closed };
    }, url);
    const { extensions, close } = await withTimeout(evaluated, 15_000, 'chromium decompression bomb');
    assert.match(extensions, /^permessage-deflate\b/);
    // RFC 6455 §7.4.1: 1009, message too big; the browser answered the close frame.
    assert.equal(close.code, 1009);
    assert.equal(close.wasClean, true);
    const record = await limited.connection('/limited?case=bomb');
    assert.equal((await limited.closed('/limited?case=bomb')).code, 1009);
    assert.equal(record.messages.length, 0);
    // What came on the wire was small and compressed: the server measured the inflated size.
    const [first] = record.tap.dataFrames();
    assert.equal(first?.rsv1, true);
    assert.ok(first.length < 64 * 1024, `first frame of ${first.length} bytes`);
  });
});
