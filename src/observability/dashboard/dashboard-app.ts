/**
 * The live dashboard page (browser code): opens the feed WebSocket next to the page, draws every
 * snapshot it sends, and reconnects with a growing delay when the connection drops (the numbers on
 * screen are then marked as stale rather than removed).
 * @module
 */

import { DashboardView } from './dashboard-render.js';
import type { DashboardSnapshot } from './dashboard-types.js';
import { byId, showStatus } from './dom.js';
import { formatClock } from './format.js';

/** Where the feed is, relative to this page's server. */
const FEED_PATH = '/dashboard/feed';
/** Reconnect delays: doubling from the first to the last, then staying there. */
const FIRST_RETRY_MS = 1000;
const LAST_RETRY_MS = 10_000;

function feedUrl(): string {
  const url = new URL(FEED_PATH, location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.href;
}

function isSnapshot(value: unknown): value is DashboardSnapshot {
  const snapshot = value as Partial<DashboardSnapshot> | null;
  return snapshot?.version === 1 && Array.isArray(snapshot.sections);
}

/** Keeps one feed connection open and hands its snapshots to the view. */
class FeedClient {
  private retryMs = FIRST_RETRY_MS;
  private lastTime = 0;

  constructor(private readonly view: DashboardView) {}

  open(): void {
    showStatus('connecting', 'Connecting…');
    const socket = new WebSocket(feedUrl());
    socket.addEventListener('open', () => {
      this.retryMs = FIRST_RETRY_MS;
      showStatus('connected', 'Live');
    });
    socket.addEventListener('message', (event) => this.received(event.data));
    socket.addEventListener('close', () => this.closed());
  }

  private received(data: unknown): void {
    let snapshot: unknown;
    try {
      snapshot = JSON.parse(String(data));
    } catch {
      return;
    }
    if (!isSnapshot(snapshot)) return;
    this.lastTime = snapshot.time;
    document.title = `${snapshot.title} · dashboard`;
    byId('title').textContent = snapshot.title;
    byId('subtitle').textContent = snapshot.subtitle;
    const notice = byId('notice');
    notice.textContent = snapshot.notice ?? '';
    notice.hidden = snapshot.notice === undefined;
    this.view.render(snapshot);
  }

  private closed(): void {
    const delay = this.retryMs;
    this.retryMs = Math.min(LAST_RETRY_MS, this.retryMs * 2);
    const since = this.lastTime === 0 ? '' : ` Numbers as of ${formatClock(this.lastTime)}.`;
    showStatus('disconnected', `Disconnected, retrying in ${Math.round(delay / 1000)} s.${since}`);
    setTimeout(() => this.open(), delay);
  }
}

new FeedClient(new DashboardView(byId('sections'))).open();
