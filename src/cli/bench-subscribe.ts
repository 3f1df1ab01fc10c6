/**
 * `conduit bench --mode subscribe`: N hub subscribers on one topic and one publisher publishing at a
 * fixed rate (docs/hub-protocol.md). Each publication carries its send time (`performance.now()` of this
 * process, which also receives it), so each delivery gives one publish → receive latency.
 * @module
 */
import type { WebSocket } from '../client/websocket.js';
import type { BenchOptions } from './bench-args.js';
import type { BenchDriver } from './bench-driver.js';
import { type BenchTarget, closeAll, OpenError, openMany, openSocket, waitUntil } from './bench-sockets.js';
import type { BenchStats } from './bench-stats.js';

/** The hub's subprotocol. */
const SUBPROTOCOL = 'conduit.v1';
/** How often the publisher sends the publications due, in ms. */
const PACER_INTERVAL_MS = 5;
/** Time allowed for the closing handshakes at the end, in ms. */
const CLOSE_WAIT_MS = 3000;
/** Bytes of a publication's `data` besides the padding: `{"seq":…,"ts":…,"pad":""}`. */
const DATA_OVERHEAD = 40;

/** What the hub sends that the bench reads. */
interface HubMessage {
  type?: string;
  code?: string;
  message?: string;
  data?: { ts?: number };
}

/** The hub URL: the given one, with `/hub` when it has no path. */
export function hubUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.pathname === '/' || parsed.pathname === '') parsed.pathname = '/hub';
  return parsed.href;
}

function parseHub(text: string, stats: BenchStats): HubMessage | null {
  try {
    return JSON.parse(text) as HubMessage;
  } catch {
    stats.error('hub: not JSON');
    return null;
  }
}

/** Counts one delivery and its publish → receive latency. */
function countDelivery(stats: BenchStats, message: HubMessage, bytes: number, now: number): void {
  stats.received++;
  stats.bytesReceived += bytes;
  stats.lastReceivedAt = now;
  stats.latency.record((now - (message.data?.ts ?? now)) * 1000);
}

/**
 * Reads the hub's messages on one connection: `connected` triggers `onConnected`, the first
 * `subscribed` or `connected` (as `readyOn` says) resolves the promise, a delivery is counted with its
 * latency, an `error` is counted (and rejects the promise while it is pending, as does a close).
 */
function hubReader(
  ws: WebSocket,
  stats: BenchStats,
  readyOn: 'connected' | 'subscribed',
  onConnected: () => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.addEventListener('message', (event) => {
      const now = performance.now();
      const text = (event as MessageEvent).data as string;
      const message = parseHub(text, stats);
      if (message === null) return;
      if (message.type === 'message') countDelivery(stats, message, text.length, now);
      else if (message.type === 'connected') onConnected();
      else if (message.type === 'error') {
        stats.error(`hub: ${message.code}`);
        reject(new OpenError(`the hub answered ${message.code}: ${message.message}`));
      }
      if (message.type === readyOn) resolve();
    });
    ws.addEventListener('close', () =>
      reject(new OpenError(`the hub closed the connection before ${readyOn}`)),
    );
  });
}

/** Sends the publications due at `rate`/s since `startedAt`; returns the stop function. */
function startPublisher(publisher: WebSocket, options: BenchOptions, stats: BenchStats, subscribers: number) {
  const rate = options.rate ?? 100;
  const pad = 'x'.repeat(Math.max(0, options.size - DATA_OVERHEAD));
  const head = `{"type":"publish","topic":${JSON.stringify(options.topic)},"data":{"seq":`;
  const startedAt = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    const due = Math.floor(((now - startedAt) * rate) / 1000) - stats.published;
    for (let i = 0; i < due; i++) {
      const text = `${head}${stats.published},"ts":${now},"pad":"${pad}"}}`;
      publisher.send(text);
      stats.published++;
      stats.sent += subscribers;
      stats.bytesSent += text.length;
    }
  }, PACER_INTERVAL_MS);
  return () => clearInterval(timer);
}

/** The subscribe mode for these options. */
export function subscribeDriver(options: BenchOptions, stats: BenchStats, target: BenchTarget): BenchDriver {
  const hub: BenchTarget = { ...target, url: hubUrl(target.url), protocols: [SUBPROTOCOL] };
  const subscribe = JSON.stringify({ type: 'subscribe', topic: options.topic });
  let sockets: WebSocket[] = [];
  let closing = false;
  let stopPublisher = (): void => {};
  const open = (readyOn: 'connected' | 'subscribed') => async (): Promise<WebSocket> => {
    let ready: Promise<void> = Promise.resolve();
    const ws = await openSocket(
      hub,
      stats,
      () => closing,
      (socket) => {
        ready = hubReader(socket, stats, readyOn, () => readyOn === 'subscribed' && socket.send(subscribe));
        // Awaited below once open; a connection that never opens must not leave it unhandled.
        ready.catch(() => {});
      },
    );
    try {
      await ready;
    } catch (error) {
      ws.terminate();
      throw error;
    }
    return ws;
  };
  return {
    async prepare() {
      sockets = await openMany(options.connections, open('subscribed'));
      sockets.push(...(await openMany(1, open('connected'))));
    },
    start() {
      stopPublisher = startPublisher(sockets.at(-1)!, options, stats, options.connections);
    },
    stop() {
      stopPublisher();
    },
    settle(ms) {
      return waitUntil(() => stats.received >= stats.sent, ms);
    },
    close() {
      closing = true;
      return closeAll(sockets, CLOSE_WAIT_MS);
    },
  };
}
