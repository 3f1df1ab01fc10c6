/**
 * The hub client SDK in headless Chromium (Debian package chromium, driven by playwright-core): the
 * page loads the compiled ES modules of dist/src/hub-client as they are (proof that they need nothing
 * from Node) and talks to Conduit's Hub, attached to the same http.Server that serves the page.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { Hub } from '../../src/hub/index.js';
import type { HubClient, MessageMeta, SubscribedInfo } from '../../src/hub-client/index.js';
import type { WebSocketServer } from '../../src/server/server.js';
import { chromiumSkip, useChromium } from '../helpers/chromium.js';
import { withTimeout } from '../interop/helpers.js';
import { waitFor } from '../server/helpers.js';

/** The compiled SDK (this file runs from dist/test/hub-client/). */
const SDK_DIR = join(import.meta.dirname, '..', '..', 'src', 'hub-client');

const skip = chromiumSkip('the hub client browser test');

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>Conduit hub client</title>
<script type="module">
  import * as sdk from '/hub-client/index.js';
  window.sdk = sdk;
  window.sdkReady = true;
</script>`;

/** What the page holds: the SDK module, and the state of the scenario running in it. */
interface PageGlobals {
  sdk: typeof import('../../src/hub-client/index.js');
  sdkReady?: boolean;
  client: HubClient;
  got: Array<{ data: unknown; meta: MessageMeta }>;
  subscribed: SubscribedInfo[];
  states: string[];
}

async function serve(): Promise<HttpServer> {
  const http = createServer(async (req, res) => {
    const module = /^\/hub-client\/([a-z-]+\.js)$/.exec(req.url ?? '');
    if (req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
    } else if (module !== null) {
      const code = await readFile(join(SDK_DIR, module[1]!)).catch(() => null);
      if (code === null) res.writeHead(404).end();
      else res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(code);
    } else {
      res.writeHead(404).end();
    }
  });
  http.listen(0, '127.0.0.1');
  await waitFor(http, 'listening');
  return http;
}

describe('HubClient in headless Chromium against the Hub', { skip }, () => {
  let http: HttpServer;
  let hub: Hub;
  let wss: WebSocketServer;
  const browser = useChromium();
  let page: Page;
  let origin: string;
  const upgrades: string[] = [];

  before(async () => {
    http = await serve();
    origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    hub = new Hub();
    // Only the page's origin may connect (browsers always send Origin).
    wss = hub.attach({ server: http, path: '/hub', origins: [origin] });
    wss.on('connection', (_connection: unknown, request: { url: string; origin?: string }) =>
      upgrades.push(`${request.origin} ${request.url}`),
    );
    page = await browser().newPage();
    page.setDefaultTimeout(15_000);
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).sdkReady === true);
  });
  after(async () => {
    await withTimeout(hub?.close() ?? Promise.resolve(), 5000, 'hub close');
    http?.closeAllConnections();
    await withTimeout(new Promise((resolve) => http?.close(resolve)), 5000, 'http close');
  });

  it('connects with the browser WebSocket, subscribes, publishes with ack and receives its message', async () => {
    const result = await withTimeout(
      page.evaluate(
        async (url) => {
          const g = globalThis as unknown as PageGlobals;
          g.got = [];
          g.subscribed = [];
          g.states = [];
          // No WebSocket option: the browser's global one.
          const client = new g.sdk.HubClient(url, { reconnect: { initialDelayMs: 10, maxDelayMs: 50 } });
          g.client = client;
          client.on('state', ({ state }) => g.states.push(state));
          const active = new Promise<void>((resolve) => {
            client.subscribe('browser.topic', {
              onMessage: (data, meta) => g.got.push({ data, meta }),
              onSubscribed: (info) => {
                g.subscribed.push(info);
                resolve();
              },
            });
          });
          client.connect();
          await active;
          const ack = await client.publish('browser.topic', { from: 'chromium' }, { ack: true });
          return { ack, clientId: client.clientId, states: g.states };
        },
        `ws://127.0.0.1:${new URL(origin).port}/hub`,
      ),
      20_000,
      'browser scenario',
    );
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).got.length === 1);
    const got = await page.evaluate(() => (globalThis as unknown as PageGlobals).got);
    assert.deepEqual(got[0]?.data, { from: 'chromium' });
    assert.equal(got[0]?.meta.offset, result.ack.offset);
    assert.deepEqual(result.states, ['connecting', 'connected']);
    assert.match(result.clientId, /.+/);
    // The browser sent its Origin and the client its session key.
    assert.match(upgrades.at(-1) ?? '', new RegExp(`^${origin} /hub\\?session=[\\w-]{22}$`));
  });

  it('reconnects after the hub cuts the connection and resumes exactly', async () => {
    for (const n of [1, 2]) await hub.publish('browser.topic', n);
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).got.length === 3);
    const reconnected = page.evaluate(
      () =>
        new Promise<void>((resolve) => {
          (globalThis as unknown as PageGlobals).client.once('connected', () => resolve());
        }),
    );
    for (const connection of wss.clients) connection.terminate();
    for (const n of [3, 4]) await hub.publish('browser.topic', n);
    await withTimeout(reconnected, 15_000, 'browser reconnect');
    await hub.publish('browser.topic', 5);
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).got.length === 6);
    const { got, subscribed } = await page.evaluate(() => {
      const g = globalThis as unknown as PageGlobals;
      return { got: g.got, subscribed: g.subscribed };
    });
    assert.deepEqual(
      got.map((m) => m.data),
      [{ from: 'chromium' }, 1, 2, 3, 4, 5],
    );
    const offsets = got.map((m) => m.meta.offset);
    assert.deepEqual(
      offsets,
      offsets.map((_, i) => offsets[0]! + i),
    );
    assert.deepEqual(
      subscribed.map((s) => [s.resumed, s.recovered]),
      [
        [false, false],
        [true, true],
      ],
    );
    await page.evaluate(() => (globalThis as unknown as PageGlobals).client.close());
  });
});
