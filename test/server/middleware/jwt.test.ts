/**
 * JWT authentication against a real server: valid, expired, wrong audience, wrong issuer, bad
 * signature, malformed and missing tokens, tokens in the query, optional authentication, and the
 * claims (user, tenant, permissions) handed to the connection.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { generateKeyPair, SignJWT } from 'jose';
import type { WebSocketConnection } from '../../../src/server/connection.js';
import {
  AuthError,
  type AuthInfo,
  createJwtVerifier,
  type JwtVerifierOptions,
} from '../../../src/server/middleware/jwt.js';
import { jwtAuth } from '../../../src/server/middleware/jwt-auth.js';
import type { WebSocketServer } from '../../../src/server/server.js';
import { closeServer, waitFor } from '../helpers.js';
import { handshake, serverWith } from './handshake.js';

const SECRET = 'a-test-secret-of-at-least-32-bytes!!';
const KEY = new TextEncoder().encode(SECRET);
const BASE: JwtVerifierOptions = { secret: SECRET, issuer: 'https://issuer.test', audience: 'conduit' };

interface TokenOptions {
  sub?: string;
  iss?: string;
  aud?: string;
  exp?: number | string;
  nbf?: number | string;
  claims?: Record<string, unknown>;
  key?: Uint8Array;
}

/** An HS256 token; by default valid for BASE for an hour. */
function token(options: TokenOptions = {}): Promise<string> {
  return new SignJWT({ ...options.claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(options.sub ?? 'alice')
    .setIssuer(options.iss ?? 'https://issuer.test')
    .setAudience(options.aud ?? 'conduit')
    .setIssuedAt()
    .setExpirationTime(options.exp ?? '1h')
    .setNotBefore(options.nbf ?? 0)
    .sign(options.key ?? KEY);
}

const bearer = (jwt: string) => ({ headers: { Authorization: `Bearer ${jwt}` } });

function assertInvalidToken(
  answer: { status: number; headers: Record<string, unknown> },
  description: RegExp,
) {
  assert.equal(answer.status, 401);
  const challenge = String(answer.headers['www-authenticate']);
  const match = /^Bearer error="invalid_token", error_description="([^"]+)"$/.exec(challenge);
  assert.ok(match, challenge);
  assert.match(match[1]!, description);
}

