/**
 * The client over HTTP/2 (RFC 8441): `http2: true` requires a server that advertises
 * SETTINGS_ENABLE_CONNECT_PROTOCOL, `'auto'` falls back to HTTP/1.1, and WebSockets to one origin share
 * one pooled session that closes after its last WebSocket.
 */
import assert from 'node:assert/strict';
import {
  createServer as createH2cServer,
  createSecureServer,
  type Http2SecureServer,
  type Http2Server,
  type ServerHttp2Session,
} from 'node:http2';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import type { ErrorEvent } from '../../src/client/events.js';
import { Http2ConnectError } from '../../src/client/http2-errors.js';
import { pooledSessionCount, SESSION_IDLE_MS } from '../../src/client/http2-pool.js';
import { WebSocket } from '../../src/client/websocket.js';
import type { WebSocketConnection } from '../../src/server/connection.js';
import { httpVersionOf } from '../../src/server/http2-connection.js';
import { WebSocketServer } from '../../src/server/server.js';
import { closeServer, startServer, waitFor } from '../server/helpers.js';
import { makeTlsFixture } from '../server/tls-fixture.js';
import { closeOf, Messages, nextEvent, openWebSocket, withTimeout } from './helpers.js';

const fixture = makeTlsFixture();
const tlsSkip = typeof fixture === 'string' ? fixture : false;

type Listening = Http2Server | Http2SecureServer | HttpsServer;

