/**
 * The origin allow list against a real server: exact origins, wildcard subdomains (not the apex, not
 * lookalikes), normalization of case and default ports, `*`, and a missing Origin.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { originAllowList } from '../../../src/server/middleware/origin.js';
import type { WebSocketServer } from '../../../src/server/server.js';
import { closeServer } from '../helpers.js';
import { handshake, serverWith } from './handshake.js';

describe('originAllowList on a real server', () => {
  let server: WebSocketServer;
  let port: number;

  before(async () => {
    const hook = originAllowList([
      'https://app.example.com',
      'https://*.example.org',
      'http://localhost:3000',
    ]);
    ({ server, port } = await serverWith(hook));
  });
  after(() => closeServer(server));

  const statusFor = async (origin: string | undefined): Promise<number> =>
    (await handshake(port, { headers: origin === undefined ? {} : { Origin: origin } })).status;

  test('an exact origin is accepted, also with other case or an explicit default port', async () => {
    assert.equal(await statusFor('https://app.example.com'), 101);
    assert.equal(await statusFor('HTTPS://APP.Example.COM'), 101);
    assert.equal(await statusFor('https://app.example.com:443'), 101);
    assert.equal(await statusFor('http://localhost:3000'), 101);
  });

  test('another scheme, port or host is refused with 403', async () => {
    const refused = await handshake(port, { headers: { Origin: 'http://app.example.com' } });
    assert.equal(refused.status, 403);
    assert.match(refused.body, /Origin not allowed/);
    assert.equal(await statusFor('https://app.example.com:8443'), 403);
    assert.equal(await statusFor('http://localhost:3001'), 403);
    assert.equal(await statusFor('http://localhost'), 403);
    assert.equal(await statusFor('https://other.example.com'), 403);
    assert.equal(await statusFor('https://app.example.com.evil.net'), 403);
  });

  test('a wildcard matches subdomains at any depth, but not the apex or lookalikes', async () => {
    assert.equal(await statusFor('https://a.example.org'), 101);
    assert.equal(await statusFor('https://a.b.example.org'), 101);
    assert.equal(await statusFor('https://example.org'), 403, 'apex');
    assert.equal(await statusFor('https://evil-example.org'), 403, 'lookalike');
    assert.equal(await statusFor('https://evilexample.org'), 403, 'lookalike');
    assert.equal(await statusFor('https://a.example.org.evil.net'), 403, 'suffix trick');
    assert.equal(await statusFor('http://a.example.org'), 403, 'scheme');
  });

  test('malformed and opaque origins are refused', async () => {
    assert.equal(await statusFor('null'), 403);
    assert.equal(await statusFor('app.example.com'), 403);
    assert.equal(await statusFor('https://app.example.com/path'), 403);
    assert.equal(await statusFor('https://user@app.example.com'), 403);
  });

  test('a missing Origin is refused by default', async () => {
    const refused = await handshake(port);
    assert.equal(refused.status, 403);
    assert.match(refused.body, /Origin header required/);
  });
});

describe('originAllowList options', () => {
  test('allowMissing accepts clients that send no Origin, still checking those that do', async () => {
    const { server, port } = await serverWith(
      originAllowList(['https://app.example.com'], { allowMissing: true }),
    );
    try {
      assert.equal((await handshake(port)).status, 101);
      assert.equal((await handshake(port, { headers: { Origin: 'https://evil.example' } })).status, 403);
    } finally {
      await closeServer(server);
    }
  });

  test('* accepts any origin but still refuses a missing one', async () => {
    const { server, port } = await serverWith(originAllowList(['*']));
    try {
      assert.equal((await handshake(port, { headers: { Origin: 'https://anything.test' } })).status, 101);
      assert.equal((await handshake(port, { headers: { Origin: 'null' } })).status, 101);
      assert.equal((await handshake(port)).status, 403);
    } finally {
      await closeServer(server);
    }
  });

  test('invalid patterns throw', () => {
    assert.throws(() => originAllowList(['app.example.com']), TypeError);
    assert.throws(() => originAllowList(['https://app.example.com/path']), TypeError);
    assert.throws(() => originAllowList(['https://*']), TypeError);
  });
});
