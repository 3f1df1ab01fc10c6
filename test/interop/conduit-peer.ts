/**
 * The Conduit side of the interop tests: a WebSocketServer that echoes, runs a few text commands, and
 * logs what it saw on each connection (by request target) — messages with their SHA-256, the frame
 * headers on the wire, pings, pongs, the close code and reason, and the byte counts of the socket.
 *
 * Commands (text messages):
 *   `fragment`              → FRAGMENTED_TEXT in frames of FRAGMENT_SIZE bytes;
 *   `fragment-binary`       → patterned(FRAGMENTED_BINARY_SIZE) in frames of 4 KiB;
 *   `broadcast`             → repeatedMessage(1) to every client, through `WebSocketServer.broadcast`;
 *   `ping:<payload>`        → pings with <payload>, then sends `pong:<payload>` once the pong arrived;
 *   `close:<code>:<reason>` → closes with that code and reason;
 *   anything else           → echoed with its type.
 * The subprotocol `chat` is chosen when offered.
 */
import type { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import type { Server as HttpServer } from 'node:http';
import type { PerMessageDeflateOptions } from '../../src/protocol/permessage-deflate.js';
import type { WebSocketConnection } from '../../src/server/connection.js';
import { WebSocketServer } from '../../src/server/server.js';
import type { UpgradeRequest } from '../../src/server/upgrade-request.js';
import { closeServer, waitFor, withTimeout } from '../server/helpers.js';
import { FrameTap } from './frame-tap.js';
import {
  FRAGMENT_SIZE,
  FRAGMENTED_BINARY_SIZE,
  FRAGMENTED_TEXT,
  patterned,
  repeatedMessage,
} from './whatwg-scenarios.js';

/** One message the server received. */
export interface ReceivedMessage {
  isBinary: boolean;
  size: number;
  sha256: string;
}

/** How a connection ended, as the server saw it. */
export interface ClosedRecord {
  code: number;
  reason: string;
  /** Bytes read from / written to the socket over the whole connection, handshake included. */
  bytesRead: number;
  bytesWritten: number;
}

/** What the server saw on one connection. */
export interface ConnectionRecord {
  request: UpgradeRequest;
  protocol: string;
  /** The negotiated `Sec-WebSocket-Extensions` response value ('' for none). */
  extensions: string;
  messages: ReceivedMessage[];
  pings: string[];
  pongs: string[];
  /** Frame headers the peer sent (from the first bytes after the handshake). */
  tap: FrameTap;
  closed: Promise<ClosedRecord>;
}

/** permessage-deflate with context takeover allowed in both directions (the server default forbids it). */
export const TAKEOVER: PerMessageDeflateOptions = {
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
};

/** Options of {@link InteropServer.start}. */
export interface InteropServerOptions {
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** Attach to this http.Server instead of listening on a port of its own. */
  server?: HttpServer;
  /** Accept only this path. */
  path?: string;
  /** Largest message accepted (1009 beyond). Default 64 MiB. */
  maxPayload?: number;
}

/** SHA-256 of bytes or text, in hex. */
export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** What a command runs against. */
interface CommandContext {
  connection: WebSocketConnection;
  wss: WebSocketServer;
  /** Payloads of the `ping:` commands whose pong has not come yet. */
  pingsSent: Set<string>;
}

function runCommand({ connection, wss, pingsSent }: CommandContext, data: Buffer, isBinary: boolean): void {
  const text = isBinary ? '' : data.toString();
  if (text === 'fragment') {
    connection.send(FRAGMENTED_TEXT, { fragmentSize: FRAGMENT_SIZE });
  } else if (text === 'fragment-binary') {
    connection.send(patterned(FRAGMENTED_BINARY_SIZE), { fragmentSize: 4096 });
  } else if (text === 'broadcast') {
    wss.broadcast(repeatedMessage(1));
  } else if (text.startsWith('ping:')) {
    const payload = text.slice('ping:'.length);
    pingsSent.add(payload);
    connection.ping(payload);
  } else if (text.startsWith('close:')) {
    const [, code, reason] = text.split(':', 3);
    connection.close(Number(code), reason);
  } else {
    connection.send(data, { binary: isBinary });
  }
}

/** A Conduit command server with a per-connection log. */
export class InteropServer {
  readonly wss: WebSocketServer;
  private readonly records = new Map<string, ConnectionRecord>();
  private readonly waiters = new Map<string, (record: ConnectionRecord) => void>();

  private constructor(wss: WebSocketServer) {
    this.wss = wss;
    wss.on('connection', (connection: WebSocketConnection, request: UpgradeRequest) =>
      this.onConnection(connection, request),
    );
  }

  /** Starts a server: standalone on 127.0.0.1 and a free port, or attached to `options.server`. */
  static async start(options: InteropServerOptions = {}): Promise<InteropServer> {
    const common = {
      perMessageDeflate: options.perMessageDeflate ?? false,
      handleProtocols: (offered: Set<string>) => (offered.has('chat') ? 'chat' : false),
      path: options.path,
      maxPayload: options.maxPayload ?? 64 * 1024 * 1024,
    };
    if (options.server !== undefined) {
      return new InteropServer(new WebSocketServer({ ...common, server: options.server }));
    }
    const wss = new WebSocketServer({ ...common, host: '127.0.0.1', port: 0 });
    await waitFor(wss, 'listening');
    return new InteropServer(wss);
  }

  /** The standalone listener's port. */
  get port(): number {
    const address = this.wss.address();
    if (address === null || typeof address === 'string') throw new Error('not listening');
    return address.port;
  }

  /** Waits (bounded) for the connection whose request target is `target`, e.g. `/plain?case=text`. */
  connection(target: string, ms = 5000): Promise<ConnectionRecord> {
    const known = this.records.get(target);
    if (known !== undefined) return Promise.resolve(known);
    const seen = new Promise<ConnectionRecord>((resolve) => this.waiters.set(target, resolve));
    return withTimeout(seen, ms, `connection to ${target}`);
  }

  /** Waits (bounded) for the end of the connection to `target`. */
  async closed(target: string, ms = 5000): Promise<ClosedRecord> {
    const record = await this.connection(target, ms);
    return withTimeout(record.closed, ms, `close of ${target}`);
  }

  /** Closes the server and its connections (bounded). */
  stop(): Promise<void> {
    return closeServer(this.wss);
  }

  private onConnection(connection: WebSocketConnection, request: UpgradeRequest): void {
    const tap = new FrameTap();
    connection.socket.on('data', (chunk: Buffer) => tap.push(chunk));
    const record: ConnectionRecord = {
      request,
      protocol: connection.protocol,
      extensions: connection.extensions,
      messages: [],
      pings: [],
      pongs: [],
      tap,
      closed: new Promise((resolve) => {
        connection.on('close', (code: number, reason: string) => {
          const { bytesRead, bytesWritten } = connection.socket;
          resolve({ code, reason, bytesRead, bytesWritten: bytesWritten ?? 0 });
        });
      }),
    };
    // Only the pongs of `ping:` commands are answered, not those of the heartbeat.
    const pingsSent = new Set<string>();
    connection.on('message', (data: Buffer, isBinary: boolean) => {
      record.messages.push({ isBinary, size: data.length, sha256: sha256(data) });
      runCommand({ connection, wss: this.wss, pingsSent }, data, isBinary);
    });
    connection.on('ping', (payload: Buffer) => record.pings.push(payload.toString()));
    connection.on('pong', (payload: Buffer) => {
      const text = payload.toString();
      record.pongs.push(text);
      if (pingsSent.delete(text)) connection.send(`pong:${text}`);
    });
    this.records.set(request.url, record);
    this.waiters.get(request.url)?.(record);
    this.waiters.delete(request.url);
  }
}
