/**
 * The proxy's failure paths with real peers: silent peers (heartbeats), backends that never answer the
 * upgrade (connect timeout, then the next backend), a wss backend, and a client that leaves while its
 * backend is still being dialled.
 */
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { describe, it } from 'node:test';
import { checkServerIdentity } from 'node:tls';
import { UpstreamDialer } from '../../src/gateway/proxy/upstream-dial.js';
import { rawServer } from '../client/helpers.js';
import { rawConnect, upgradeRequest } from '../server/helpers.js';
import { makeTlsFixture } from '../server/tls-fixture.js';
import {
  clientClosed,
  nextMessage,
  openThrough,
  route,
  startConduitEcho,
  startGateway,
  startWsBackend,
  waitFor,
  withTimeout,
} from './helpers.js';

/** Polls `condition` every 10 ms, bounded in time. */
function until(condition: () => boolean, what: string): Promise<void> {
  return withTimeout(
    (async () => {
      while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
    })(),
    5000,
    what,
  );
}

describe('proxy failure paths', () => {
  it('drops a client that stops answering pings and tells the backend 1001', async () => {
    const backend = await startWsBackend();
    const gateway = await startGateway([backend.url], { route: route('frames', { pingIntervalMs: 200 }) });
    try {
      const client = await openThrough(gateway.url, undefined, { autoPong: false });
      const backendSide = (await backend.nthConnection(1)).socket;
      const backendSaw = waitFor<[number, Buffer]>(backendSide, 'close', 5000);
      const closed = clientClosed(client, 5000);
      assert.equal((await backendSaw)[0], 1001);
      assert.equal((await closed).code, 1006, 'the silent client is cut without a close frame');
      assert.equal((await gateway.nthEnd(1)).endReason, 'heartbeat');
    } finally {
      await gateway.close();
      await backend.close();
    }
  });

  it('closes the client with 1011 when the backend stops answering pings', async () => {
    const backend = await startWsBackend({ autoPong: false });
    const gateway = await startGateway([backend.url], { route: route('frames', { pingIntervalMs: 200 }) });
    try {
      const client = await openThrough(gateway.url);
      const closed = clientClosed(client, 5000);
      assert.equal((await closed).code, 1011);
      assert.equal((await gateway.nthEnd(1)).endReason, 'upstream_lost');
    } finally {
      await gateway.close();
      await backend.close();
    }
  });

  it('gives up on a backend that never answers the upgrade and tries the next one', async () => {
    const silent = await rawServer(() => {});
    const backend = await startWsBackend();
    const gateway = await startGateway([`ws://127.0.0.1:${silent.port}`, backend.url], {
      upstream: { connectTimeoutMs: 300 },
    });
    try {
      const client = await openThrough(gateway.url);
      client.send('second time lucky');
      assert.equal((await nextMessage(client)).data.toString(), 'second time lucky');
      assert.deepEqual(
        gateway.attempts.map((a) => a.code),
        ['ERR_UPSTREAM_TIMEOUT', ''],
      );
      client.terminate();
    } finally {
      await gateway.close();
      await backend.close();
      silent.server.close();
    }
  });

  it('stops after maxAttempts backends', async () => {
    const silent = await rawServer((socket) => socket.destroy());
    const urls = [1, 2, 3].map((n) => `ws://127.0.0.1:${silent.port}/${n}`);
    const gateway = await startGateway(urls, { upstream: { maxAttempts: 2 } });
    try {
      await assert.rejects(openThrough(gateway.url), { status: 502 });
      assert.equal(gateway.attempts.length, 2);
    } finally {
      await gateway.close();
      silent.server.close();
    }
  });

  it('aborts the dial when the client leaves during it', async () => {
    let release: (() => void) | null = null;
    const backend = await startWsBackend({
      verifyClient: (_info, done) => {
        release = () => done(true);
      },
    });
    const gateway = await startGateway([backend.url]);
    let socket: Socket | null = null;
    try {
      socket = await rawConnect(Number(new URL(gateway.url).port));
      socket.on('error', () => {});
      socket.write(upgradeRequest('/'));
      await until(() => release !== null, 'the backend sees the upgrade');
      socket.destroy();
      await until(() => gateway.verdicts.length > 0, 'the upgrade hook gives up');
      assert.deepEqual(gateway.verdicts, [502]);
      // The dial's socket is gone: the backend cannot complete its handshake any more.
      release!();
      assert.equal(backend.connections.length, 0);
      assert.equal(gateway.started.length, 0, 'no session for a client that left');
    } finally {
      socket?.destroy();
      await gateway.close();
      await backend.close();
    }
  });

  it('proxies to a wss backend with the dialer TLS options', async (t) => {
    const fixture = makeTlsFixture();
    if (typeof fixture === 'string') return t.skip(fixture);
    const echo = await startConduitEcho(['--tls-cert', fixture.certFile, '--tls-key', fixture.keyFile]);
    const theRoute = route();
    const dialer = new UpstreamDialer({
      tls: { ca: fixture.cert, checkServerIdentity: (_host, cert) => checkServerIdentity('localhost', cert) },
    });
    const gateway = await startGateway([echo.url], { route: theRoute, dialer });
    try {
      assert.match(echo.url, /^wss:/);
      const client = await openThrough(gateway.url);
      client.send('over TLS upstream');
      assert.equal((await nextMessage(client)).data.toString(), 'over TLS upstream');
      client.terminate();
    } finally {
      await gateway.close();
      await echo.kill();
    }
  });
});
