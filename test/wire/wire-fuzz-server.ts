/**
 * "Fuzzing server" mode: a raw `net` server on 127.0.0.1 that accepts the opening handshake of the
 * product's client `WebSocket` by hand (RFC 6455 §4.2.2), answers with the extensions a case chooses,
 * and hands the socket to a {@link WireEndpoint} that writes crafted unmasked frames. The client runs
 * inside a tiny test app that echoes every message with its type and records open, error and close.
 * @module
 */
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type CloseEvent, WebSocket, type WebSocketOptions } from '../../src/client/index.js';
import { acceptFor, type HttpHead, readHead } from './wire-client.js';
import { WAIT_MS, WireEndpoint } from './wire-endpoint.js';
import { assertNoViolations, expectCloseFrame, expectFailure } from './wire-expect.js';

/** The client under test inside an echo app: `message` → `send` with the same type and data. */
export class EchoApp {
  readonly ws: WebSocket;
  readonly errors: Error[] = [];
  /** Messages the app received, in order (strings for text, Buffers for binary). */
  readonly received: (string | Buffer)[] = [];
  closeEvent: CloseEvent | null = null;
  private readonly closed: Promise<CloseEvent>;

  constructor(url: string, options: WebSocketOptions) {
    this.ws = new WebSocket(url, undefined, { binaryType: 'nodebuffer', ...options });
    this.ws.onmessage = (event: MessageEvent) => {
      this.received.push(event.data as string | Buffer);
      this.ws.send(event.data as string | Buffer);
    };
    this.ws.onerror = (event) => {
      this.errors.push(event.error as Error);
    };
    this.closed = new Promise((resolve) => {
      this.ws.onclose = (event) => {
        this.closeEvent = event;
        resolve(event);
      };
    });
  }

  /** The `close` event, or a rejection after `timeoutMs`. */
  async waitClosed(timeoutMs = WAIT_MS): Promise<CloseEvent> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the client fired no close event within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** One accepted connection: our endpoint, the client's request, the app around the client. */
export interface FuzzSession {
  endpoint: WireEndpoint;
  request: HttpHead;
  app: EchoApp;
}

/** Chooses the 101's Sec-WebSocket-Extensions from the client's offer header; undefined for none. */
export type ExtensionChooser = (offer: string | undefined) => string | undefined;

/** The raw server of the client cases. */
export class FuzzServer {
  private readonly server: Server;
  private readonly pending: ((socket: Socket) => void)[] = [];
  private readonly sockets = new Set<Socket>();

  private constructor(server: Server) {
    this.server = server;
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => {});
      const take = this.pending.shift();
      if (take === undefined) socket.destroy();
      else take(socket);
    });
  }

  /** Listens on 127.0.0.1, on a free port. */
  static start(): Promise<FuzzServer> {
    return new Promise((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve(new FuzzServer(server)));
    });
  }

  get port(): number {
    const address = this.server.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  }

  /** Starts a client, accepts its handshake with `respond`'s extensions, and waits for `open`. */
  async session(
    options: WebSocketOptions = {},
    respond: ExtensionChooser = () => undefined,
    early?: Uint8Array,
  ): Promise<FuzzSession> {
    const { socket, request, app } = await this.accept(options);
    const extensions = respond(request.headers.get('sec-websocket-extensions'));
    let response =
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Accept: ${acceptFor(request.headers.get('sec-websocket-key') ?? '')}\r\n`;
    if (extensions !== undefined) response += `Sec-WebSocket-Extensions: ${extensions}\r\n`;
    const head = Buffer.from(`${response}\r\n`, 'latin1');
    // Frames may follow the 101 in the same TCP segment (RFC 6455 §4.1: the client must then parse them).
    socket.write(early === undefined ? head : Buffer.concat([head, early]));
    const endpoint = new WireEndpoint(socket, false, new Uint8Array(0), 23);
    socket.resume();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the client did not open within 2 s')), WAIT_MS);
      app.ws.addEventListener('open', () => {
        clearTimeout(timer);
        resolve();
      });
      app.ws.addEventListener('close', () => {
        clearTimeout(timer);
        reject(
          new Error(`the client closed instead of opening: ${app.errors.map((e) => e.message).join('; ')}`),
        );
      });
    });
    return { endpoint, request, app };
  }

  /** Starts a client and reads its request; the caller answers on `socket`. */
  async accept(options: WebSocketOptions = {}): Promise<{ socket: Socket; request: HttpHead; app: EchoApp }> {
    const connected = new Promise<Socket>((resolve) => this.pending.push(resolve));
    const app = new EchoApp(`ws://127.0.0.1:${this.port}/`, { perMessageDeflate: true, ...options });
    const socket = await connected;
    const { head, rest } = await readHead(socket);
    assert.equal(rest.length, 0, 'the client sent bytes before the 101');
    // RFC 6455 §4.1: the client's request, checked as a strict server would.
    assert.match(head.line, /^GET \/ HTTP\/1\.1$/, 'request line');
    assert.equal(head.headers.get('host'), `127.0.0.1:${this.port}`, 'Host');
    assert.equal(head.headers.get('upgrade')?.toLowerCase(), 'websocket', 'Upgrade: websocket');
    assert.match(head.headers.get('connection') ?? '', /(^|,)\s*upgrade\s*(,|$)/i, 'Connection: Upgrade');
    assert.equal(head.headers.get('sec-websocket-version'), '13', 'Sec-WebSocket-Version: 13');
    const key = head.headers.get('sec-websocket-key') ?? '';
    assert.equal(Buffer.from(key, 'base64').length, 16, 'Sec-WebSocket-Key is 16 random bytes in base64');
    assert.equal(Buffer.from(key, 'base64').toString('base64'), key, 'Sec-WebSocket-Key is canonical base64');
    return { socket, request: head, app };
  }

  /** Stops listening and drops every socket. */
  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A fuzz server for the current test file (`before`/`after`). */
