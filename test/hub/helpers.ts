/**
 * Helpers of the hub tests: a hub on a free port and a small JSON client (on `ws`, which lets a test pause
 * the socket to play a slow consumer) that waits for messages matching a predicate, bounded in time.
 */
import WebSocket from 'ws';
import { Hub } from '../../src/hub/hub.js';
import type { HubOptions } from '../../src/hub/options.js';
import type { HubServerOptions } from '../../src/hub/server.js';
import { waitFor, withTimeout } from '../server/helpers.js';

export type Json = Record<string, unknown> & { type: string };

/** A hub served on 127.0.0.1 at a free port; `url` is its `/hub` endpoint. */
export async function startHub(
  options: HubOptions = {},
  server: HubServerOptions = {},
): Promise<{ hub: Hub; url: string; port: number }> {
  const hub = new Hub(options);
  const wss = hub.attach({ port: 0, host: '127.0.0.1', path: '/hub', ...server });
  await waitFor(wss, 'listening');
  const address = wss.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return { hub, url: `ws://127.0.0.1:${port}/hub`, port };
}

/** A hub client speaking raw `conduit.v1` JSON. */
export class TestClient {
  readonly received: Json[] = [];
  private waiters: { match: (m: Json) => boolean; resolve: (m: Json) => void }[] = [];
  closed: Promise<{ code: number; reason: string }>;
  /** The client id from the `connected` message. */
  id = '';

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) return;
      const message = JSON.parse(data.toString()) as Json;
      this.received.push(message);
      this.waiters = this.waiters.filter((waiter) => {
        if (!waiter.match(message)) return true;
        waiter.resolve(message);
        return false;
      });
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() }));
    });
    ws.on('error', () => {});
  }

  /** Sends one JSON message. */
  send(message: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(message));
  }

  /** The first message (already received or to come) matching `match`, bounded in time. */
  next(match: (m: Json) => boolean, what = 'a message', ms = 5000): Promise<Json> {
    const found = this.received.find(match);
    if (found !== undefined) {
      this.received.splice(this.received.indexOf(found), 1);
      return Promise.resolve(found);
    }
    const arrived = new Promise<Json>((resolve) => {
      this.waiters.push({
        match,
        resolve: (message) => {
          this.received.splice(this.received.indexOf(message), 1);
          resolve(message);
        },
      });
    });
    return withTimeout(arrived, ms, what);
  }

  /** The next message of `type` (optionally on `topic`). */
  nextOf(type: string, topic?: string, ms = 5000): Promise<Json> {
    return this.next(
      (m) => m.type === type && (topic === undefined || m.topic === topic),
      `${type} ${topic ?? ''}`,
      ms,
    );
  }

  /** Subscribes and waits for `subscribed`. */
  async subscribe(topic: string, extra: Record<string, unknown> = {}): Promise<Json> {
    this.send({ type: 'subscribe', topic, ...extra });
    return this.next(
      (m) => (m.type === 'subscribed' || m.type === 'error') && m.topic === topic,
      `subscribed ${topic}`,
    );
  }

  close(): void {
    this.ws.close();
  }
}

/** Opens a client and waits for `connected`. */
export async function connectClient(
  url: string,
  options: { headers?: Record<string, string>; protocols?: string[]; origin?: string } = {},
): Promise<TestClient> {
  const ws = new WebSocket(url, options.protocols ?? ['conduit.v1'], {
    headers: options.headers ?? {},
    ...(options.origin === undefined ? {} : { origin: options.origin }),
  });
  const client = new TestClient(ws);
  await withTimeout(
    new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    }),
    5000,
    `open ${url}`,
  );
  client.id = (await client.nextOf('connected')).client as string;
  return client;
}

/** Opens a client expecting the handshake to be refused; resolves with the HTTP status and headers. */
export async function refusedUpgrade(
  url: string,
  options: { headers?: Record<string, string>; protocols?: string[]; origin?: string } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  const ws = new WebSocket(url, options.protocols ?? ['conduit.v1'], {
    headers: options.headers ?? {},
    ...(options.origin === undefined ? {} : { origin: options.origin }),
  });
  ws.on('error', () => {});
  const result = new Promise<{ status: number; headers: Record<string, string | string[] | undefined> }>(
    (resolve, reject) => {
      ws.once('unexpected-response', (_req, res) => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers });
        res.resume();
        ws.terminate();
      });
      ws.once('open', () => reject(new Error('the upgrade was accepted')));
    },
  );
  return withTimeout(result, 5000, `refusal of ${url}`);
}