describe('jwtAuth (required) on a real server', () => {
  let server: WebSocketServer;
  let port: number;

  before(async () => {
    ({ server, port } = await serverWith(jwtAuth(createJwtVerifier(BASE))));
  });
  after(() => closeServer(server));

  test('a valid token is accepted and its AuthInfo reaches connection.data.auth', async () => {
    const connected = waitFor<[WebSocketConnection]>(server, 'connection');
    const answer = await handshake(port, bearer(await token()));
    assert.equal(answer.status, 101);
    const [connection] = await connected;
    const { auth } = connection.data as { auth: AuthInfo };
    assert.equal(auth.user, 'alice');
    assert.equal(auth.tenant, 'default');
    assert.equal(auth.claims.iss, 'https://issuer.test');
    assert.equal(auth.permissions, undefined);
  });

  test('the scheme name is case-insensitive', async () => {
    const answer = await handshake(port, { headers: { Authorization: `bearer ${await token()}` } });
    assert.equal(answer.status, 101);
  });

  test('an expired token is refused with invalid_token', async () => {
    const expired = await token({ exp: Math.floor(Date.now() / 1000) - 60 });
    assertInvalidToken(await handshake(port, bearer(expired)), /expired/);
  });

  test('a token expired within the clock tolerance still passes', async () => {
    const justExpired = await token({ exp: Math.floor(Date.now() / 1000) - 1 });
    assert.equal((await handshake(port, bearer(justExpired))).status, 101);
  });

  test('a token not valid yet is refused', async () => {
    const future = await token({ nbf: Math.floor(Date.now() / 1000) + 600 });
    assertInvalidToken(await handshake(port, bearer(future)), /not valid yet/);
  });

  test('a wrong audience is refused', async () => {
    assertInvalidToken(await handshake(port, bearer(await token({ aud: 'someone-else' }))), /audience/);
  });

  test('a wrong issuer is refused', async () => {
    assertInvalidToken(await handshake(port, bearer(await token({ iss: 'https://evil.test' }))), /issuer/);
  });

  test('a bad signature is refused', async () => {
    const forged = await token({ key: new TextEncoder().encode('another-secret-of-at-least-32-bytes!') });
    assertInvalidToken(await handshake(port, bearer(forged)), /signature/);
    const valid = await token();
    const tampered = `${valid.slice(0, -4)}${valid.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
    assertInvalidToken(await handshake(port, bearer(tampered)), /signature|malformed/);
  });

  test('an unsigned (alg none) token is refused', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
    const payload = Buffer.from(
      JSON.stringify({ sub: 'mallory', iss: 'https://issuer.test', aud: 'conduit' }),
    ).toString('base64url');
    assertInvalidToken(await handshake(port, bearer(`${header}.${payload}.`)), /invalid|malformed/);
  });

  test('a malformed token is refused', async () => {
    assertInvalidToken(await handshake(port, bearer('not.a.jwt')), /malformed/);
    assertInvalidToken(await handshake(port, { headers: { Authorization: 'Bearer' } }), /malformed/);
  });

  test('a missing token is refused with a bare Bearer challenge', async () => {
    const answer = await handshake(port);
    assert.equal(answer.status, 401);
    assert.equal(answer.headers['www-authenticate'], 'Bearer');
    const basic = await handshake(port, { headers: { Authorization: 'Basic dXNlcjpwYXNz' } });
    assert.equal(basic.status, 401, 'another scheme is not a bearer token');
    assert.equal(basic.headers['www-authenticate'], 'Bearer');
  });

  test('a token in the query parameter is accepted; a bad one refused', async () => {
    assert.equal((await handshake(port, { path: `/chat?room=1&token=${await token()}` })).status, 101);
    assertInvalidToken(await handshake(port, { path: '/chat?token=garbage' }), /malformed/);
  });

  test('the Authorization header wins over the query parameter', async () => {
    const answer = await handshake(port, { path: `/?token=${await token()}`, ...bearer('garbage') });
    assert.equal(answer.status, 401);
  });
});

describe('jwtAuth options', () => {
  test('not required: no token is accepted without auth, a bad token still refused', async () => {
    const { server, port } = await serverWith(jwtAuth(createJwtVerifier(BASE), { required: false }));
    try {
      const connected = waitFor<[WebSocketConnection]>(server, 'connection');
      assert.equal((await handshake(port)).status, 101);
      const [connection] = await connected;
      assert.equal(connection.data, undefined);
      assertInvalidToken(await handshake(port, bearer('garbage')), /malformed/);
    } finally {
      await closeServer(server);
    }
  });

  test('queryParam false ignores the query; realm is part of the challenge', async () => {
    const hook = jwtAuth(createJwtVerifier(BASE), { queryParam: false, realm: 'conduit "hub"' });
    const { server, port } = await serverWith(hook);
    try {
      const answer = await handshake(port, { path: `/?token=${await token()}` });
      assert.equal(answer.status, 401);
      assert.equal(answer.headers['www-authenticate'], 'Bearer realm="conduit hub"');
      const expired = await handshake(port, bearer(await token({ exp: Math.floor(Date.now() / 1000) - 60 })));
      assert.equal(
        expired.headers['www-authenticate'],
        'Bearer realm="conduit hub", error="invalid_token", error_description="The token has expired"',
      );
    } finally {
      await closeServer(server);
    }
  });

  test('earlier data is kept next to auth', async () => {
    const auth = jwtAuth(createJwtVerifier(BASE));
    const { server, port } = await serverWith(async (request) => {
      request.data = { route: 'chat' };
      return auth(request);
    });
    try {
      const connected = waitFor<[WebSocketConnection]>(server, 'connection');
      assert.equal((await handshake(port, bearer(await token()))).status, 101);
      const [connection] = await connected;
      const data = connection.data as { route: string; auth: AuthInfo };
      assert.equal(data.route, 'chat');
      assert.equal(data.auth.user, 'alice');
    } finally {
      await closeServer(server);
    }
  });
});

describe('createJwtVerifier', () => {
  test('user, tenant and permissions claims, nested and namespaced', async () => {
    const verifier = createJwtVerifier({
      ...BASE,
      userClaim: 'uid',
      tenantClaim: 'org.id',
      permissionsClaim: 'https://conduit.test/perms',
    });
    const info = await verifier.verify(
      await token({
        claims: { uid: 42, org: { id: 'acme' }, 'https://conduit.test/perms': ['publish', 'read'] },
      }),
    );
    assert.equal(info.user, '42');
    assert.equal(info.tenant, 'acme');
    assert.deepEqual(info.permissions, ['publish', 'read']);
  });

  test('a scope string becomes permissions; an absent claim grants none', async () => {
    const verifier = createJwtVerifier({ ...BASE, permissionsClaim: 'scope' });
    assert.deepEqual((await verifier.verify(await token({ claims: { scope: 'read  write' } }))).permissions, [
      'read',
      'write',
    ]);
    assert.deepEqual((await verifier.verify(await token())).permissions, []);
  });

  test('missing or unusable configured claims reject with code claims', async () => {
    const withTenant = createJwtVerifier({ ...BASE, tenantClaim: 'tenant' });
    await assert.rejects(withTenant.verify(await token()), (error: unknown) => {
      assert.ok(error instanceof AuthError);
      assert.equal(error.code, 'claims');
      return true;
    });
    const withPerms = createJwtVerifier({ ...BASE, permissionsClaim: 'perms' });
    await assert.rejects(withPerms.verify(await token({ claims: { perms: [1, 2] } })), { code: 'claims' });
    const byEmail = createJwtVerifier({ ...BASE, userClaim: 'email' });
    await assert.rejects(byEmail.verify(await token()), { code: 'claims' });
  });

  test('error codes say why', async () => {
    const verifier = createJwtVerifier(BASE);
    const now = Math.floor(Date.now() / 1000);
    await assert.rejects(verifier.verify(await token({ exp: now - 60 })), { code: 'expired' });
    await assert.rejects(verifier.verify(await token({ aud: 'x' })), { code: 'audience' });
    await assert.rejects(verifier.verify(await token({ iss: 'x' })), { code: 'issuer' });
    await assert.rejects(verifier.verify(await token({ nbf: now + 600 })), { code: 'not_before' });
    await assert.rejects(verifier.verify('x.y.z'), { code: 'malformed' });
  });

  test('public keys: an ES256 key verifies; an HMAC token signed with it is refused', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const verifier = createJwtVerifier({ publicKey, audience: 'conduit' });
    const signed = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256' })
      .setSubject('bob')
      .setAudience('conduit')
      .setExpirationTime('5m')
      .sign(privateKey);
    assert.equal((await verifier.verify(signed)).user, 'bob');
    const hmac = await token({ key: KEY });
    await assert.rejects(verifier.verify(hmac), AuthError);
  });

  test('configuration errors throw at creation', () => {
    assert.throws(() => createJwtVerifier({}), TypeError);
    assert.throws(() => createJwtVerifier({ secret: SECRET, jwksUrl: 'http://127.0.0.1/jwks' }), TypeError);
    assert.throws(() => createJwtVerifier({ secret: 'short' }), RangeError);
  });
});
