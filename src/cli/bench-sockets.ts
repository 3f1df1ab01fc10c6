/**
 * Connection plumbing shared by the `conduit bench` modes: opening many connections with bounded
 * concurrency, counting how they end, closing them all at the end, and bounded waiting.
 * @module
 */
import type { CloseEvent, ErrorEvent } from '../client/events.js';
import type { WebSocketOptions } from '../client/options.js';
import { WebSocket } from '../client/websocket.js';
import type { BenchStats } from './bench-stats.js';
import { describeConnectError } from './connect-session.js';

/** Handshakes under way at once while opening the connections: more only queues in the kernel. */
const OPEN_CONCURRENCY = 256;
/** Close codes that end a connection normally (1005: a close frame without a code). */
const NORMAL_CLOSE: ReadonlySet<number> = new Set([1000, 1001, 1005]);

/** What a mode connects to and with. */
export interface BenchTarget {
  url: string;
  protocols: string[];
  options: WebSocketOptions;
}

/** A connection failed before it opened: the message says why (refused handshake, DNS, connect). */
export class OpenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OpenError';
  }
}

/**
 * Opens one connection; resolves once open. Its close code is counted in `stats`, and a close the
 * bench did not ask for (or with an error code) counts as an error. `setup` runs before any event:
 * listeners it adds see the messages that arrive together with the handshake response.
 */
export function openSocket(
  target: BenchTarget,
  stats: BenchStats,
  closing: () => boolean,
  setup?: (ws: WebSocket) => void,
): Promise<WebSocket> {
  const ws = new WebSocket(target.url, target.protocols, target.options);
  setup?.(ws);
  return new Promise((resolve, reject) => {
    let failure: unknown;
    let opened = false;
    ws.addEventListener('error', (event) => {
      failure = (event as ErrorEvent).error;
    });
    ws.addEventListener('open', () => {
      opened = true;
      resolve(ws);
    });
    ws.addEventListener('close', (event) => {
      const { code } = event as CloseEvent;
      if (!opened) return reject(new OpenError(describeConnectError(failure).message));
      stats.closed(code);
      if (!closing() || !NORMAL_CLOSE.has(code)) stats.error(`closed ${code}`);
    });
  });
}

/**
 * Runs `open` for indexes 0..count-1, at most {@link OPEN_CONCURRENCY} at a time; resolves with the
 * results in order, or rejects with the first failure once the ones under way settled (the connections
 * already open are then cut, so that nothing keeps the process alive).
 */
export async function openMany(
  count: number,
  open: (index: number) => Promise<WebSocket>,
): Promise<WebSocket[]> {
  const results: WebSocket[] = [];
  let next = 0;
  let failure: unknown;
  const worker = async (): Promise<void> => {
    while (next < count && failure === undefined) {
      const index = next++;
      try {
        results[index] = await open(index);
      } catch (error) {
        failure ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(count, OPEN_CONCURRENCY) }, worker));
  if (failure === undefined) return results;
  for (const ws of results) ws?.terminate();
  throw failure;
}

/** Resolves once `done()` is true, or after `ms` (polling every 10 ms). */
export function waitUntil(done: () => boolean, ms: number): Promise<void> {
  const deadline = performance.now() + ms;
  return new Promise((resolve) => {
    const check = (): void => {
      if (done() || performance.now() >= deadline) resolve();
      else setTimeout(check, 10);
    };
    check();
  });
}

/**
 * Closes every connection with 1000 and waits for them to be closed; those that did not finish the
 * closing handshake within `ms` are cut.
 */
export async function closeAll(sockets: readonly WebSocket[], ms: number): Promise<void> {
  const open = sockets.filter((ws) => ws.readyState !== WebSocket.CLOSED);
  const closed = open.map(
    (ws) => new Promise<void>((resolve) => ws.addEventListener('close', () => resolve(), { once: true })),
  );
  for (const ws of open) ws.close(1000);
  let left = open.length;
  for (const promise of closed) promise.then(() => left--);
  await waitUntil(() => left === 0, ms);
  for (const ws of open) if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
}
