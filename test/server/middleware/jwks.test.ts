/**
 * JWT verification against a JWK Set served by a local node:http server: ES256 keys, caching, key
 * rotation (an unknown kid triggers a refetch), the refetch cooldown, and an unreachable JWKS (503).
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { createJwtVerifier } from '../../../src/server/middleware/jwt.js';
import { jwtAuth } from '../../../src/server/middleware/jwt-auth.js';
import { closeServer, withTimeout } from '../helpers.js';
import { handshake, serverWith } from './handshake.js';

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

async function signingKey(kid: string): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
}

function sign(key: SigningKey, sub = 'alice'): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: key.kid })
    .setSubject(sub)
    .setAudience('conduit')
    .setExpirationTime('5m')
    .sign(key.privateKey);
}

/** A JWKS endpoint whose key set the test can replace, counting fetches. */
class JwksServer {
  keys: JWK[] = [];
  fetches = 0;
  status = 200;
  private readonly http: Server;

  constructor() {
    this.http = createServer((_req, res) => {
      this.fetches++;
      res.writeHead(this.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: this.keys }));
    });
  }

  async listen(): Promise<string> {
    await withTimeout(
      new Promise<void>((resolve) => this.http.listen(0, '127.0.0.1', resolve)),
      5000,
      'jwks listen',
    );
    return `http://127.0.0.1:${(this.http.address() as AddressInfo).port}/.well-known/jwks.json`;
  }

  close(): Promise<void> {
    this.http.closeAllConnections();
    return withTimeout(new Promise<void>((resolve) => this.http.close(() => resolve())), 5000, 'jwks close');
  }
}

describe('JWKS verification', () => {
  const jwks = new JwksServer();
  let url: string;
  let first: SigningKey;
  let second: SigningKey;

  before(async () => {
    url = await jwks.listen();
    first = await signingKey('key-1');
    second = await signingKey('key-2');
  });
  after(() => jwks.close());

  test('tokens are verified with the fetched keys, which are cached', async () => {
    jwks.keys = [first.jwk];
    jwks.fetches = 0;
    const verifier = createJwtVerifier({ jwksUrl: url, audience: 'conduit' });
    assert.equal((await verifier.verify(await sign(first))).user, 'alice');
    assert.equal((await verifier.verify(await sign(first, 'bob'))).user, 'bob');
    assert.equal(jwks.fetches, 1);
  });

  test('key rotation: a token with an unknown kid triggers a refetch and passes', async () => {
    jwks.keys = [first.jwk];
    jwks.fetches = 0;
    const verifier = createJwtVerifier({ jwksUrl: url, audience: 'conduit', jwksCooldownMs: 0 });
    const { server, port } = await serverWith(jwtAuth(verifier));
    try {
      assert.equal((await handshake(port, { path: `/?token=${await sign(first)}` })).status, 101);
      assert.equal(jwks.fetches, 1);
      jwks.keys = [first.jwk, second.jwk];
      assert.equal((await handshake(port, { path: `/?token=${await sign(second)}` })).status, 101);
      assert.equal(jwks.fetches, 2, 'refetched for the new kid');
      jwks.keys = [second.jwk];
      assert.equal((await handshake(port, { path: `/?token=${await sign(second)}` })).status, 101);
      assert.equal(jwks.fetches, 2, 'known kid: served from the cache');
    } finally {
      await closeServer(server);
    }
  });

  test('within the cooldown an unknown kid is refused without a refetch', async () => {
    jwks.keys = [first.jwk];
    jwks.fetches = 0;
    const verifier = createJwtVerifier({ jwksUrl: url, audience: 'conduit', jwksCooldownMs: 60_000 });
    const { server, port } = await serverWith(jwtAuth(verifier));
    try {
      assert.equal((await handshake(port, { path: `/?token=${await sign(first)}` })).status, 101);
      jwks.keys = [first.jwk, second.jwk];
      const answer = await handshake(port, { path: `/?token=${await sign(second)}` });
      assert.equal(answer.status, 401);
      assert.match(String(answer.headers['www-authenticate']), /error="invalid_token"/);
      assert.equal(jwks.fetches, 1);
    } finally {
      await closeServer(server);
    }
  });

  test('a token signed by a key outside the set is refused', async () => {
    jwks.keys = [first.jwk];
    const stranger = await signingKey('key-1'); // same kid, different key
    const verifier = createJwtVerifier({ jwksUrl: url, audience: 'conduit' });
    await assert.rejects(verifier.verify(await sign(stranger)), { code: 'signature' });
  });

  test('an unreachable or failing JWKS answers 503, not 401', async () => {
    jwks.keys = [first.jwk];
    jwks.status = 500;
    try {
      const verifier = createJwtVerifier({ jwksUrl: url, audience: 'conduit' });
      await assert.rejects(verifier.verify(await sign(first)), { code: 'unavailable' });
      const { server, port } = await serverWith(jwtAuth(verifier));
      try {
        assert.equal((await handshake(port, { path: `/?token=${await sign(first)}` })).status, 503);
      } finally {
        await closeServer(server);
      }
    } finally {
      jwks.status = 200;
    }
    const down = new JwksServer();
    const downUrl = await down.listen();
    await down.close();
    const verifier = createJwtVerifier({ jwksUrl: downUrl, audience: 'conduit', jwksTimeoutMs: 2000 });
    await assert.rejects(verifier.verify(await sign(first)), { code: 'unavailable' });
  });
});
