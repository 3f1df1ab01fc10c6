/**
 * The live dashboard of `conduit serve`, run as a real process: the feed on `/dashboard/feed` (same-origin
 * browsers only, one JSON snapshot a second whose numbers follow real traffic from Node hub clients), and
 * the page in headless Chromium (Debian package chromium, driven by playwright-core) showing those numbers
 * move. With CONDUIT_SCREENSHOT=1 the browser test also writes docs/images/dashboard.png.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DashboardEvents } from '../../src/cli/serve-dashboard-events.js';
import type { MetricReading } from '../../src/cli/serve-dashboard-registry.js';
import { formatValue } from '../../src/cli/web/format.js';
import { sparklinePoints } from '../../src/cli/web/sparkline.js';
import { chromiumSkip, useChromium } from '../helpers/chromium.js';
import {
  eventTexts,
  FeedReader,
  openDashboard,
  shown,
  stat,
  table,
  unexpectedErrors,
  value,
} from '../helpers/dashboard-page.js';
import { httpGet, killAll, type ServeProcess, startServe } from '../hub/cluster-process.js';
import { connectClient, refusedUpgrade, type TestClient } from '../hub/helpers.js';

const SCREENSHOT = process.env.CONDUIT_SCREENSHOT === '1';
/** docs/images/dashboard.png at the repository root (this file runs from dist/test/cli/). */
const SCREENSHOT_FILE = fileURLToPath(new URL('../../../docs/images/dashboard.png', import.meta.url));

async function stopServe(serve: ServeProcess | undefined): Promise<void> {
  if (serve === undefined || serve.child.exitCode !== null) return;
  await serve.stop('SIGTERM', 10_000).catch(() => serve.child.kill('SIGKILL'));
}

/** The feed URL of a serve process. */
function feedUrl(serve: ServeProcess): string {
  return `ws://127.0.0.1:${serve.port}/dashboard/feed`;
}

/**
 * Hub traffic from Node: `subscribers` clients on each topic and one publisher sending `rate()` messages
 * per 100 ms round-robin over the topics, until stopped.
 */
class Traffic {
  readonly clients: TestClient[] = [];
  private timer: NodeJS.Timeout | null = null;
  private sent = 0;

  static async start(
    hub: string,
    topics: string[],
    subscribers: number,
    rate: () => number,
  ): Promise<Traffic> {
    const traffic = new Traffic();
    for (const topic of topics) {
      for (let i = 0; i < subscribers; i++) {
        const client = await connectClient(hub);
        traffic.clients.push(client);
        assert.equal((await client.subscribe(topic)).type, 'subscribed');
      }
    }
    const publisher = await connectClient(hub);
    traffic.clients.push(publisher);
    traffic.timer = setInterval(() => {
      for (let i = 0; i < rate(); i++) {
        const topic = topics[traffic.sent++ % topics.length]!;
        publisher.send({ type: 'publish', topic, data: { n: traffic.sent, text: 'x'.repeat(64) } });
      }
      // Subscribers keep what they receive: the test needs none of it.
      for (const client of traffic.clients) client.received.length = 0;
    }, 100);
    return traffic;
  }