export function useFuzzServer(): { readonly server: FuzzServer } {
  let server: FuzzServer | undefined;
  before(async () => {
    server = await FuzzServer.start();
  });
  after(async () => {
    await server?.close();
  });
  return {
    get server(): FuzzServer {
      if (server === undefined) throw new Error('the fuzz server did not start');
      return server;
    },
  };
}

/** Options of one {@link clientCase}. */
export interface ClientCaseOptions {
  /** Options of the client under test (perMessageDeflate is on unless overridden). */
  client?: WebSocketOptions;
  /** The extensions the 101 accepts. Default: none. */
  respond?: ExtensionChooser;
  /** Frames written in the same TCP write as the 101. */
  early?: Uint8Array;
  timeout?: number;
}

/** One case against the client: a fresh client and session handed to `body`, everything torn down after. */
export function clientCase(
  handle: { readonly server: FuzzServer },
  id: string,
  title: string,
  body: (session: FuzzSession) => Promise<void>,
  options: ClientCaseOptions = {},
): void {
  it(`${id} ${title}`, { timeout: options.timeout ?? 10_000 }, async () => {
    const session = await handle.server.session(options.client, options.respond, options.early);
    try {
      await body(session);
    } finally {
      session.endpoint.destroy();
      session.app.ws.terminate();
    }
  });
}

/**
 * We close with `code` (Autobahn's normal end of a client case): the client must echo the code, leave
 * the TCP close to the server (RFC 6455 §7.1.1: "the server SHOULD close the TCP connection first"),
 * and report a clean close with that code once we close TCP.
 */
export async function serverClosesCleanly(session: FuzzSession, code = 1000): Promise<void> {
  const { endpoint: ep, app } = session;
  ep.write(ep.build.close(code));
  await expectCloseFrame(ep, [code]);
  await sleep(50);
  assert.ok(!ep.tcpClosed, 'the client closed TCP before the server did (RFC 6455 §7.1.1)');
  ep.end();
  const event = await app.waitClosed();
  assert.deepEqual({ code: event.code, wasClean: event.wasClean }, { code, wasClean: true }, 'close event');
  assert.ok(await ep.waitTcpClosed(), 'the client did not close its side after the server closed TCP');
  assert.deepEqual(app.errors, [], 'no error event on a clean close');
  assertNoViolations(ep);
}

/**
 * The client must fail the connection: a close frame with one of `codes`, then (after our close reply
 * and TCP close) `error` and `close` events with 1006, not clean (WHATWG "fail the WebSocket connection").
 */
export async function expectClientFailure(
  session: FuzzSession,
  codes: number[],
  timeoutMs = WAIT_MS,
): Promise<void> {
  const { endpoint: ep, app } = session;
  await expectFailure(ep, codes, timeoutMs);
  const event = await app.waitClosed();
  assert.equal(event.wasClean, false, 'a failed connection does not close cleanly');
  assert.equal(event.code, 1006, 'a failed connection reports 1006');
  assert.equal(app.errors.length, 1, 'one error event before close');
}
