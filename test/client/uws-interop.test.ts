/** The client against uWebSockets.js (through the @trufflesuite/uws-js-unofficial build). */
import { createRequire } from 'node:module';
import { missingPeer } from './helpers.js';
import { CloseLog, FRAGMENTED_TEXT, interopSuite, type Peer } from './interop-suite.js';

// The parts of the uWebSockets.js API the peer uses.
interface UwsSocket {
  send(message: string | ArrayBuffer, isBinary?: boolean, compress?: boolean): number;
  sendFirstFragment(message: string, isBinary?: boolean, compress?: boolean): boolean;
  sendFragment(message: string, compress?: boolean): boolean;
  sendLastFragment(message: string, compress?: boolean): boolean;
  end(code?: number, message?: string): void;
  ping(message?: string): number;
  getUserData(): { path: string };
}
interface UwsRequest {
  getHeader(name: string): string;
  getUrl(): string;
}
interface UwsResponse {
  upgrade(data: unknown, key: string, protocol: string, extensions: string, context: unknown): void;
}
interface UwsApp {
  ws(pattern: string, behavior: Record<string, unknown>): UwsApp;
  listen(host: string, port: number, callback: (listenSocket: unknown) => void): UwsApp;
}
interface Uws {
  App(): UwsApp;
  SHARED_COMPRESSOR: number;
  us_listen_socket_close(listenSocket: unknown): void;
  us_socket_local_port(listenSocket: unknown): number;
}

/** The pinned uWebSockets.js build ships binaries for Node 20 and older: on Node 24 it listens but never serves. */
const UWS_MAX_NODE_MAJOR = 20;

function loadUws(): Uws | string {
  const major = Number(process.versions.node.split('.')[0]);
  if (major > UWS_MAX_NODE_MAJOR) {
    const reason = `the pinned uWebSockets.js build supports Node <= ${UWS_MAX_NODE_MAJOR}; this is Node ${major}`;
    console.log(`SKIP uWebSockets.js interop: ${reason}`);
    return reason;
  }
  try {
    return createRequire(import.meta.url)('@trufflesuite/uws-js-unofficial') as Uws;
  } catch (error) {
    return missingPeer(
      `uWebSockets.js is needed for this interop test (npm package @trufflesuite/uws-js-unofficial): ${(error as Error).message}`,
    );
  }
}

const uws = loadUws();

function command(socket: UwsSocket, message: ArrayBuffer, isBinary: boolean): void {
  const text = isBinary ? '' : Buffer.from(message).toString();
  if (text === 'fragment') {
    socket.sendFirstFragment(FRAGMENTED_TEXT.slice(0, 700), false);
    socket.sendFragment(FRAGMENTED_TEXT.slice(700, 2000));
    socket.sendLastFragment(FRAGMENTED_TEXT.slice(2000));
  } else if (text.startsWith('ping:')) {
    socket.ping(text.slice(5));
  } else if (text.startsWith('close:')) {
    const [, code, reason] = text.split(':', 3);
    socket.end(Number(code), reason);
  } else {
    socket.send(message, isBinary, true);
  }
}

async function startUws(): Promise<Peer | string> {
  if (typeof uws === 'string') return uws;
  const log = new CloseLog();
  const app = uws.App().ws('/*', {
    compression: uws.SHARED_COMPRESSOR,
    maxPayloadLength: 64 * 1024 * 1024,
    maxBackpressure: 64 * 1024 * 1024,
    upgrade: (res: UwsResponse, req: UwsRequest, context: unknown) => {
      const offered = req
        .getHeader('sec-websocket-protocol')
        .split(',')
        .map((p) => p.trim());
      res.upgrade(
        { path: req.getUrl() },
        req.getHeader('sec-websocket-key'),
        offered.includes('chat') ? 'chat' : '',
        req.getHeader('sec-websocket-extensions'),
        context,
      );
    },
    message: command,
    pong: (socket: UwsSocket, message: ArrayBuffer) => socket.send(`pong:${Buffer.from(message)}`),
    close: (socket: UwsSocket, code: number, message: ArrayBuffer) =>
      log.record(socket.getUserData().path, code, Buffer.from(message).toString()),
  });
  const listenSocket = await new Promise<unknown>((resolve) => app.listen('127.0.0.1', 0, resolve));
  if (!listenSocket) throw new Error('uWS could not listen');
  return {
    url: `ws://127.0.0.1:${uws.us_socket_local_port(listenSocket)}`,
    closeSeen: (path) => log.closeSeen(path),
    stop: async () => uws.us_listen_socket_close(listenSocket),
  };
}

interopSuite('uWebSockets.js', startUws, typeof uws === 'string' ? uws : false);
