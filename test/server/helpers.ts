/**
 * Helpers of the server and transport tests: servers on 127.0.0.1 with a free port, raw sockets, and
 * bounded waits (every wait fails after a timeout instead of hanging the suite).
 */
import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';
import type { WebSocketServerOptions } from '../../src/server/options.js';
import { WebSocketServer } from '../../src/server/server.js';
import { TimerWheel } from '../../src/transport/timer-wheel.js';

/** A private fine-grained wheel so that timeout tests run in milliseconds. */
export function fastWheel(): TimerWheel {
  return new TimerWheel({ resolution: 10 });
}

/** Starts a standalone server on 127.0.0.1 and a free port. */
export async function startServer(
  options: Omit<WebSocketServerOptions, 'port'> = {},
): Promise<{ server: WebSocketServer; port: number; url: string }> {
  const server = new WebSocketServer({ host: '127.0.0.1', ...options, port: 0 });
  await waitFor(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return { server, port: address.port, url: `ws://127.0.0.1:${address.port}` };
}

/** Closes a server, bounded in time. */
export function closeServer(server: WebSocketServer, ms = 5000): Promise<void> {
  return withTimeout(new Promise<void>((resolve) => server.close(() => resolve())), ms, 'server.close');
}

/** Rejects when `promise` does not settle within `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Waits for one event, bounded in time; resolves with its arguments. Unlike `events.once` it does not
 * listen to 'error' (a listener would change how connections report errors).
 */
export function waitFor<T extends unknown[] = unknown[]>(
  emitter: NodeJS.EventEmitter,
  event: string,
  ms = 5000,
): Promise<T> {
  const fired = new Promise<T>((resolve) => emitter.once(event, (...args: unknown[]) => resolve(args as T)));
  return withTimeout(fired, ms, `event '${event}'`);
}

/** Opens a ws client and waits for 'open'. */
export async function openClient(url: string, options: WebSocket.ClientOptions = {}): Promise<WebSocket> {
  const client = new WebSocket(url, options);
  await waitFor(client, 'open');
  return client;
}

/** Waits for a ws client's close; resolves with the code and the reason as a string. */
export async function clientClosed(client: WebSocket, ms = 5000): Promise<{ code: number; reason: string }> {
  const [code, reason] = await waitFor<[number, Buffer]>(client, 'close', ms);
  return { code, reason: reason.toString() };
}

/** Connects a raw TCP socket to 127.0.0.1:port. */
export async function rawConnect(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  await waitFor(socket, 'connect');
  return socket;
}

/** Sends `request` on a raw socket and collects everything until the server closes it. */
export async function rawExchange(port: number, request: string | Buffer, ms = 5000): Promise<string> {
  const socket = await rawConnect(port);
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', () => {});
  socket.write(request);
  await waitFor(socket, 'close', ms);
  return Buffer.concat(chunks).toString('latin1');
}

/** A valid opening handshake request. */
export function upgradeRequest(path = '/', extra = ''): string {
  return (
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`
  );
}

/** Performs the handshake on a raw socket; resolves once the 101 head arrived (later bytes are left unread). */
export async function rawUpgrade(port: number, path = '/'): Promise<{ socket: Socket; response: string }> {
  const socket = await rawConnect(port);
  socket.write(upgradeRequest(path));
  let received = '';
  while (!received.includes('\r\n\r\n')) {
    const [chunk] = await waitFor<[Buffer]>(socket, 'data');
    received += chunk.toString('latin1');
  }
  return { socket, response: received };
}

/** A masked client frame (RFC 6455 §5.3) with a zero masking key, so that the payload stays readable. */
export function clientFrame(opcode: number, payload: Buffer, fin = true): Buffer {
  const length = payload.length;
  const header = length < 126 ? Buffer.alloc(6) : length < 65536 ? Buffer.alloc(8) : Buffer.alloc(14);
  header[0] = (fin ? 0x80 : 0) | opcode;
  if (length < 126) header[1] = 0x80 | length;
  else if (length < 65536) {
    header[1] = 0x80 | 126;
    header.writeUInt16BE(length, 2);
  } else {
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  return Buffer.concat([header, payload]);
}
