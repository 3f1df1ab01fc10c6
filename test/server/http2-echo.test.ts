/**
 * `conduit echo --http2`: one port serves HTTP/1.1 upgrades and HTTP/2 extended CONNECT (RFC 8441), in
 * cleartext (h2c with prior knowledge) and with `--tls-cert/--tls-key` (h2 by ALPN).
 */
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { WebSocketOptions } from '../../src/client/options.js';
import { closeOf, Messages, openWebSocket } from '../client/helpers.js';
import { waitFor, withTimeout } from './helpers.js';
import { makeTlsFixture } from './tls-fixture.js';

// dist/test/server/http2-echo.test.js → bin/conduit.js at the repository root.
const BIN = fileURLToPath(new URL('../../../bin/conduit.js', import.meta.url));
const fixture = makeTlsFixture();

/** Starts `conduit echo`; resolves with the child and the URL it prints. */
async function startEcho(args: string[]): Promise<{ child: ChildProcessWithoutNullStreams; url: string }> {
  const child = spawn(process.execPath, [BIN, 'echo', '--port', '0', ...args], { stdio: 'pipe' });
  const url = await withTimeout(
    new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /^listening on (wss?:\/\/\S+)$/m.exec(out);
        if (match) resolve(match[1]!);
      });
      child.on('exit', (code) => reject(new Error(`conduit echo exited with ${code}: ${out}`)));
    }),
    10_000,
    'listening line',
  ).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
  return { child, url };
}

async function stopEcho(child: ChildProcessWithoutNullStreams): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = waitFor(child, 'exit', 10_000);
  child.kill('SIGTERM');
  await exited.catch(() => child.kill('SIGKILL'));
}

/** Echoes one text and one binary message over a socket opened with `options`, then closes. */
async function roundTrip(url: string, options: WebSocketOptions): Promise<void> {
  const ws = await openWebSocket(`${url}/any/path`, undefined, { ...options, binaryType: 'nodebuffer' });
  const messages = new Messages(ws);
  ws.send('text over the wire');
  assert.equal(await messages.next(), 'text over the wire');
  ws.send(new Uint8Array([7, 8, 9]));
  assert.deepEqual([...((await messages.next()) as Buffer)], [7, 8, 9]);
  const closed = closeOf(ws);
  ws.close(1000);
  assert.equal((await closed).wasClean, true);
}

describe('conduit echo --http2', () => {
  it('serves HTTP/2 (h2c) and HTTP/1.1 WebSockets on one cleartext port', async () => {
    const { child, url } = await startEcho(['--http2']);
    try {
      assert.match(url, /^ws:\/\/127\.0\.0\.1:\d+$/);
      await roundTrip(url, { http2: true });
      await roundTrip(url, {});
    } finally {
      await stopEcho(child);
    }
  });

  it('serves h2 and HTTP/1.1 over TLS', { skip: typeof fixture === 'string' ? fixture : false }, async () => {
    if (typeof fixture === 'string') return;
    const { child, url } = await startEcho([
      '--http2',
      '--deflate',
      '--tls-cert',
      fixture.certFile,
      '--tls-key',
      fixture.keyFile,
    ]);
    try {
      assert.match(url, /^wss:\/\//);
      const tls = { ca: fixture.cert, servername: 'localhost', perMessageDeflate: true };
      await roundTrip(url, { ...tls, http2: true });
      await roundTrip(url, tls);
    } finally {
      await stopEcho(child);
    }
  });
});
