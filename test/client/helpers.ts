/**
 * Helpers of the client tests: bounded waits on EventTarget events, a message collector, and a skip
 * rule for interop peers that may be missing (fail under CI=true, skip loudly elsewhere).
 */
import { spawnSync } from 'node:child_process';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { CloseEvent, type ErrorEvent } from '../../src/client/events.js';
import type { WebSocketOptions } from '../../src/client/options.js';
import { WebSocket } from '../../src/client/websocket.js';
import { withTimeout } from '../server/helpers.js';

export { withTimeout };

/** Waits for one event of `type` on `target`, bounded in time. */
export function nextEvent<T extends Event = Event>(target: EventTarget, type: string, ms = 5000): Promise<T> {
  const fired = new Promise<T>((resolve) => {
    target.addEventListener(type, (event) => resolve(event as T), { once: true });
  });
  return withTimeout(fired, ms, `event '${type}'`);
}

/** Resolves with the close event (installed at once, so no event is missed). */
export function closeOf(ws: WebSocket, ms = 5000): Promise<CloseEvent> {
  return nextEvent<CloseEvent>(ws, 'close', ms);
}

/** Opens a client and waits for 'open'; rejects with the error event's error when it fails. */
export async function openWebSocket(
  url: string,
  protocols?: string | string[],
  options: WebSocketOptions = {},
): Promise<WebSocket> {
  const ws = new WebSocket(url, protocols, options);
  const opened = new Promise<WebSocket>((resolve, reject) => {
    ws.addEventListener('open', () => resolve(ws), { once: true });
    ws.addEventListener('error', (event) => reject((event as ErrorEvent).error), { once: true });
  });
  return withTimeout(opened, 5000, `open ${url}`);
}

/** Collects message events from the moment it is created; `next()` waits for the next one. */
export class Messages {
  private readonly queue: unknown[] = [];
  private waiter: ((data: unknown) => void) | null = null;

  constructor(target: EventTarget, type = 'message') {
    target.addEventListener(type, (event) => {
      const data = (event as MessageEvent).data;
      if (this.waiter !== null) {
        const waiter = this.waiter;
        this.waiter = null;
        waiter(data);
      } else {
        this.queue.push(data);
      }
    });
  }

  next<T = unknown>(ms = 5000): Promise<T> {
    if (this.queue.length > 0) return Promise.resolve(this.queue.shift() as T);
    const arrived = new Promise<T>((resolve) => {
      this.waiter = resolve as (data: unknown) => void;
    });
    return withTimeout(arrived, ms, 'next message');
  }
}

/** Closes cleanly (if still open) and waits for the close event. */
export async function closeClient(ws: WebSocket, code?: number, reason?: string): Promise<CloseEvent> {
  if (ws.readyState === WebSocket.CLOSED) throw new Error('already closed');
  const closed = closeOf(ws);
  ws.close(code, reason);
  return closed;
}

/** A plain TCP server on 127.0.0.1 that hands each socket to `onSocket` (for scripted peers). */
export async function rawServer(
  onSocket: (socket: Socket) => void,
): Promise<{ server: Server; port: number }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    onSocket(socket);
  });
  // Closing the test server also drops the connections it still holds.
  const close = server.close.bind(server);
  server.close = (callback?: (error?: Error) => void) => {
    for (const socket of sockets) socket.destroy();
    return close(callback);
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

/** Reads an HTTP request head from `socket`; resolves with its text and the bytes after it. */
export function readRequestHead(socket: Socket): Promise<{ head: string; rest: Buffer }> {
  return new Promise((resolve) => {
    let received = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.removeListener('data', onData);
      resolve({ head: received.subarray(0, end + 4).toString('latin1'), rest: received.subarray(end + 4) });
    };
    socket.on('data', onData);
  });
}

/** A header's value in a request head's text (case-insensitive name), or undefined. */
export function headerOf(head: string, name: string): string | undefined {
  const line = head.split('\r\n').find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(line.indexOf(':') + 1).trim();
}

/** Closes a net server, bounded in time. */
export function closeRawServer(server: Server): Promise<void> {
  return withTimeout(new Promise<void>((resolve) => server.close(() => resolve())), 5000, 'raw server close');
}

/**
 * What to do when an interop peer is missing: under CI=true the test must fail, elsewhere it is skipped
 * with a loud message naming what to install. Returns the skip reason, or false.
 */
export function missingPeer(reason: string): string {
  if (process.env.CI === 'true') throw new Error(reason);
  console.warn(`SKIPPING: ${reason}`);
  return reason;
}

/** A python3 that can import websockets (the Debian package installs it for /usr/bin/python3 only). */
export function findPython(): string | undefined {
  const candidates = [process.env.PYTHON, '/usr/bin/python3', 'python3'].filter((c): c is string => !!c);
  return candidates.find(
    (candidate) =>
      spawnSync(candidate, ['-c', 'import websockets'], { stdio: 'ignore', timeout: 10_000 }).status === 0,
  );
}

/** The python3 of {@link findPython}, or the skip reason of {@link missingPeer} when there is none. */
export function pythonPeer(): { python: string | undefined; skip: string | false } {
  const python = findPython();
  const skip =
    python === undefined
      ? missingPeer(
          'python-websockets is needed for this interop test (install the Debian package python3-websockets)',
        )
      : false;
  return { python, skip };
}

/** Asserts `error` is a DOMException (or named Error) called `name`. */
export function isDomException(error: unknown, name: string): boolean {
  return (
    error instanceof Error &&
    error.name === name &&
    (typeof DOMException !== 'function' || error instanceof DOMException)
  );
}

export { CloseEvent };