/** Listens on 127.0.0.1; `stop` destroys what is left open (bounded). */
async function listen(
  server: Listening,
): Promise<{ port: number; sessions: () => number; stop: () => Promise<void> }> {
  const sessions = new Set<ServerHttp2Session>();
  server.on('session', (session: ServerHttp2Session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  server.listen(0, '127.0.0.1');
  await waitFor(server, 'listening');
  const stop = async (): Promise<void> => {
    for (const session of sessions) session.destroy();
    if ('closeAllConnections' in server) server.closeAllConnections();
    await withTimeout(new Promise((resolve) => server.close(resolve)), 5000, 'server close');
  };
  return { port: (server.address() as AddressInfo).port, sessions: () => sessions.size, stop };
}

/** Waits until `condition` holds, polling; bounded. */
async function until(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  await withTimeout(
    (async () => {
      while (!condition()) await new Promise((resolve) => setTimeout(resolve, 20));
    })(),
    ms,
    what,
  );
}

/** The error a WebSocket failed with before it opened, and its close event. */
async function failure(ws: WebSocket): Promise<{ error: unknown; close: CloseEvent }> {
  const error = nextEvent<ErrorEvent>(ws, 'error');
  const close = await closeOf(ws);
  return { error: (await error).error, close };
}

function echo(connection: WebSocketConnection): void {
  connection.on('message', (data: Buffer, isBinary: boolean) => connection.send(data, { binary: isBinary }));
}

describe('client WebSocket over HTTP/2', () => {
  it('shares one session among sockets to one origin and closes it after the last one', async () => {
    const h2 = createH2cServer({ settings: { enableConnectProtocol: true } });
    const { port, sessions, stop } = await listen(h2);
    const wss = new WebSocketServer({ server: h2 });
    wss.on('connection', echo);
    try {
      const url = `ws://127.0.0.1:${port}/`;
      const sockets = await Promise.all(
        [1, 2, 3, 4].map(() => openWebSocket(url, undefined, { http2: true })),
      );
      assert.equal(sessions(), 1, 'one TCP connection on the server');
      assert.equal(pooledSessionCount(), 1);
      for (const [i, ws] of sockets.entries()) {
        const messages = new Messages(ws);
        ws.send(`n${i}`);
        assert.equal(await messages.next(), `n${i}`);
      }
      // Closing some keeps the session for the others; a new socket joins it.
      await Promise.all(
        sockets.slice(0, 3).map((ws) => {
          const closed = closeOf(ws);
          ws.close();
          return closed;
        }),
      );
      const late = await openWebSocket(url, undefined, { http2: true });
      assert.equal(sessions(), 1);
      for (const ws of [sockets[3]!, late]) {
        const closed = closeOf(ws);
        ws.close(1000);
        assert.equal((await closed).wasClean, true);
      }
      // After the last one, the session closes once idle.
      await until(() => sessions() === 0, 'idle session closed', SESSION_IDLE_MS + 3000);
      assert.equal(pooledSessionCount(), 0);
    } finally {
      await closeServer(wss);
      await stop();
    }
  });

  it('fails with http2: true when an h2c server lacks the setting', async () => {
    // h2c without SETTINGS_ENABLE_CONNECT_PROTOCOL: nothing to fall back to in cleartext HTTP/2.
    const h2 = createH2cServer();
    const { port, stop } = await listen(h2);
    try {
      const { error, close } = await failure(new WebSocket(`ws://127.0.0.1:${port}/`, [], { http2: true }));
      assert.ok(error instanceof Http2ConnectError);
      assert.equal(error.code, 'ERR_HTTP2_UNSUPPORTED');
      assert.match(error.message, /SETTINGS_ENABLE_CONNECT_PROTOCOL/);
      assert.equal(close.code, 1006);
    } finally {
      await stop();
    }
  });

  it("falls back to HTTP/1.1 with 'auto' when the h2c preface meets an HTTP/1.1 server", async () => {
    const { server, url } = await startServer();
    const versions: string[] = [];
    server.on('connection', (connection: WebSocketConnection) => {
      versions.push(httpVersionOf(connection));
      echo(connection);
    });
    try {
      const ws = await openWebSocket(`${url}/`, undefined, { http2: 'auto' });
      const messages = new Messages(ws);
      ws.send('fell back');
      assert.equal(await messages.next(), 'fell back');
      assert.deepEqual(versions, ['1.1']);
      const strict = await failure(new WebSocket(`${url}/`, [], { http2: true }));
      assert.equal((strict.error as Http2ConnectError).code, 'ERR_HTTP2_UNSUPPORTED');
      const closed = closeOf(ws);
      ws.close();
      await closed;
    } finally {
      await closeServer(server);
    }
  });

  it('reports a refused CONNECT as a handshake error with the status', async () => {
    const h2 = createH2cServer({ settings: { enableConnectProtocol: true } });
    const { port, stop } = await listen(h2);
    const wss = new WebSocketServer({ server: h2, upgrade: () => ({ status: 403, message: 'no' }) });
    try {
      const { error, close } = await failure(new WebSocket(`ws://127.0.0.1:${port}/`, [], { http2: true }));
      assert.equal((error as { code: string }).code, 'ERR_HANDSHAKE_STATUS');
      assert.equal((error as { status: number }).status, 403);
      assert.equal(close.code, 1006);
    } finally {
      await closeServer(wss);
      await stop();
    }
  });

  it('closes while connecting without leaking the stream', async () => {
    const h2 = createH2cServer({ settings: { enableConnectProtocol: true } });
    const { port, sessions, stop } = await listen(h2);
    // The hook answers late: the client gives up first.
    const wss = new WebSocketServer({
      server: h2,
      upgrade: () => new Promise<undefined>((resolve) => setTimeout(resolve, 300)),
    });
    let connections = 0;
    wss.on('connection', () => connections++);
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/`, [], { http2: true });
      await until(() => sessions() === 1, 'session opened');
      const { error, close } = await (async () => {
        const outcome = failure(ws);
        ws.close();
        return outcome;
      })();
      assert.equal((error as { code: string }).code, 'ERR_CLOSED_WHILE_CONNECTING');
      assert.equal(close.code, 1006);
      await until(
        () => sessions() === 0,
        'session closed after the cancelled stream',
        SESSION_IDLE_MS + 3000,
      );
      assert.equal(connections, 0);
    } finally {
      await closeServer(wss);
      await stop();
    }
  });
});

describe('client WebSocket over HTTP/2 with TLS', { skip: tlsSkip }, () => {
  it("'auto' uses h2 where offered and HTTP/1.1 where ALPN chose it", async () => {
    if (typeof fixture === 'string') return;
    const tls = { cert: fixture.cert, key: fixture.key };
    const h2 = createSecureServer({ ...tls, allowHTTP1: true, settings: { enableConnectProtocol: true } });
    const https = createHttpsServer(tls);
    const h2WithoutSetting = createSecureServer({ ...tls, allowHTTP1: true });
    const both = await listen(h2);
    const onlyH1 = await listen(https);
    const noSetting = await listen(h2WithoutSetting);
    const versions: string[] = [];
    const servers = [h2, https, h2WithoutSetting].map((server) => {
      const wss = new WebSocketServer({ server });
      wss.on('connection', (connection: WebSocketConnection) => {
        versions.push(httpVersionOf(connection));
        echo(connection);
      });
      return wss;
    });
    try {
      const options = { ca: fixture.cert, servername: 'localhost', http2: 'auto' as const };
      for (const port of [both.port, onlyH1.port, noSetting.port]) {
        const ws = await openWebSocket(`wss://127.0.0.1:${port}/`, undefined, options);
        const messages = new Messages(ws);
        ws.send('tls');
        assert.equal(await messages.next(), 'tls');
        const closed = closeOf(ws);
        ws.close();
        await closed;
      }
      assert.deepEqual(versions, ['2', '1.1', '1.1']);
      // `true` refuses the server whose TLS does not offer h2.
      const strict = await failure(
        new WebSocket(`wss://127.0.0.1:${onlyH1.port}/`, [], { ...options, http2: true }),
      );
      assert.ok(strict.error instanceof Error);
      assert.match(String((strict.error as Error).message), /h2|ALPN|protocol/i);
      // A certificate the client does not trust fails as over HTTP/1.1, not as "unsupported".
      const untrusted = await failure(
        new WebSocket(`wss://127.0.0.1:${both.port}/`, [], { servername: 'localhost', http2: 'auto' }),
      );
      assert.match(String(untrusted.error), /self[- ]signed/i);
    } finally {
      await Promise.all(servers.map((wss) => closeServer(wss)));
      await both.stop();
      await onlyH1.stop();
      await noSetting.stop();
    }
  });
});
