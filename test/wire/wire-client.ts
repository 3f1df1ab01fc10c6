/**
 * The suite's own client for "fuzzing client" mode: a raw `net` socket to 127.0.0.1 that performs the
 * opening handshake by hand (RFC 6455 §4.1), checks the 101 response (§4.2.2: status, Upgrade,
 * Connection, Sec-WebSocket-Accept) and hands the socket, with any bytes that came with the response, to
 * a {@link WireEndpoint}.
 * @module
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { WAIT_MS, WireEndpoint } from './wire-endpoint.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Sec-WebSocket-Accept for a key (RFC 6455 §4.2.2 item 5.4), computed here, not by the code under test. */
export function acceptFor(key: string): string {
  return createHash('sha1')
    .update(key + GUID)
    .digest('base64');
}

/** A parsed HTTP response or request head. */
export interface HttpHead {
  /** The first line. */
  line: string;
  /** Header fields by lower-case name; repeated fields are joined with ", ". */
  headers: Map<string, string>;
  /** How many times each lower-case name appeared. */
  counts: Map<string, number>;
}

/** Parses an HTTP head (without the final empty line). */
export function parseHead(text: string): HttpHead {
  const [line = '', ...fields] = text.split('\r\n');
  const headers = new Map<string, string>();
  const counts = new Map<string, number>();
  for (const field of fields) {
    const colon = field.indexOf(':');
    const name = field.slice(0, colon).trim().toLowerCase();
    const value = field.slice(colon + 1).trim();
    headers.set(name, headers.has(name) ? `${headers.get(name)}, ${value}` : value);
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return { line, headers, counts };
}

/**
 * Reads from `socket` until the end of an HTTP head; resolves with the head and the bytes after it.
 * Rejects when the socket closes first or after `timeoutMs`.
 */
export function readHead(socket: Socket, timeoutMs = WAIT_MS): Promise<{ head: HttpHead; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const done = (error: Error | null, value?: { head: HttpHead; rest: Buffer }): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.pause();
      if (error) reject(error);
      else resolve(value!);
    };
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      done(null, {
        head: parseHead(buffered.subarray(0, end).toString('latin1')),
        rest: buffered.subarray(end + 4),
      });
    };
    const onClose = (): void => done(new Error(`connection closed during the handshake: ${buffered}`));
    const timer = setTimeout(
      () => done(new Error(`no complete HTTP head within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.on('data', onData);
    socket.on('close', onClose);
  });
}

/** Options of {@link openRaw}. */
export interface RawOpenOptions {
  /** The `Sec-WebSocket-Extensions` request value; none by default. */
  extensions?: string;
  /** Seed of the masking keys. */
  seed?: number;
  /** Bytes (frames) written in the same TCP write as the upgrade request, before any response. */
  early?: Uint8Array;
}

/** A connection upgraded by hand, and the server's 101 response. */
export interface RawConnection {
  endpoint: WireEndpoint;
  response: HttpHead;
}

function connectTcp(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => socket.destroy(new Error('TCP connect timed out')), WAIT_MS);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.setNoDelay(true);
      resolve(socket);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** Sends the GET upgrade request for `/` (RFC 6455 §4.1) and waits for the response head. */
export async function upgrade(
  port: number,
  extensions?: string,
  early?: Uint8Array,
): Promise<{ socket: Socket; key: string; head: HttpHead; rest: Buffer }> {
  const socket = await connectTcp(port);
  const key = randomBytes(16).toString('base64');
  let request =
    `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n`;
  if (extensions !== undefined) request += `Sec-WebSocket-Extensions: ${extensions}\r\n`;
  const head = Buffer.from(`${request}\r\n`, 'latin1');
  socket.write(early === undefined ? head : Buffer.concat([head, early]));
  try {
    const response = await readHead(socket);
    return { socket, key, head: response.head, rest: response.rest };
  } catch (error) {
    socket.destroy();
    throw error;
  }
}

/** Opens a WebSocket connection by hand and checks the 101 response (RFC 6455 §4.2.2, §4.1). */
export async function openRaw(port: number, options: RawOpenOptions = {}): Promise<RawConnection> {
  const { socket, key, head, rest } = await upgrade(port, options.extensions, options.early);
  try {
    assert.match(head.line, /^HTTP\/1\.1 101 /, `expected 101 Switching Protocols, got ${head.line}`);
    assert.equal(head.headers.get('upgrade')?.toLowerCase(), 'websocket', 'Upgrade: websocket');
    assert.match(head.headers.get('connection') ?? '', /(^|,)\s*upgrade\s*(,|$)/i, 'Connection: Upgrade');
    assert.equal(head.headers.get('sec-websocket-accept'), acceptFor(key), 'Sec-WebSocket-Accept');
    assert.ok((head.counts.get('sec-websocket-extensions') ?? 0) <= 1, 'one Sec-WebSocket-Extensions field');
  } catch (error) {
    socket.destroy();
    throw error;
  }
  const endpoint = new WireEndpoint(socket, true, rest, options.seed);
  socket.resume();
  return { endpoint, response: head };
}
