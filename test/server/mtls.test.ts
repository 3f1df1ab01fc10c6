/**
 * Client certificates (mTLS): a throwaway CA signs the server's certificate and two client certificates
 * (made with the `openssl` command; missing openssl fails under CI=true and skips loudly elsewhere).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import type { ErrorEvent } from '../../src/client/events.js';
import type { WebSocketOptions } from '../../src/client/options.js';
import { WebSocket } from '../../src/client/websocket.js';
import { HandshakeError } from '../../src/protocol/errors.js';
import type { WebSocketConnection } from '../../src/server/connection.js';
import type { UpgradeRequest } from '../../src/server/upgrade-request.js';
import { closeClient, Messages, nextEvent, openWebSocket } from '../client/helpers.js';
import { closeServer, startServer } from './helpers.js';

interface KeyPair {
  cert: Buffer;
  key: Buffer;
}

interface MtlsFixture {
  ca: Buffer;
  server: KeyPair;
  alice: KeyPair;
  mallory: KeyPair;
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A certificate for `cn`, signed by the CA in `dir`. */
function signed(dir: string, cn: string): KeyPair {
  const base = join(dir, cn);
  const run = (args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  run(['req', '-new', ...EC_KEY, '-subj', `/CN=${cn}`, '-keyout', `${base}.key`, '-out', `${base}.csr`]);
  run([
    'x509',
    '-req',
    '-in',
    `${base}.csr`,
    '-CA',
    join(dir, 'ca.pem'),
    '-CAkey',
    join(dir, 'ca.key'),
    '-CAcreateserial',
    '-days',
    '1',
    '-out',
    `${base}.pem`,
  ]);
  return { cert: readFileSync(`${base}.pem`), key: readFileSync(`${base}.key`) };
}

/** Creates the CA and its three certificates, or returns a reason to skip. */
function makeMtlsFixture(): MtlsFixture | string {
  const dir = mkdtempSync(join(tmpdir(), 'conduit-mtls-'));
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', ...EC_KEY, '-days', '1', '-subj', '/CN=Conduit Test CA'].concat([
        '-keyout',
        join(dir, 'ca.key'),
        '-out',
        join(dir, 'ca.pem'),
      ]),
      { stdio: 'ignore' },
    );
    return {
      ca: readFileSync(join(dir, 'ca.pem')),
      server: signed(dir, 'localhost'),
      alice: signed(dir, 'alice'),
      mallory: signed(dir, 'mallory'),
    };
  } catch (error) {
    const reason = `openssl is needed for the mTLS tests (install the Debian package "openssl"): ${(error as Error).message}`;
    if (process.env.CI === 'true') throw new Error(reason);
    console.warn(`SKIPPING: ${reason}`);
    return reason;
  }
}

const fixture = makeMtlsFixture();

/** Echoes every message; counts connections and keeps the `data` each one got from the hook. */
function echo(server: NodeJS.EventEmitter): { count: number; data: unknown[] } {
  const seen = { count: 0, data: [] as unknown[] };
  server.on('connection', (connection: WebSocketConnection) => {
    seen.count++;
    seen.data.push(connection.data);
    connection.on('message', (data: Buffer, isBinary: boolean) =>
      connection.send(data, { binary: isBinary }),
    );
  });
  return seen;
}

/** Connects, sends one text message and checks the echo, then closes cleanly. */
async function assertEchoes(url: string, options: WebSocketOptions): Promise<void> {
  const ws = await openWebSocket(url, undefined, { servername: 'localhost', ...options });
  const messages = new Messages(ws);
  ws.send('hello over mTLS');
  assert.equal(await messages.next(), 'hello over mTLS');
  assert.equal((await closeClient(ws, 1000)).wasClean, true);
}

/** Opens a client that is expected to fail; resolves with its error and close events. */
async function failure(
  url: string,
  options: WebSocketOptions,
): Promise<{ error: unknown; close: CloseEvent }> {
  const ws = new WebSocket(url, [], { servername: 'localhost', ...options });
  let opened = false;
  ws.addEventListener('open', () => {
    opened = true;
  });
  const error = nextEvent<ErrorEvent>(ws, 'error');
  const close = await nextEvent<CloseEvent>(ws, 'close');
  assert.equal(opened, false);
  return { error: (await error).error, close };
}

