/**
 * Hub auth and policy: JWT at the upgrade (header, query) and as first message, tenants isolated from each
 * other, origin allow list, ACL hooks, message and upgrade rate limits.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import type { Hub } from '../../src/hub/hub.js';
import { connectClient, refusedUpgrade, startHub, type TestClient } from './helpers.js';

const SECRET = 'a-test-secret-of-at-least-32-bytes-long!';

async function token(
  claims: Record<string, unknown>,
  options: { audience?: string; expiresIn?: string | number } = {},
): Promise<string> {
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt();
  jwt.setAudience(options.audience ?? 'hub');
  jwt.setExpirationTime(options.expiresIn ?? '1h');
  return jwt.sign(new TextEncoder().encode(SECRET));
}

describe('hub authentication and policy', () => {
  let hub: Hub;
  let url: string;
  const clients: TestClient[] = [];
  const track = (client: TestClient): TestClient => {
    clients.push(client);
    return client;
  };

  before(async () => {
    ({ hub, url } = await startHub(
      {
        jwt: { secret: SECRET, audience: 'hub', tenantClaim: 'org' },
        canPublish: (session, topic) => !topic.startsWith('readonly.') || session.user === 'admin',
        messagesPerSecond: 50,
        rateLimitGrace: 3,
        authTimeoutMs: 300,
      },
      { origins: ['https://app.example.com'], upgradeRateLimit: { perSecond: 1, burst: 40 } },
    ));
  });
  after(async () => {
    for (const client of clients) client.ws.terminate();
    await hub.close();
  });

  test('a valid token in the Authorization header or the query identifies the user', async () => {
    const alice = track(
      await connectClient(url, {
        headers: { authorization: `Bearer ${await token({ sub: 'alice', org: 'acme' })}` },
      }),
    );
    assert.equal(alice.received.length, 0);
    const bob = track(await connectClient(`${url}?token=${await token({ sub: 'bob', org: 'acme' })}`));
    await alice.subscribe('team');
    bob.send({ type: 'publish', topic: 'team', data: 'hello', id: 1 });
    await bob.nextOf('ack');
    assert.equal((await alice.nextOf('message', 'team')).data, 'hello');
  });

  test('expired tokens, wrong audiences and bad signatures are refused with 401 before the upgrade', async () => {
    const expired = await token(
      { sub: 'x', org: 'acme' },
      { expiresIn: Math.floor(Date.now() / 1000) - 3600 },
    );
    const wrongAudience = await token({ sub: 'x', org: 'acme' }, { audience: 'other' });
    const forged = `${(await token({ sub: 'x', org: 'acme' })).slice(0, -4)}AAAA`;
    for (const bad of [expired, wrongAudience, forged]) {
      const refused = await refusedUpgrade(url, { headers: { authorization: `Bearer ${bad}` } });
      assert.equal(refused.status, 401);
      assert.match(String(refused.headers['www-authenticate']), /invalid_token/);
    }
  });

  test('first-message auth: a good token gets connected; none, or a bad one, closes with 1008', async () => {
    const { default: WebSocket } = await import('ws');
    const { TestClient } = await import('./helpers.js');
    const open = async (): Promise<TestClient> => {
      const ws = new WebSocket(url, ['conduit.v1']);
      const client = track(new TestClient(ws));
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      return client;
    };
    const good = await open();
    good.send({ type: 'auth', token: await token({ sub: 'carol', org: 'acme' }) });
    const connected = await good.nextOf('connected');
    assert.equal(connected.user, 'carol');

    const bad = await open();
    bad.send({ type: 'auth', token: 'nonsense' });
    assert.equal((await bad.nextOf('error')).code, 'unauthorized');
    assert.equal((await bad.closed).code, 1008);

    const skipper = await open();
    skipper.send({ type: 'subscribe', topic: 'team' });
    assert.equal((await skipper.closed).code, 1008);

    const silent = await open();
    assert.equal((await silent.closed).code, 1008, 'auth timeout');
  });

  test('tenants do not see each other, not even through a > pattern', async () => {
    const acme = track(
      await connectClient(url, {
        headers: { authorization: `Bearer ${await token({ sub: 'a', org: 'acme' })}` },
      }),
    );
    const globex = track(
      await connectClient(url, {
        headers: { authorization: `Bearer ${await token({ sub: 'g', org: 'globex' })}` },
      }),
    );
    await acme.subscribe('news');
    await globex.subscribe('>');
    await globex.subscribe('news');
    globex.send({ type: 'publish', topic: 'news', data: 'globex news', id: 'g1' });
    await globex.nextOf('ack');
    acme.send({ type: 'publish', topic: 'news', data: 'acme news', id: 'a1' });
    await acme.nextOf('ack');
    assert.equal((await acme.nextOf('message', 'news')).data, 'acme news');
    const seen = globex.received.filter((m) => m.type === 'message').map((m) => m.data);
    await globex.next(
      (m) => m.type === 'message' && m.data === 'globex news' && m.pattern === undefined,
      'own news',
    );
    assert.ok(!seen.includes('acme news'));
    assert.equal(globex.received.filter((m) => m.data === 'acme news').length, 0);
  });

  test('the publish ACL refuses with forbidden and the connection stays open', async () => {
    const user = track(
      await connectClient(url, {
        headers: { authorization: `Bearer ${await token({ sub: 'u', org: 'acme' })}` },
      }),
    );
    user.send({ type: 'publish', topic: 'readonly.prices', data: 1, id: 'p' });
    const error = await user.nextOf('error');
    assert.deepEqual([error.code, error.id, error.topic], ['forbidden', 'p', 'readonly.prices']);
    user.send({ type: 'publish', topic: 'writable', data: 1, id: 'q' });
    assert.equal((await user.nextOf('ack')).id, 'q');
  });

  test('an origin outside the allow list is refused with 403', async () => {
    const refused = await refusedUpgrade(url, { origin: 'https://evil.example.net' });
    assert.equal(refused.status, 403);
    const allowed = track(
      await connectClient(url, {
        origin: 'https://app.example.com',
        headers: { authorization: `Bearer ${await token({ sub: 'o', org: 'acme' })}` },
      }),
    );
    assert.ok(allowed.id);
  });

  test('too many messages: rate_limited errors, then close 1008', async () => {
    const flooder = track(
      await connectClient(url, {
        headers: { authorization: `Bearer ${await token({ sub: 'f', org: 'acme' })}` },
      }),
    );
    for (let i = 0; i < 80; i++) flooder.send({ type: 'presence', topic: 'none' });
    const limited = await flooder.next(
      (m) => m.type === 'error' && m.code === 'rate_limited',
      'rate_limited',
    );
    assert.ok(limited);
    assert.equal((await flooder.closed).code, 1008);
  });
});

describe('hub upgrade rate limit', () => {
  test('upgrades beyond the per-IP burst get 429 with Retry-After', async () => {
    const { hub, url } = await startHub({}, { upgradeRateLimit: { perSecond: 0.01, burst: 2 } });
    const opened: TestClient[] = [];
    try {
      opened.push(await connectClient(url), await connectClient(url));
      const refused = await refusedUpgrade(url);
      assert.equal(refused.status, 429);
      assert.ok(Number(refused.headers['retry-after']) >= 1);
    } finally {
      for (const client of opened) client.ws.terminate();
      await hub.close();
    }
  });
});

describe('hub topic permissions from the token', () => {
  test('sub:/pub: entries and bare patterns decide what a session may do', async () => {
    const { hub, url } = await startHub({
      jwt: { secret: SECRET, audience: 'hub', permissionsClaim: 'perms' },
    });
    const opened: TestClient[] = [];
    try {
      const perms = ['sub:news.>', 'pub:chat.lobby', 'game.*'];
      const client = await connectClient(url, {
        headers: { authorization: `Bearer ${await token({ sub: 'p', perms })}` },
      });
      opened.push(client);
      assert.equal((await client.subscribe('news.world')).type, 'subscribed');
      assert.equal((await client.subscribe('news.>')).type, 'subscribed', 'granted verbatim');
      assert.equal((await client.subscribe('game.>')).code, 'forbidden', 'game.* does not cover game.>');
      assert.equal((await client.subscribe('chat.lobby')).code, 'forbidden', 'pub: does not grant subscribe');
      assert.equal((await client.subscribe('game.one')).type, 'subscribed');
      client.send({ type: 'publish', topic: 'news.world', data: 1, id: 'n' });
      assert.equal((await client.nextOf('error')).code, 'forbidden');
      client.send({ type: 'publish', topic: 'chat.lobby', data: 1, id: 'c' });
      assert.equal((await client.nextOf('ack')).id, 'c');
      client.send({ type: 'publish', topic: 'game.one', data: 2, id: 'g' });
      assert.equal((await client.nextOf('ack')).id, 'g');
    } finally {
      for (const client of opened) client.ws.terminate();
      await hub.close();
    }
  });
});
