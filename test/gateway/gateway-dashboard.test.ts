/**
 * The live dashboard on the gateway's admin listener: its building blocks (the Prometheus text reader,
 * the origin rule, the page markup, the close-code table), its routes and feed from Node (an in-process
 * Gateway in front of two `ws` echo backends, real traffic through it, a backend that goes away), and
 * the page itself in headless Chromium (Debian package chromium, driven by playwright-core) showing
 * upstream health and numbers that move with the traffic.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { buildGatewaySnapshot } from '../../src/gateway/gateway-dashboard-sections.js';
import type { GatewayStatus } from '../../src/gateway/gateway-status.js';
import { feedOrigin } from '../../src/observability/dashboard/dashboard-origin.js';
import { dashboardHtml } from '../../src/observability/dashboard/dashboard-page.js';
import { parsePrometheusText } from '../../src/observability/dashboard/prometheus-text.js';
import { chromiumSkip, useChromium } from '../helpers/chromium.js';
import {
  eventTexts,
  FeedReader,
  openDashboard,
  section,
  shown,
  stat,
  table,
  unexpectedErrors,
  value,
} from '../helpers/dashboard-page.js';
import { ask, http, startTestGateway, type TestGateway } from './gateway-helpers.js';
import { openThrough, startWsBackend, type WsBackend, withTimeout } from './helpers.js';

/** A gateway with one `/chat` route to two backends, health-checked every 300 ms. */
function gatewayYaml(backends: WsBackend[]): string {
  return [
    'listen: [{ port: 0, host: 127.0.0.1 }]',
    'upstreams:',
    '  echo:',
    '    balance: round-robin',
    `    backends: [${backends.map((backend) => backend.url).join(', ')}]`,
    '    healthCheck: { interval: 300ms, timeout: 250ms, unhealthyThreshold: 1, healthyThreshold: 1 }',
    '    connectTimeout: 1s',
    'routes: [{ name: chat, path: /chat, upstream: echo }]',
    'admin: { port: 0 }',
    'drainTimeout: 1s',
    '',
  ].join('\n');
}

/** Two echo backends and a gateway in front of them. */
async function startSetup(): Promise<{ backends: WsBackend[]; gateway: TestGateway }> {
  const backends = [await startWsBackend(), await startWsBackend()];
  return { backends, gateway: await startTestGateway(gatewayYaml(backends)) };
}

async function stopSetup(setup: { backends: WsBackend[]; gateway: TestGateway } | undefined): Promise<void> {
  if (setup === undefined) return;
  await setup.gateway.close();
  for (const backend of setup.backends) await backend.close().catch(() => {});
}

/** Clients through the gateway, each sending a message every 100 ms (the backends echo them). */
class Traffic {
  readonly clients: WebSocket[] = [];
  private timer: NodeJS.Timeout | null = null;

  static async start(url: string, count: number): Promise<Traffic> {
    const traffic = new Traffic();
    for (let i = 0; i < count; i++) {
      const client = await openThrough(`${url}/chat`);
      traffic.clients.push(client);
      assert.equal(await ask(client, `hello ${i}`), `hello ${i}`);
    }
    traffic.timer = setInterval(() => {
      for (const client of traffic.clients) {
        if (client.readyState === WebSocket.OPEN) client.send('x'.repeat(100));
      }
    }, 100);
    return traffic;
  }

  /** Stops sending and closes every client normally (1000). */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    for (const client of this.clients) client.close(1000);
  }
}