/** The subject CN of the client's certificate, or undefined when it sent none. */
function peerCommonName(request: UpgradeRequest): string | undefined {
  const certificate = (request.socket as TLSSocket).getPeerCertificate();
  const cn = certificate?.subject?.CN;
  return typeof cn === 'string' ? cn : undefined;
}

describe('mTLS (client certificates)', { skip: typeof fixture === 'string' ? fixture : false }, () => {
  it('TLS verification: admits a client certificate signed by the CA, refuses a client without one', async () => {
    if (typeof fixture === 'string') return;
    const { server, port } = await startServer({
      tls: { ...fixture.server, ca: fixture.ca, requestCert: true, rejectUnauthorized: true },
    });
    const seen = echo(server);
    const url = `wss://127.0.0.1:${port}/`;
    try {
      await assertEchoes(url, { ca: fixture.ca, ...fixture.alice });
      assert.equal(seen.count, 1);

      const { error, close } = await failure(url, { ca: fixture.ca });
      // TLS 1.3 (RFC 8446 §4.4.2.4): the client finishes its side first, so it sees either the server's
      // 'certificate required' alert or, when the socket closes first, a connection closed mid-handshake.
      assert.ok(error instanceof Error);
      assert.match(String(error), /alert|closed the connection/i);
      assert.equal(close.code, 1006);
      assert.equal(close.wasClean, false);
      // A certificate from another CA is refused as well.
      const stranger = makeSelfSigned();
      const refused = await failure(url, { ca: fixture.ca, ...stranger });
      assert.match(String(refused.error), /alert|closed the connection/i);
      assert.equal(refused.close.code, 1006);
      assert.equal(seen.count, 1, 'no connection for the refused clients');
    } finally {
      await closeServer(server);
    }
  });

  it('upgrade hook: refuses a CN that is not allowed with 403 and hands the subject to the app', async () => {
    if (typeof fixture === 'string') return;
    const allowed = new Set(['alice']);
    const { server, port } = await startServer({
      tls: { ...fixture.server, ca: fixture.ca, requestCert: true, rejectUnauthorized: false },
      upgrade: (request) => {
        const socket = request.socket as TLSSocket;
        const cn = peerCommonName(request);
        if (!socket.authorized || cn === undefined || !allowed.has(cn)) {
          return { status: 403, message: 'client certificate not allowed' };
        }
        request.data = { subject: cn };
        return undefined;
      },
    });
    const seen = echo(server);
    const url = `wss://127.0.0.1:${port}/`;
    try {
      await assertEchoes(url, { ca: fixture.ca, ...fixture.alice });
      assert.deepEqual(seen.data, [{ subject: 'alice' }]);

      for (const options of [fixture.mallory, {}, makeSelfSigned()]) {
        const { error, close } = await failure(url, { ca: fixture.ca, ...options });
        assert.ok(error instanceof HandshakeError);
        assert.equal(error.code, 'ERR_HANDSHAKE_STATUS');
        assert.equal(error.status, 403);
        assert.equal(close.code, 1006);
      }
      assert.equal(seen.count, 1, 'no connection for the refused clients');
    } finally {
      await closeServer(server);
    }
  });
});

let selfSigned: KeyPair | undefined;

/** A client certificate that the test CA did not sign (CN=alice, to show that the CN alone is not trusted). */
function makeSelfSigned(): KeyPair {
  if (selfSigned !== undefined) return selfSigned;
  const dir = mkdtempSync(join(tmpdir(), 'conduit-mtls-stranger-'));
  const args = ['req', '-x509', ...EC_KEY, '-days', '1', '-subj', '/CN=alice'];
  execFileSync('openssl', [...args, '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')], {
    stdio: 'ignore',
  });
  selfSigned = { cert: readFileSync(join(dir, 'c.pem')), key: readFileSync(join(dir, 'k.pem')) };
  return selfSigned;
}
