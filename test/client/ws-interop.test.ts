/** The client against a `ws` WebSocketServer (the npm package most Node servers run). */
import type { AddressInfo } from 'node:net';
import { WebSocketServer as WsServer, type WebSocket as WsSocket } from 'ws';
import { withTimeout } from './helpers.js';
import { CloseLog, FRAGMENTED_TEXT, interopSuite, type Peer } from './interop-suite.js';

function command(socket: WsSocket, data: Buffer, isBinary: boolean): void {
  const text = isBinary ? '' : data.toString();
  if (text === 'fragment') {
    // ws sends a fragmented message as sends with fin: false, then fin: true.
    socket.send(FRAGMENTED_TEXT.slice(0, 700), { fin: false });
    socket.send(FRAGMENTED_TEXT.slice(700, 2000), { fin: false });
    socket.send(FRAGMENTED_TEXT.slice(2000), { fin: true });
  } else if (text.startsWith('ping:')) {
    socket.ping(text.slice(5));
  } else if (text.startsWith('close:')) {
    const [, code, reason] = text.split(':', 3);
    socket.close(Number(code), reason);
  } else {
    socket.send(data, { binary: isBinary });
  }
}

async function startWs(): Promise<Peer> {
  const log = new CloseLog();
  const server = new WsServer({
    host: '127.0.0.1',
    port: 0,
    perMessageDeflate: true,
    maxPayload: 64 * 1024 * 1024,
    handleProtocols: (offered) => (offered.has('chat') ? 'chat' : false),
  });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  server.on('connection', (socket, request) => {
    socket.on('message', (data: Buffer, isBinary: boolean) => command(socket, data, isBinary));
    socket.on('pong', (payload: Buffer) => socket.send(`pong:${payload}`));
    socket.on('close', (code: number, reason: Buffer) =>
      log.record(request.url ?? '', code, reason.toString()),
    );
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}`,
    closeSeen: (path) => log.closeSeen(path),
    stop: () => withTimeout(new Promise<void>((resolve) => server.close(() => resolve())), 5000, 'ws close'),
  };
}

interopSuite('a ws WebSocketServer', startWs);
