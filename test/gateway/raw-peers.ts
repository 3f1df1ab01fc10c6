/**
 * Hand-written WebSocket peers over node:net for the passthrough tests: they do the opening handshake
 * themselves (with whatever `Sec-WebSocket-Extensions` the test chooses), record every frame received
 * as it was on the wire (RSV1 included) and write frames byte for byte, so that a test sees exactly what
 * a gateway forwarded. Also raw DEFLATE helpers for permessage-deflate payloads (RFC 7692 §7.2.1).
 */
import { createHash, randomBytes } from 'node:crypto';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { constants, deflateRawSync, inflateRawSync, type ZlibOptions } from 'node:zlib';
import { waitFor, withTimeout } from './helpers.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/** One frame as received, payload unmasked. */
export interface RawFrame {
  fin: boolean;
  rsv1: boolean;
  opcode: number;
  payload: Buffer;
}

/** One message: its frames' payloads joined, with the first frame's opcode and RSV1. */
export interface RawMessage {
  opcode: number;
  rsv1: boolean;
  payload: Buffer;
  frames: number;
}

/** A permessage-deflate payload of `data`: raw DEFLATE, sync-flushed, tail removed (RFC 7692 §7.2.1). */
export function deflatePayload(data: Buffer | string, options: ZlibOptions = {}): Buffer {
  const out = deflateRawSync(data, { ...options, finishFlush: constants.Z_SYNC_FLUSH });
  return out.subarray(0, out.length - 4);
}

/** The message behind a permessage-deflate payload compressed without context takeover. */
export function inflatePayload(payload: Buffer): Buffer {
  return inflateRawSync(Buffer.concat([payload, TAIL]), { finishFlush: constants.Z_SYNC_FLUSH });
}

/** A frame's bytes; masked with a random key when `masked` (client to server, RFC 6455 §5.3). */
export function frameBytes(
  opcode: number,
  payload: Buffer,
  masked: boolean,
  rsv1 = false,
  fin = true,
): Buffer {
  const length = payload.length;
  const lengthBytes = length < 126 ? 0 : length < 0x10000 ? 2 : 8;
  const header = Buffer.alloc(2 + lengthBytes + (masked ? 4 : 0));
  header[0] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
  const maskBit = masked ? 0x80 : 0;
  if (lengthBytes === 0) header[1] = maskBit | length;
  else if (lengthBytes === 2) {
    header[1] = maskBit | 126;
    header.writeUInt16BE(length, 2);
  } else {
    header[1] = maskBit | 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  if (!masked) return Buffer.concat([header, payload]);
  const key = randomBytes(4);
  key.copy(header, header.length - 4);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i]! ^= key[i & 3]!;
  return Buffer.concat([header, body]);
}

/** Parses frames from a byte stream, any chunking. */
class FrameParser {
  private buffered = Buffer.alloc(0);

  constructor(private readonly onFrame: (frame: RawFrame) => void) {}

  push(chunk: Buffer): void {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    for (;;) {
      const frame = this.next();
      if (frame === null) return;
      this.onFrame(frame);
    }
  }

  private next(): RawFrame | null {
    const buf = this.buffered;
    if (buf.length < 2) return null;
    const len7 = buf[1]! & 0x7f;
    const masked = (buf[1]! & 0x80) !== 0;
    let pos = 2;
    let length = len7;
    if (len7 === 126) {
      if (buf.length < 4) return null;
      length = buf.readUInt16BE(2);
      pos = 4;
    } else if (len7 === 127) {
      if (buf.length < 10) return null;
      length = Number(buf.readBigUInt64BE(2));
      pos = 10;
    }
    const keyAt = pos;
    if (masked) pos += 4;
    if (buf.length < pos + length) return null;
    const payload = Buffer.from(buf.subarray(pos, pos + length));
    if (masked) for (let i = 0; i < payload.length; i++) payload[i]! ^= buf[keyAt + (i & 3)]!;
    this.buffered = buf.subarray(pos + length);
    return { fin: (buf[0]! & 0x80) !== 0, rsv1: (buf[0]! & 0x40) !== 0, opcode: buf[0]! & 0x0f, payload };
  }
}

/** Frames of one side of a raw connection, grouped into messages as they complete. */
export class Inbox {
  readonly frames: RawFrame[] = [];
  readonly messages: RawMessage[] = [];
  private partial: RawFrame[] = [];
  private waiters: (() => void)[] = [];

  add(frame: RawFrame): void {
    this.frames.push(frame);
    if (frame.opcode < 8) {
      this.partial.push(frame);
      if (frame.fin) {
        const [first] = this.partial;
        const payload = Buffer.concat(this.partial.map((f) => f.payload));
        this.messages.push({
          opcode: first!.opcode,
          rsv1: first!.rsv1,
          payload,
          frames: this.partial.length,
        });
        this.partial = [];
      }
    }
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** The `count`th message (1-based), waiting for it at most `ms`. */
  nthMessage(count: number, ms = 5000): Promise<RawMessage> {
    return withTimeout(
      (async () => {
        while (this.messages.length < count) await new Promise<void>((resolve) => this.waiters.push(resolve));
        return this.messages[count - 1]!;
      })(),
      ms,
      `raw message #${count}`,
    );
  }

  /** The first close frame, waiting for it at most `ms`; resolves with its code (1005 for none). */
  closeCode(ms = 5000): Promise<number> {
    return withTimeout(
      (async () => {
        for (;;) {
          const close = this.frames.find((frame) => frame.opcode === 8);
          if (close !== undefined) return close.payload.length >= 2 ? close.payload.readUInt16BE(0) : 1005;
          await new Promise<void>((resolve) => this.waiters.push(resolve));
        }
      })(),
      ms,
      'raw close frame',
    );
  }
}

/** Reads an HTTP head off `socket`; resolves with it and the bytes that followed. */
function readHead(socket: Socket, ms = 5000): Promise<{ head: string; rest: Buffer }> {
  let received = Buffer.alloc(0);
  const read = new Promise<{ head: string; rest: Buffer }>((resolve) => {
    const onData = (chunk: Buffer): void => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.removeListener('data', onData);
      resolve({ head: received.subarray(0, end).toString('latin1'), rest: received.subarray(end + 4) });
    };
    socket.on('data', onData);
  });
  return withTimeout(read, ms, 'HTTP head');
}

