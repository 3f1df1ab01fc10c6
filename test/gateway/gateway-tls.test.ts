/**
 * TLS on both sides of an in-process Gateway: a wss listener choosing its certificate by SNI (an
 * exact name, a wildcard name, the default), certificates renewed by a reload, and a backend behind
 * wss:// verified against the CA given in `upstreamTls`. Certificates are made with the `openssl`
 * command (Debian package `openssl`); without it the tests fail under CI=true and skip loudly elsewhere.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import type WebSocket from 'ws';
import { WebSocketServer as WsServer } from 'ws';
import { ask, startTestGateway, tempDir } from './gateway-helpers.js';
import { openThrough, waitFor, withTimeout } from './helpers.js';

interface Cert {
  cert: string;
  key: string;
  pem: Buffer;
}

/** A self-signed P-256 certificate for `cn` with `san`. */
function makeCert(dir: string, name: string, cn: string, san: string): Cert {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
    ].concat(['-subj', `/CN=${cn}`, '-addext', `subjectAltName=${san}`, '-keyout', key, '-out', cert]),
    { stdio: 'ignore' },
  );
  return { cert, key, pem: readFileSync(cert) };
}

function opensslMissing(): string | null {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return null;
  } catch (error) {
    const reason = `openssl is needed for the gateway TLS tests (install the Debian package "openssl"): ${(error as Error).message}`;
    if (process.env.CI === 'true') throw new Error(reason);
    console.warn(`SKIPPING: ${reason}`);
    return reason;
  }
}

/** The CN of the certificate a listener presents for `servername`. */
async function presented(port: number, servername: string): Promise<string> {
  const socket = tlsConnect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false });
  try {
    await waitFor(socket, 'secureConnect');
    return String(socket.getPeerCertificate().subject.CN);
  } finally {
    socket.destroy();
  }
}