  /** Stops publishing; the connections stay. */
  pause(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** Stops and closes every connection normally (1000). */
  stop(): void {
    this.pause();
    for (const client of this.clients) client.close();
  }
}

after(killAll);

describe('dashboard building blocks', () => {
  it('draws sparklines from 0 at the bottom to the largest value at the top, newest at the right', () => {
    assert.equal(sparklinePoints([0, 5, 10], 3, 120, 32), '0,30.5 60,16 120,1.5');
    assert.equal(sparklinePoints([7], 3, 120, 32), '120,1.5', 'a lone value sits at the right edge');
    assert.equal(
      sparklinePoints([0, 0], 2, 120, 32),
      '0,30.5 120,30.5',
      'all zero: a flat line at the bottom',
    );
    assert.equal(sparklinePoints([], 60), '');
  });

  it('formats values by their kind', () => {
    assert.equal(formatValue(0, 'rate'), '0/s');
    assert.equal(formatValue(12.345, 'rate'), '12.3/s');
    assert.equal(formatValue(1536, 'bytes'), '1.50 KiB');
    assert.equal(formatValue(3 * 1024 * 1024, 'byteRate'), '3.00 MiB/s');
    assert.equal(formatValue(1234567, 'count'), '1,234,567');
    assert.equal(formatValue('available', 'text'), 'available');
  });

  it('turns error counter growth into events, after a baseline, newest first, bounded', () => {
    const events = new DashboardEvents(3);
    const reading = (abnormal: number, normal: number, refused: number): MetricReading =>
      new Map([
        [
          'conduit_closes_total',
          [
            { labels: { code: '1006', side: 'remote' }, value: abnormal },
            { labels: { code: '1000', side: 'remote' }, value: normal },
          ],
        ],
        [
          'conduit_handshake_failures_total',
          [{ labels: { reason: 'max_per_ip', status: '429' }, value: refused }],
        ],
        ['conduit_hub_errors_total', [{ labels: {}, value: 0 }]],
      ]);
    events.observe(reading(2, 10, 0), true, 1000);
    assert.deepEqual(events.list(), [], 'what happened before the first reading is not news');
    events.observe(reading(5, 20, 0), true, 2000);
    assert.deepEqual(events.list(), [
      {
        time: 2000,
        level: 'warn',
        text: '3 connections closed with 1006 (abnormal, no close frame) by the peer',
      },
    ]);
    events.observe(reading(5, 20, 1), false, 3000);
    events.observe(reading(5, 20, 1), true, 4000);
    assert.deepEqual(
      events.list().map((e) => [e.time, e.level, e.text]),
      [
        [4000, 'info', 'Engine available again'],
        [3000, 'error', 'Engine unavailable: publishes fail, /healthz says 503'],
        [3000, 'warn', '1 handshake failed: max_per_ip, answered 429'],
      ],
      'newest first, at most 3',
    );
  });
});

describe('conduit serve: the dashboard feed', () => {
  let serve: ServeProcess;
  const feeds: FeedReader[] = [];
  let traffic: Traffic | undefined;

  before(async () => {
    serve = await startServe(['--log-level', 'warn']);
  });
  after(async () => {
    traffic?.stop();
    for (const feed of feeds) feed.close();
    await stopServe(serve);
  });

  it('serves the page, and the feed to this origin and to scripts but not to other sites', async () => {
    const page = await httpGet(serve.endpoints.dashboard!);
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(page.body, /src="\/js\/web\/dashboard-app\.js"/);
    assert.equal((await httpGet(`http://127.0.0.1:${serve.port}/dashboard/feed`)).status, 426);
    const foreign = await refusedUpgrade(feedUrl(serve), { protocols: [], origin: 'https://evil.example' });
    assert.equal(foreign.status, 403);
    const sameOrigin = await FeedReader.open(feedUrl(serve), `http://127.0.0.1:${serve.port}`);
    feeds.push(sameOrigin);
    const first = await sameOrigin.until(() => true, 'a first snapshot', 5000);
    assert.equal(first.version, 1);
    assert.deepEqual(
      first.sections.map((s) => s.id),
      ['connections', 'traffic', 'topics', 'hub', 'process', 'closes', 'handshakes', 'problems'],
    );
    assert.match(first.subtitle, /memory engine/);
    assert.equal(first.notice, undefined, 'one process: no cluster caveat');
    assert.ok(value(first, 'process', 'rss') > 0);
    sameOrigin.close();
  });

  it('sends a snapshot every second whose numbers follow the traffic', async () => {
    const feed = await FeedReader.open(feedUrl(serve));
    feeds.push(feed);
    const quiet = await feed.until(() => true, 'a first snapshot', 5000);
    const open = value(quiet, 'connections', 'connections');
    traffic = await Traffic.start(serve.endpoints.hub!, ['load.a', 'load.b'], 2, () => 10);
    const busy = await feed.until(
      (s) =>
        value(s, 'connections', 'connections') === open + 5 &&
        value(s, 'traffic', 'messagesIn') > 0 &&
        value(s, 'traffic', 'deliveries') > 0,
      'connections and message rates up',
    );
    assert.equal(value(busy, 'connections', 'hubSessions'), 5);
    assert.deepEqual(
      table(busy, 'topics').filter(([name]) => String(name).startsWith('load.')),
      [
        ['load.a', 2],
        ['load.b', 2],
      ],
    );
    assert.ok(value(busy, 'traffic', 'bytesIn') > 0);
    const series = stat(busy, 'traffic', 'messagesIn').series ?? [];
    assert.ok(series.length >= 2 && series.length <= 60, `a sparkline series (${series.length} points)`);
    assert.equal(series.at(-1), value(busy, 'traffic', 'messagesIn'));

    traffic.pause();
    await feed.until((s) => value(s, 'traffic', 'messagesIn') === 0, 'message rate back to 0');
    // A connection that vanishes without a close frame is a problem worth showing (1006).
    traffic.clients[0]!.ws.terminate();
    const problem = await feed.until(
      (s) => eventTexts(s).some((text) => /closed with 1006/.test(text)),
      'an event for the 1006 close',
    );
    assert.ok(
      table(problem, 'closes').some(([code, meaning]) => code === '1006' && /abnormal/.test(String(meaning))),
    );
    traffic.stop();
    traffic = undefined;
    await feed.until((s) => value(s, 'connections', 'connections') === open, 'connections back down');
  });
});

describe('the dashboard page in headless Chromium', { skip: chromiumSkip('the dashboard page test') }, () => {
  const browser = useChromium();
  let serve: ServeProcess | undefined;
  let traffic: Traffic | undefined;

  before(async () => {
    serve = await startServe(['--log-level', 'warn']);
  });
  after(async () => {
    traffic?.stop();
    await stopServe(serve);
  });

  it('loads, goes live, and its numbers move with the traffic', async () => {
    const { page, errors } = await openDashboard(browser(), serve!.endpoints.dashboard!);
    await page.waitForSelector('[data-section="connections"] [data-stat="connections"] .value');
    assert.equal(await shown(page, 'connections', 'connections'), '0');
    assert.equal(await shown(page, 'traffic', 'messagesIn'), '0/s');
    assert.match((await page.textContent('#subtitle')) ?? '', /^pid \d+ · memory engine/);

    // A varying rate, so that the sparklines of the screenshot have a shape.
    const started = Date.now();
    const rate = (): number => Math.round(12 + 9 * Math.sin((Date.now() - started) / 2500));
    traffic = await Traffic.start(serve!.endpoints.hub!, ['chat.lobby', 'prices.eur', 'alerts.ops'], 2, rate);
    await page.waitForFunction(
      () =>
        document.querySelector('[data-section="connections"] [data-stat="connections"] .value')
          ?.textContent === '7' &&
        document.querySelector('[data-section="traffic"] [data-stat="messagesIn"] .value')?.textContent !==
          '0/s',
    );
    await page.waitForSelector('[data-section="topics"] tbody th:text-is("prices.eur")');
    const points = await page.getAttribute('[data-stat="messagesIn"] svg polyline', 'points');
    assert.ok((points ?? '').split(' ').length >= 2, `a drawn sparkline (${points})`);
    const label = await page.getAttribute('[data-stat="messagesIn"] svg', 'aria-label');
    assert.match(label ?? '', /^Messages in, last 60 s: /);

    if (SCREENSHOT) {
      // A minute of history fills the charts; a connection that vanishes gives the events list an entry.
      const doomed = await connectClient(serve!.endpoints.hub!);
      await new Promise((resolve) => setTimeout(resolve, 58_000));
      doomed.ws.terminate();
      await page.waitForSelector('[data-section="problems"] li');
      await mkdir(dirname(SCREENSHOT_FILE), { recursive: true });
      await page.screenshot({ path: SCREENSHOT_FILE, fullPage: true });
      console.log(`wrote ${SCREENSHOT_FILE}`);
    }

    // Traffic stops and the connections go: the page follows.
    traffic.stop();
    traffic = undefined;
    await page.waitForFunction(
      () =>
        document.querySelector('[data-section="connections"] [data-stat="connections"] .value')
          ?.textContent === '0' &&
        document.querySelector('[data-section="traffic"] [data-stat="messagesIn"] .value')?.textContent ===
          '0/s',
    );
    await page.waitForSelector('[data-section="topics"] .empty');

    // The server goes away: the page says so and keeps the last numbers.
    await stopServe(serve);
    await page.waitForSelector('#status[data-state="disconnected"]');
    assert.match((await page.textContent('#status-text')) ?? '', /retrying in \d+ s\. Numbers as of /);
    assert.equal(await shown(page, 'connections', 'connections'), '0');
    await page.close();
    assert.deepEqual(unexpectedErrors(errors), []);
  });
});