/** Header `name` (lowercase) of an HTTP head, or undefined. */
export function headerOf(head: string, name: string): string | undefined {
  const values = head
    .split('\r\n')
    .slice(1)
    .filter((line) => line.slice(0, line.indexOf(':')).trim().toLowerCase() === name)
    .map((line) => line.slice(line.indexOf(':') + 1).trim());
  return values.length === 0 ? undefined : values.join(', ');
}

function accept(key: string): string {
  return createHash('sha1')
    .update(key + GUID)
    .digest('base64');
}

/** One accepted raw connection of a {@link RawBackend}. */
export interface RawBackendConnection {
  /** The request's `Sec-WebSocket-Extensions`, undefined when absent. */
  offered: string | undefined;
  inbox: Inbox;
  /** Writes an unmasked frame. */
  send(opcode: number, payload: Buffer, rsv1?: boolean, fin?: boolean): void;
  socket: Socket;
}

/** A raw WebSocket server: answers each handshake with the extensions `answer` returns (null: none). */
export interface RawBackend {
  url: string;
  connections: RawBackendConnection[];
  nthConnection(count: number, ms?: number): Promise<RawBackendConnection>;
  close(): Promise<void>;
}

/** Starts a {@link RawBackend} on 127.0.0.1. */
export async function startRawBackend(
  answer: (offered: string | undefined) => string | null,
): Promise<RawBackend> {
  const connections: RawBackendConnection[] = [];
  const sockets = new Set<Socket>();
  const waiters: (() => void)[] = [];
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    void readHead(socket).then(
      ({ head, rest }) => {
        const offered = headerOf(head, 'sec-websocket-extensions');
        const extensions = answer(offered);
        socket.write(
          'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
            `Sec-WebSocket-Accept: ${accept(headerOf(head, 'sec-websocket-key') ?? '')}\r\n` +
            (extensions === null ? '' : `Sec-WebSocket-Extensions: ${extensions}\r\n`) +
            '\r\n',
        );
        const inbox = new Inbox();
        const parser = new FrameParser((frame) => inbox.add(frame));
        socket.on('data', (chunk: Buffer) => parser.push(chunk));
        if (rest.length > 0) parser.push(rest);
        const send = (opcode: number, payload: Buffer, rsv1 = false, fin = true): void => {
          socket.write(frameBytes(opcode, payload, false, rsv1, fin));
        };
        connections.push({ offered, inbox, send, socket });
        for (const wake of waiters.splice(0)) wake();
      },
      () => socket.destroy(),
    );
  });
  server.listen(0, '127.0.0.1');
  await waitFor(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const nthConnection = (count: number, ms = 5000): Promise<RawBackendConnection> =>
    withTimeout(
      (async () => {
        while (connections.length < count) await new Promise<void>((resolve) => waiters.push(resolve));
        return connections[count - 1]!;
      })(),
      ms,
      `raw backend connection #${count}`,
    );
  const close = async (): Promise<void> => {
    for (const socket of sockets) socket.destroy();
    await withTimeout(
      new Promise<void>((resolve) => server.close(() => resolve())),
      5000,
      'raw backend close',
    );
  };
  return { url: `ws://127.0.0.1:${port}`, connections, nthConnection, close };
}

/** A raw WebSocket client after its handshake. */
export interface RawClient {
  /** The response head (status line and headers). */
  head: string;
  inbox: Inbox;
  /** Writes a masked frame. */
  send(opcode: number, payload: Buffer, rsv1?: boolean, fin?: boolean): void;
  socket: Socket;
  close(): void;
}

/** Opens a raw client to `url` (ws://host:port/path) offering `extensions` (null: no header). */
export async function openRawClient(url: string, extensions: string | null): Promise<RawClient> {
  const target = new URL(url);
  const socket = connect(Number(target.port), target.hostname);
  socket.on('error', () => {});
  await waitFor(socket, 'connect');
  const key = randomBytes(16).toString('base64');
  const headRead = readHead(socket);
  socket.write(
    `GET ${target.pathname} HTTP/1.1\r\nHost: ${target.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
      (extensions === null ? '' : `Sec-WebSocket-Extensions: ${extensions}\r\n`) +
      '\r\n',
  );
  const { head, rest } = await headRead;
  if (!head.startsWith('HTTP/1.1 101')) {
    socket.destroy();
    throw new Error(`handshake refused: ${head.split('\r\n')[0]}`);
  }
  const inbox = new Inbox();
  const parser = new FrameParser((frame) => inbox.add(frame));
  socket.on('data', (chunk: Buffer) => parser.push(chunk));
  if (rest.length > 0) parser.push(rest);
  const send = (opcode: number, payload: Buffer, rsv1 = false, fin = true): void => {
    socket.write(frameBytes(opcode, payload, true, rsv1, fin));
  };
  return { head, inbox, send, socket, close: () => socket.destroy() };
}
