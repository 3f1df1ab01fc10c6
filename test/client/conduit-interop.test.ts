/** The client against Conduit's own WebSocketServer. */
import type { Buffer } from 'node:buffer';
import type { WebSocketConnection } from '../../src/server/connection.js';
import type { UpgradeRequest } from '../../src/server/upgrade-request.js';
import { closeServer, startServer } from '../server/helpers.js';
import { CloseLog, FRAGMENTED_TEXT, interopSuite, type Peer } from './interop-suite.js';

/** Runs one command of the interop suite on a Conduit connection (see interop-suite.ts). */
function command(connection: WebSocketConnection, data: Buffer, isBinary: boolean): void {
  const text = isBinary ? '' : data.toString();
  if (text === 'fragment') {
    connection.send(FRAGMENTED_TEXT, { fragmentSize: 700 });
  } else if (text.startsWith('ping:')) {
    connection.ping(text.slice(5));
  } else if (text.startsWith('close:')) {
    const [, code, reason] = text.split(':', 3);
    connection.close(Number(code), reason);
  } else {
    connection.send(data, { binary: isBinary });
  }
}

async function startConduit(): Promise<Peer> {
  const log = new CloseLog();
  const { server, url } = await startServer({
    perMessageDeflate: true,
    handleProtocols: (offered) => (offered.has('chat') ? 'chat' : false),
  });
  server.on('connection', (connection: WebSocketConnection, request: UpgradeRequest) => {
    connection.on('message', (data: Buffer, isBinary: boolean) => command(connection, data, isBinary));
    connection.on('pong', (payload: Buffer) => connection.send(`pong:${payload}`));
    connection.on('close', (code: number, reason: string) => log.record(request.url, code, reason));
  });
  return { url, closeSeen: (path) => log.closeSeen(path), stop: () => closeServer(server) };
}

interopSuite('a Conduit WebSocketServer', startConduit);