describe('gateway TLS', () => {
  const skip = opensslMissing();
  const dir = tempDir();
  let certs: Record<'fallback' | 'a' | 'b' | 'renewed' | 'backend', Cert>;

  before(() => {
    if (skip !== null) return;
    certs = {
      fallback: makeCert(dir, 'fallback', 'fallback.test', 'DNS:fallback.test'),
      a: makeCert(dir, 'a', 'a.test', 'DNS:a.test'),
      b: makeCert(dir, 'b', 'star.b.test', 'DNS:*.b.test'),
      renewed: makeCert(dir, 'renewed', 'a-renewed.test', 'DNS:a.test'),
      backend: makeCert(dir, 'backend', 'backend.test', 'IP:127.0.0.1,DNS:localhost'),
    };
  });

  it('serves wss with a certificate per SNI name and renews them on reload', async (t) => {
    if (skip !== null) return t.skip(skip);
    const echoBackend = await startEcho();
    const yaml = (aCert: Cert): string =>
      [
        'listen:',
        '  - port: 0',
        '    host: 127.0.0.1',
        '    tls:',
        `      cert: ${certs.fallback.cert}`,
        `      key: ${certs.fallback.key}`,
        '      sni:',
        `        - { serverName: a.test, cert: ${aCert.cert}, key: ${aCert.key} }`,
        `        - { serverName: "*.b.test", cert: ${certs.b.cert}, key: ${certs.b.key} }`,
        'upstreams:',
        `  echo: { backends: [${echoBackend.url}] }`,
        'routes: [{ upstream: echo }]',
        'admin: { port: 0 }',
        '',
      ].join('\n');
    const gateway = await startTestGateway(yaml(certs.a));
    try {
      const port = gateway.gateway.listenerInfo[0]!.port;
      assert.match(gateway.url(), /^wss:/);
      assert.equal(await presented(port, 'a.test'), 'a.test');
      assert.equal(await presented(port, 'x.b.test'), 'star.b.test');
      assert.equal(await presented(port, 'unknown.test'), 'fallback.test');

      // ws passes `servername` on to tls.connect (its types do not list it).
      const sni = { servername: 'a.test', ca: [certs.a.pem] } as WebSocket.ClientOptions;
      const client = await openThrough(gateway.url(), undefined, sni);
      assert.equal(await ask(client, 'over wss'), 'E:over wss');
      const plain = await fetch(`${gateway.admin}/status`).then(
        (r) => r.json() as Promise<{ listeners: { url: string }[] }>,
      );
      assert.match(plain.listeners[0]!.url, /^wss:\/\/127\.0\.0\.1:\d+$/);

      // A reload with a renewed certificate: the port stays, new handshakes get the new certificate.
      gateway.rewrite(yaml(certs.renewed));
      const reload = await fetch(`${gateway.admin}/reload`, { method: 'POST' });
      assert.equal(reload.status, 200);
      assert.equal(gateway.gateway.listenerInfo[0]!.port, port);
      assert.equal(await presented(port, 'a.test'), 'a-renewed.test');
      assert.equal(await ask(client, 'still'), 'E:still', 'the established connection is unaffected');
      client.close();
    } finally {
      await gateway.close();
      await echoBackend.close();
    }
  });

  it('proxies to a backend behind wss, verified against the configured CA', async (t) => {
    if (skip !== null) return t.skip(skip);
    const backend = await startWssBackend(certs.backend);
    const yaml = [
      'listen: [{ port: 0, host: 127.0.0.1 }]',
      'upstreams:',
      `  secure: { backends: [wss://127.0.0.1:${backend.port}/base], maxAttempts: 1 }`,
      'routes: [{ path: /tunnel, upstream: secure, mode: tunnel }, { upstream: secure }]',
      '',
    ].join('\n');
    const trusting = await startTestGateway(yaml, {}, { upstreamTls: { ca: [certs.backend.pem] } });
    const untrusting = await startTestGateway(yaml);
    try {
      const client = await openThrough(`${trusting.url()}/chat?x=1`);
      assert.equal(await ask(client, 'secret'), 'W:secret');
      assert.equal(backend.paths.at(-1), '/base/chat?x=1', 'the backend path prefixes the client path');
      assert.equal(backend.forwardedProto.at(-1), 'http');
      client.close();
      // A tunnel to a TLS backend is spliced in JavaScript (the native relay takes plain TCP only).
      const tunnelled = await openThrough(`${trusting.url()}/tunnel`);
      assert.equal(await ask(tunnelled, 'through'), 'W:through');
      assert.equal(await ask(tunnelled, 'x'.repeat(300_000)), `W:${'x'.repeat(300_000)}`);
      tunnelled.close();
      await assert.rejects(
        openThrough(untrusting.url()),
        (error: { status?: number }) => error.status === 502,
      );
    } finally {
      await trusting.close();
      await untrusting.close();
      await backend.close();
    }
  });
});

/** A plain ws echo backend answering `E:<message>`. */
async function startEcho(): Promise<{ url: string; close(): Promise<void> }> {
  const server = new WsServer({ host: '127.0.0.1', port: 0 });
  await waitFor(server, 'listening');
  server.on('connection', (socket: WebSocket) => {
    socket.on('message', (data) => socket.send(`E:${data.toString()}`));
  });
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      withTimeout(
        new Promise<void>((resolve) => {
          for (const client of server.clients) client.terminate();
          server.close(() => resolve());
        }),
        5000,
        'echo close',
      ),
  };
}

/** A wss backend (ws on an https server) answering `W:<message>` and recording request paths. */
async function startWssBackend(cert: Cert): Promise<{
  port: number;
  paths: string[];
  forwardedProto: string[];
  close(): Promise<void>;
}> {
  const https: HttpsServer = createHttpsServer({ cert: cert.pem, key: readFileSync(cert.key) });
  const server = new WsServer({ server: https });
  const paths: string[] = [];
  const forwardedProto: string[] = [];
  server.on('connection', (socket: WebSocket, request) => {
    paths.push(request.url ?? '');
    forwardedProto.push(String(request.headers['x-forwarded-proto']));
    socket.on('message', (data) => socket.send(`W:${data.toString()}`));
  });
  await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
  return {
    port: (https.address() as AddressInfo).port,
    paths,
    forwardedProto,
    close: () =>
      withTimeout(
        new Promise<void>((resolve) => {
          for (const client of server.clients) client.terminate();
          server.close();
          https.close(() => resolve());
          https.closeAllConnections();
        }),
        5000,
        'wss backend close',
      ),
  };
}