describe('gateway dashboard building blocks', () => {
  it('reads the Prometheus text format: labels with escapes, infinities, timestamps, only what is asked', () => {
    const text = [
      '# HELP conduit_gateway_messages_total Messages relayed',
      '# TYPE conduit_gateway_messages_total counter',
      'conduit_gateway_messages_total{route="chat",upstream="echo",direction="upstream"} 12',
      'conduit_gateway_messages_total{route="a \\"b\\" \\\\ c\\nd",direction="downstream",} 3.5 1735725600000',
      'conduit_gateway_bytes_total{route="chat"} +Inf',
      'conduit_gateway_frames_total{route="chat"} 99',
      'conduit_gateway_connections_total 7',
      'conduit_gateway_connections_total{route="broken} 1',
      'conduit_gateway_connections_total{route="x"} NaN',
      '',
    ].join('\n');
    const reading = parsePrometheusText(text, [
      'conduit_gateway_messages_total',
      'conduit_gateway_bytes_total',
      'conduit_gateway_connections_total',
      'conduit_gateway_upgrades_total',
    ]);
    assert.deepEqual(reading.get('conduit_gateway_messages_total'), [
      { labels: { route: 'chat', upstream: 'echo', direction: 'upstream' }, value: 12 },
      { labels: { route: 'a "b" \\ c\nd', direction: 'downstream' }, value: 3.5 },
    ]);
    assert.deepEqual(reading.get('conduit_gateway_bytes_total'), [
      { labels: { route: 'chat' }, value: Number.POSITIVE_INFINITY },
    ]);
    assert.deepEqual(
      reading.get('conduit_gateway_connections_total'),
      [{ labels: {}, value: 7 }],
      'malformed and NaN samples are skipped',
    );
    assert.equal(reading.has('conduit_gateway_frames_total'), false, 'not asked for');
    assert.equal(reading.has('conduit_gateway_upgrades_total'), false, 'asked for, but absent');
  });

  it('lets scripts and pages of the same server read the feed, not pages of other sites', () => {
    assert.equal(feedOrigin(undefined, '127.0.0.1:9901'), 'none');
    assert.equal(feedOrigin('http://127.0.0.1:9901', '127.0.0.1:9901'), 'same');
    assert.equal(feedOrigin('http://Admin.Example:9901', 'admin.example:9901'), 'same');
    assert.equal(feedOrigin('http://127.0.0.1:9902', '127.0.0.1:9901'), 'foreign');
    assert.equal(feedOrigin('https://evil.example', '127.0.0.1:9901'), 'foreign');
    assert.equal(feedOrigin('null', '127.0.0.1:9901'), 'foreign');
    assert.equal(feedOrigin('http://127.0.0.1:9901', undefined), 'foreign');
  });

  it('builds the page for where a server serves its files, escaped', () => {
    const html = dashboardHtml({
      modules: '/x/js/',
      stylesheet: '/x/style.css',
      icon: '/x/icon.svg',
      links: [{ href: '/status?a=1&b="2"', text: 'Status <JSON>' }],
    });
    assert.match(html, /<script type="module" src="\/x\/js\/dashboard-app\.js"><\/script>/);
    assert.match(html, /<link rel="stylesheet" href="\/x\/style\.css">/);
    assert.match(html, /<a href="\/status\?a=1&amp;b=&quot;2&quot;">Status &lt;JSON&gt;<\/a>/);
    assert.doesNotMatch(html, /<script>|<style>|style=/, 'no inline script or style');
  });

  it('tables close codes by side when the metrics count them, and says so when they do not', () => {
    const status: GatewayStatus = {
      source: 'gateway.yaml',
      loadedAt: new Date(0).toISOString(),
      reloads: { ok: 0, failed: 0, lastError: null },
      draining: false,
      listeners: [],
      admin: null,
      connections: 0,
      routes: [],
      upstreams: [],
    };
    const input = {
      values: {},
      series: new Map<string, number[]>(),
      status,
      routeRates: new Map(),
      events: [],
      time: 0,
      intervalMs: 1000,
    };
    const counted = buildGatewaySnapshot({
      ...input,
      reading: new Map([
        [
          'conduit_gateway_closes_total',
          [
            { labels: { route: 'chat', upstream: 'echo', side: 'client', code: '1006' }, value: 2 },
            { labels: { route: 'chat', upstream: 'echo', side: 'upstream', code: '1006' }, value: 1 },
            { labels: { route: 'chat', upstream: 'echo', side: 'client', code: '1000' }, value: 5 },
            { labels: { route: 'chat', upstream: 'echo', side: 'client', code: '1011' }, value: 0 },
          ],
        ],
      ]),
    });
    assert.deepEqual(table(counted, 'closes'), [
      ['1000', 'normal', 5, 0],
      ['1006', 'abnormal, no close frame', 2, 1],
    ]);
    const uncounted = buildGatewaySnapshot({ ...input, reading: new Map() });
    const closes = section(uncounted, 'closes', 'table');
    assert.deepEqual(closes.rows, []);
    assert.match(closes.empty, /conduit_gateway_closes_total/);
  });
});

