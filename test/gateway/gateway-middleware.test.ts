/**
 * Per-route upgrade middleware of an in-process Gateway: JWT (valid, expired, wrong audience, missing,
 * by header and by query), origin allow list, upgrade rate limit (429), concurrent connections per IP
 * (429 until a slot frees), and 404 for requests no route takes; the refusals show in the metrics and
 * the access log names the authenticated user.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { ask, http, namedBackend, startTestGateway, type TestGateway, until } from './gateway-helpers.js';
import { clientClosed, openThrough, type WsBackend } from './helpers.js';

const SECRET = 'a-test-secret-of-at-least-32-characters!';

function token(claims: { aud?: string; expiresIn?: string | number; sub?: string }): Promise<string> {
  const jwt = new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(claims.sub ?? 'alice')
    .setIssuedAt(Math.floor(Date.now() / 1000) - 120);
  if (claims.aud !== undefined) jwt.setAudience(claims.aud);
  jwt.setExpirationTime(claims.expiresIn ?? '1h');
  return jwt.sign(new TextEncoder().encode(SECRET));
}

/** The status an upgrade is refused with (or 101). */
async function statusOf(url: string, headers: Record<string, string> = {}): Promise<number> {
  try {
    const client = await openThrough(url, undefined, { headers });
    client.close();
    return 101;
  } catch (error) {
    const status = (error as { status?: number }).status;
    if (status === undefined) throw error;
    return status;
  }
}

describe('gateway route middleware', () => {
  let backend: WsBackend;
  let gateway: TestGateway;

  before(async () => {
    backend = await namedBackend('B');
    gateway = await startTestGateway(
      [
        'listen: [{ port: 0, host: 127.0.0.1 }]',
        'upstreams:',
        `  app: { backends: [${backend.url}] }`,
        'routes:',
        '  - name: jwt',
        '    path: /jwt',
        '    upstream: app',
        `    middleware: { jwt: { secret: "${SECRET}", audience: chat } }`,
        '  - name: origin',
        '    path: /origin',
        '    upstream: app',
        '    middleware: { origins: [https://app.example.com] }',
        '  - name: rate',
        '    path: /rate',
        '    upstream: app',
        '    middleware: { upgradeRateLimit: { perSecond: 0.1, burst: 2 } }',
        '  - name: perip',
        '    path: /perip',
        '    upstream: app',
        '    middleware: { maxConnectionsPerIp: 2 }',
        'admin: { port: 0 }',
        '',
      ].join('\n'),
    );
  });

  after(async () => {
    await gateway.close();
    await backend.close();
  });

  it('authenticates with a JWT: valid passes, expired, wrong audience or missing get 401', async () => {
    const url = `${gateway.url()}/jwt/room`;
    const valid = await token({ aud: 'chat', sub: 'alice' });
    const client = await openThrough(url, undefined, { headers: { authorization: `Bearer ${valid}` } });
    assert.equal(await ask(client, 'hi'), 'B:hi');
    const upstreamRequest = backend.connections.at(-1)!.request;
    assert.equal(upstreamRequest.headers.authorization, `Bearer ${valid}`, 'the token travels upstream');
    const closed = clientClosed(client);
    client.close(1000);
    await closed;
    await until(() =>
      gateway.log.some((line) => line.msg === 'connection closed' && line.fields.route === 'jwt'),
    );
    const access = gateway.log.find(
      (line) => line.msg === 'connection closed' && line.fields.route === 'jwt',
    )!;
    assert.equal(access.fields.user, 'alice');
    assert.equal(access.fields.clientCloseCode, 1000);

    assert.equal(await statusOf(`${url}?token=${valid}`), 101, 'the query parameter carries a token too');
    assert.equal(
      await statusOf(url, {
        authorization: `Bearer ${await token({ aud: 'chat', expiresIn: Math.floor(Date.now() / 1000) - 60 })}`,
      }),
      401,
    );
    assert.equal(await statusOf(url, { authorization: `Bearer ${await token({ aud: 'billing' })}` }), 401);
    assert.equal(await statusOf(url), 401);
    const metrics = (await http(`${gateway.admin}/metrics`)).text;
    assert.match(metrics, /^conduit_gateway_upgrades_total\{route="jwt",upstream="app",status="401"\} 3$/m);
    assert.match(metrics, /^conduit_gateway_upgrades_total\{route="jwt",upstream="app",status="101"\} 2$/m);
  });

  it('refuses an origin that is not on the list with 403', async () => {
    const url = `${gateway.url()}/origin`;
    assert.equal(await statusOf(url, { origin: 'https://evil.example.net' }), 403);
    assert.equal(await statusOf(url), 403, 'a missing Origin is refused too');
    assert.equal(await statusOf(url, { origin: 'https://app.example.com' }), 101);
  });

  it('limits the upgrade rate per client with 429', async () => {
    const url = `${gateway.url()}/rate`;
    assert.equal(await statusOf(url), 101);
    assert.equal(await statusOf(url), 101);
    assert.equal(await statusOf(url), 429, 'the burst of 2 is spent');
  });

  it('limits concurrent connections per IP, freeing a slot when one closes', async () => {
    const url = `${gateway.url()}/perip`;
    const first = await openThrough(url);
    const second = await openThrough(url);
    assert.equal(await statusOf(url), 429);
    const closed = clientClosed(first);
    first.close(1000);
    await closed;
    await until(async () => (await statusOf(url)) === 101, 5000, 'a free slot');
    assert.equal(await ask(second, 'ok'), 'B:ok');
    second.close();
  });

  it('answers 404 when no route takes the request, for upgrades and plain requests', async () => {
    assert.equal(await statusOf(`${gateway.url()}/nowhere`), 404);
    const plain = await http(`${gateway.url().replace('ws:', 'http:')}/nowhere`);
    assert.equal(plain.status, 404);
    const metrics = (await http(`${gateway.admin}/metrics`)).text;
    assert.match(metrics, /^conduit_gateway_upgrades_total\{route="none",upstream="none",status="404"\} 1$/m);
  });
});
