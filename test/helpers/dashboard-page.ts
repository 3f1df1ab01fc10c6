/**
 * Helpers of the dashboard tests (`conduit serve`'s and the gateway's): a feed watcher from Node that
 * waits, bounded, for a snapshot that satisfies a check; lookups into a snapshot that fail with the name
 * of what is missing; and the page opened in headless Chromium with its errors collected.
 */
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import WebSocket from 'ws';
import type {
  DashboardSection,
  DashboardSnapshot,
  DashboardStat,
} from '../../src/observability/dashboard/dashboard-types.js';
import { withTimeout } from '../server/helpers.js';

type Waiter = { check: (s: DashboardSnapshot) => boolean; resolve: (s: DashboardSnapshot) => void };

/** A feed watcher from Node: keeps every snapshot and waits, bounded, for one that satisfies a check. */
export class FeedReader {
  readonly snapshots: DashboardSnapshot[] = [];
  private waiters: Waiter[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const snapshot = JSON.parse(data.toString()) as DashboardSnapshot;
      this.snapshots.push(snapshot);
      this.waiters = this.waiters.filter((waiter) => {
        if (!waiter.check(snapshot)) return true;
        waiter.resolve(snapshot);
        return false;
      });
    });
    ws.on('error', () => {});
  }

  /** Connects to the feed at `url`, sending `origin` when given (a browser page would), within 5 s. */
  static async open(url: string, origin?: string): Promise<FeedReader> {
    const ws = new WebSocket(url, origin === undefined ? {} : { origin });
    const reader = new FeedReader(ws);
    await withTimeout(
      new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      }),
      5000,
      'feed open',
    );
    return reader;
  }

  /** The last snapshot, if it satisfies `check`, or the first one to come that does, within `ms`. */
  until(check: (s: DashboardSnapshot) => boolean, what: string, ms = 15_000): Promise<DashboardSnapshot> {
    const last = this.snapshots.at(-1);
    if (last !== undefined && check(last)) return Promise.resolve(last);
    return withTimeout(new Promise((resolve) => this.waiters.push({ check, resolve })), ms, what);
  }

  /** Drops the connection at once (no closing handshake). */
  close(): void {
    this.ws.terminate();
  }
}

/** Section `id` of `snapshot`, which must be there and of `kind`. */
export function section<K extends DashboardSection['kind']>(
  snapshot: DashboardSnapshot,
  id: string,
  kind: K,
): Extract<DashboardSection, { kind: K }> {
  const found = snapshot.sections.find((s) => s.id === id);
  assert.ok(found !== undefined && found.kind === kind, `section ${id} of kind ${kind}`);
  return found as Extract<DashboardSection, { kind: K }>;
}

/** Stat `id` of stats section `sectionId`. */
export function stat(snapshot: DashboardSnapshot, sectionId: string, id: string): DashboardStat {
  const found = section(snapshot, sectionId, 'stats').stats.find((s) => s.id === id);
  assert.ok(found !== undefined, `stat ${sectionId}/${id}`);
  return found;
}

/** The value of stat `id` of section `sectionId`, as a number. */
export function value(snapshot: DashboardSnapshot, sectionId: string, id: string): number {
  return Number(stat(snapshot, sectionId, id).value);
}

/** The rows of table section `id`. */
export function table(snapshot: DashboardSnapshot, id: string): (string | number)[][] {
  return section(snapshot, id, 'table').rows;
}

/** The texts of the events of the `problems` section, newest first. */
export function eventTexts(snapshot: DashboardSnapshot): string[] {
  return section(snapshot, 'problems', 'events').events.map((event) => event.text);
}

/** A dashboard page in `browser`: opened at `url`, live (the feed connected), its errors collected. */
export async function openDashboard(
  browser: Browser,
  url: string,
): Promise<{ page: Page; errors: string[] }> {
  const errors: string[] = [];
  const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  page.setDefaultTimeout(15_000);
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  await page.goto(url);
  await page.waitForSelector('#status[data-state="connected"]');
  return { page, errors };
}

/** The page errors but the failed feed connections that a server going away causes (the page retries). */
export function unexpectedErrors(errors: readonly string[]): string[] {
  return errors.filter((error) => !/WebSocket connection to .* failed/.test(error));
}

/** The text stat `statId` of section `sectionId` shows on the page. */
export function shown(page: Page, sectionId: string, statId: string): Promise<string | null> {
  return page.textContent(`[data-section="${sectionId}"] [data-stat="${statId}"] .value`);
}