describe('the gateway admin listener: dashboard routes and feed', () => {
  let setup: { backends: WsBackend[]; gateway: TestGateway } | undefined;
  let traffic: Traffic | undefined;
  const feeds: FeedReader[] = [];

  before(async () => {
    setup = await startSetup();
  });
  after(async () => {
    traffic?.stop();
    for (const feed of feeds) feed.close();
    await stopSetup(setup);
  });

  it('serves the page under a strict CSP, its files from an allow list, and 426 for a plain GET of the feed', async () => {
    const admin = setup!.gateway.admin;
    const page = await http(`${admin}/dashboard`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'; script-src 'self'/);
    assert.match(page.text, /src="\/dashboard\/js\/dashboard-app\.js"/);
    assert.match(
      (await http(`${admin}/dashboard/style.css`)).headers.get('content-type') ?? '',
      /^text\/css/,
    );
    assert.equal((await http(`${admin}/dashboard/icon.svg`)).status, 200);
    // Every module the page's module imports, transitively, is served.
    const pending = ['/dashboard/js/dashboard-app.js'];
    const seen = new Set<string>();
    while (pending.length > 0) {
      const path = pending.pop()!;
      if (seen.has(path)) continue;
      seen.add(path);
      const module = await http(`${admin}${path}`);
      assert.equal(module.status, 200, `${path} is served`);
      assert.match(module.headers.get('content-type') ?? '', /^text\/javascript/);
      for (const [, spec] of module.text.matchAll(/^(?:import|export)[^'";]*?from\s+'(\.[^']+)'/gm)) {
        pending.push(new URL(spec!, `http://host${path}`).pathname);
      }
    }
    assert.ok(seen.size >= 5, `followed the import graph (${[...seen].join(', ')})`);
    for (const path of [
      '/dashboard/js/snapshot-feed.js',
      '/dashboard/js/dashboard-types.js',
      '/dashboard/js/dashboard-app.js.map',
      '/dashboard/js/',
    ]) {
      assert.equal((await http(`${admin}${path}`)).status, 404, path);
    }
    const plain = await http(`${admin}/dashboard/feed`);
    assert.equal(plain.status, 426);
    assert.equal(plain.headers.get('upgrade'), 'websocket');
  });

  it('sends snapshots to same-origin pages and scripts, refuses other sites', async () => {
    const feedUrl = `${setup!.gateway.admin.replace('http:', 'ws:')}/dashboard/feed`;
    const foreign = new WebSocket(feedUrl, { origin: 'https://evil.example' });
    foreign.on('error', () => {});
    const status = await withTimeout(
      new Promise<number>((resolve) =>
        foreign.once('unexpected-response', (_request, response) => {
          resolve(response.statusCode ?? 0);
          response.resume();
          foreign.terminate();
        }),
      ),
      5000,
      'foreign origin refusal',
    );
    assert.equal(status, 403);
    const feed = await FeedReader.open(feedUrl, setup!.gateway.admin);
    feeds.push(feed);
    const first = await feed.until(() => true, 'a first snapshot', 5000);
    assert.equal(first.version, 1);
    assert.equal(first.title, 'conduit gateway');
    assert.deepEqual(
      first.sections.map((s) => s.id),
      [
        'connections',
        'traffic',
        'upstreams',
        'routes',
        'backends:echo',
        'closes',
        'refusals',
        'process',
        'problems',
      ],
    );
    assert.ok(value(first, 'process', 'rss') > 0);
    feed.close();
  });

  it('follows traffic, refusals and backend health as they happen', async () => {
    const { gateway, backends } = setup!;
    const feed = await FeedReader.open(`${gateway.admin.replace('http:', 'ws:')}/dashboard/feed`);
    feeds.push(feed);
    const quiet = await feed.until(
      (s) => stat(s, 'upstreams', 'echo').value === '2 of 2 up',
      'both backends up at first',
    );
    assert.equal(value(quiet, 'connections', 'connections'), 0);
    assert.equal(stat(quiet, 'upstreams', 'echo').health, 'ok');

    traffic = await Traffic.start(gateway.url(), 3);
    const busy = await feed.until(
      (s) =>
        value(s, 'connections', 'connections') === 3 &&
        value(s, 'traffic', 'messagesUp') > 0 &&
        value(s, 'traffic', 'messagesDown') > 0,
      'connections and message rates up',
    );
    assert.ok(value(busy, 'traffic', 'bytesUp') > 0);
    const [route] = table(busy, 'routes');
    assert.deepEqual(route!.slice(0, 4), ['chat', '/chat', 3, 3]);
    assert.ok(Number(route![4]) > 0 && Number(route![5]) > 0, `per-route message rates (${route})`);
    const backendConnections = table(busy, 'backends:echo').map((row) => Number(row[2]));
    assert.equal(
      backendConnections.reduce((a, b) => a + b, 0),
      3,
    );
    const series = stat(busy, 'traffic', 'messagesUp').series ?? [];
    assert.ok(series.length >= 2 && series.length <= 60, `a sparkline series (${series.length} points)`);

    // An upgrade no route takes: a refusal row and an event.
    await assert.rejects(openThrough(`${gateway.url()}/nowhere`), { status: 404 });
    const refused = await feed.until(
      (s) => table(s, 'refusals').some(([name, code]) => name === '(no route)' && code === 404),
      'the 404 in the refusals table',
    );
    assert.ok(eventTexts(refused).some((text) => /upgrade matched no route \(404\)/.test(text)));

    // A backend goes away: its clients lose their connections, the health check takes it out.
    traffic.stop();
    traffic = undefined;
    await backends[0]!.close();
    const down = await feed.until(
      (s) => stat(s, 'upstreams', 'echo').value === '1 of 2 up',
      'one backend down',
    );
    assert.equal(stat(down, 'upstreams', 'echo').health, 'warn');
    const gone = table(down, 'backends:echo').find((row) => row[0] === `${backends[0]!.url}/`);
    assert.ok(gone !== undefined && gone[1] !== 'healthy', `the backend's row says so (${gone})`);
    await feed.until(
      (s) => eventTexts(s).some((text) => text.includes(`Backend ${backends[0]!.url}/ of upstream echo`)),
      'an event for the backend leaving',
    );
    await feed.until((s) => value(s, 'connections', 'connections') === 0, 'connections back to 0');
  });
});

const pageSkip = chromiumSkip("the gateway dashboard's page test");

describe("the gateway's dashboard page in headless Chromium", { skip: pageSkip }, () => {
  const browser = useChromium();
  let setup: { backends: WsBackend[]; gateway: TestGateway } | undefined;
  let traffic: Traffic | undefined;

  before(async () => {
    setup = await startSetup();
  });
  after(async () => {
    traffic?.stop();
    await stopSetup(setup);
  });

  it('loads, goes live, shows upstream health, and its numbers move with the traffic', async () => {
    const { gateway, backends } = setup!;
    const { page, errors } = await openDashboard(browser(), `${gateway.admin}/dashboard`);
    assert.equal(await page.textContent('#title'), 'conduit gateway');
    await page.waitForSelector('[data-section="upstreams"] [data-stat="echo"][data-health="ok"]');
    assert.equal(await shown(page, 'upstreams', 'echo'), '2 of 2 up');
    assert.equal(await shown(page, 'connections', 'connections'), '0');
    assert.equal(await shown(page, 'traffic', 'messagesUp'), '0/s');
    for (const backend of backends) {
      await page.waitForSelector(`[data-section="backends:echo"] tbody th:text-is("${backend.url}/")`);
    }

    traffic = await Traffic.start(gateway.url(), 3);
    await page.waitForFunction(
      () =>
        document.querySelector('[data-section="connections"] [data-stat="connections"] .value')
          ?.textContent === '3' &&
        document.querySelector('[data-section="traffic"] [data-stat="messagesUp"] .value')?.textContent !==
          '0/s' &&
        document.querySelector('[data-section="traffic"] [data-stat="bytesDown"] .value')?.textContent !==
          '0 B/s',
    );
    const points = await page.getAttribute('[data-stat="messagesUp"] svg polyline', 'points');
    assert.ok((points ?? '').split(' ').length >= 2, `a drawn sparkline (${points})`);
    await page.waitForSelector('[data-section="routes"] tbody th:text-is("chat")');

    // A backend goes away: the page shows the upstream degraded, in words and in colour.
    traffic.stop();
    traffic = undefined;
    await backends[1]!.close();
    await page.waitForSelector('[data-section="upstreams"] [data-stat="echo"][data-health="warn"]');
    assert.equal(await shown(page, 'upstreams', 'echo'), '1 of 2 up');
    assert.match(
      (await page.textContent('[data-section="upstreams"] [data-stat="echo"] .hint')) ?? '',
      /^elevated · round-robin/,
    );
    await page.waitForSelector('[data-section="problems"] li[data-level="error"]');
    await page.waitForFunction(
      () =>
        document.querySelector('[data-section="connections"] [data-stat="connections"] .value')
          ?.textContent === '0',
    );

    // The gateway drains: the admin listener goes with it, and the page says so.
    await gateway.close();
    await page.waitForSelector('#status[data-state="disconnected"]');
    await page.close();
    assert.deepEqual(unexpectedErrors(errors), []);
  });
});
