/**
 * Balancers: round-robin, least-connections, smooth weighted round-robin and consistent hashing (key
 * extraction, spread, stability when backends come and go, determinism across a rebuild), and the
 * reuse of backend state when upstreams are rebuilt for a reload.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Backend } from '../../src/gateway/backend.js';
import type { BalanceRequest, Balancer } from '../../src/gateway/balance/balancer.js';
import { ConsistentHashBalancer } from '../../src/gateway/balance/consistent-hash.js';
import { createBalancer } from '../../src/gateway/balance/create.js';
import { cookieValue, hashInput, queryValue } from '../../src/gateway/balance/hash-key.js';
import { LeastConnectionsBalancer } from '../../src/gateway/balance/least-connections.js';
import { RoundRobinBalancer } from '../../src/gateway/balance/round-robin.js';
import { WeightedBalancer } from '../../src/gateway/balance/weighted.js';
import type { HashKey, PassiveHealthConfig, UpstreamConfig } from '../../src/gateway/config/types.js';
import { buildUpstreams, Upstream } from '../../src/gateway/upstream.js';

const PASSIVE: PassiveHealthConfig = { consecutiveFailures: 3, ejectionMs: 30_000 };

function backend(name: string, weight = 1): Backend {
  return new Backend({ url: new URL(`ws://${name}.internal:9000/`), weight }, PASSIVE);
}

function backends(count: number, prefix = 'b'): Backend[] {
  return Array.from({ length: count }, (_, i) => backend(`${prefix}${i}`));
}

function req(fields: Partial<BalanceRequest> = {}): BalanceRequest {
  return { url: '/', headers: {}, remoteAddress: '127.0.0.1', ...fields };
}

/** Host names of `n` picks. */
function picks(balancer: Balancer, n: number, request = req(), exclude?: ReadonlySet<Backend>): string[] {
  return Array.from(
    { length: n },
    () => balancer.pick(request, exclude)?.url.hostname.split('.')[0] ?? 'null',
  );
}

function down(b: Backend): void {
  b.setHealthy(false);
}

describe('round-robin', () => {
  test('takes backends in turn', () => {
    assert.deepEqual(picks(new RoundRobinBalancer(backends(3)), 7), [
      'b0',
      'b1',
      'b2',
      'b0',
      'b1',
      'b2',
      'b0',
    ]);
  });

  test('skips unavailable and excluded backends; null when none is left', () => {
    const list = backends(3);
    const balancer = new RoundRobinBalancer(list);
    down(list[1]!);
    assert.deepEqual(picks(balancer, 4), ['b0', 'b2', 'b0', 'b2']);
    assert.deepEqual(picks(balancer, 2, req(), new Set([list[0]!])), ['b2', 'b2']);
    assert.equal(balancer.pick(req(), new Set([list[0]!, list[2]!])), null);
    list[1]!.setHealthy(true);
    assert.ok(picks(balancer, 3).includes('b1'));
  });
});

describe('least-connections', () => {
  test('picks the backend with the fewest active connections', () => {
    const list = backends(3);
    const balancer = new LeastConnectionsBalancer(list);
    list[0]!.acquire();
    list[0]!.acquire();
    list[1]!.acquire();
    assert.equal(balancer.pick(req()), list[2]);
    list[2]!.acquire();
    list[2]!.acquire();
    assert.equal(balancer.pick(req()), list[1]);
  });

  test('spreads new connections over idle backends, and counts what the caller acquires', () => {
    const list = backends(3);
    const balancer = new LeastConnectionsBalancer(list);
    for (let i = 0; i < 9; i++) balancer.pick(req())!.acquire();
    assert.deepEqual(
      list.map((b) => b.activeConnections),
      [3, 3, 3],
    );
  });

  test('divides by weight; release is idempotent; skips excluded backends', () => {
    const heavy = backend('heavy', 3);
    const light = backend('light', 1);
    const balancer = new LeastConnectionsBalancer([heavy, light]);
    const releases = Array.from({ length: 8 }, () => balancer.pick(req())!.acquire());
    assert.equal(heavy.activeConnections, 6);
    assert.equal(light.activeConnections, 2);
    for (const release of releases) {
      release();
      release();
    }
    assert.equal(heavy.activeConnections + light.activeConnections, 0);
    assert.equal(balancer.pick(req(), new Set([heavy])), light);
    down(light);
    assert.equal(balancer.pick(req(), new Set([heavy])), null);
  });

  test('is the default policy', () => {
    assert.ok(createBalancer({ kind: 'least-connections' }, backends(1)) instanceof LeastConnectionsBalancer);
  });
});

describe('weighted (smooth weighted round-robin)', () => {
  test('weights 5, 1, 1 interleave as a a b a c a a', () => {
    const balancer = new WeightedBalancer([backend('a', 5), backend('b', 1), backend('c', 1)]);
    assert.deepEqual(picks(balancer, 14), [...'aabacaa', ...'aabacaa']);
  });

  test('shares follow weights exactly over whole cycles', () => {
    const balancer = new WeightedBalancer([backend('x', 3), backend('y', 2), backend('z', 1)]);
    const counts = new Map<string, number>();
    for (const name of picks(balancer, 600)) counts.set(name, (counts.get(name) ?? 0) + 1);
    assert.deepEqual(Object.fromEntries(counts), { x: 300, y: 200, z: 100 });
  });

  test('unavailable backends are skipped and the rest keep their ratio', () => {
    const list = [backend('x', 2), backend('y', 1), backend('z', 5)];
    const balancer = new WeightedBalancer(list);
    down(list[2]!);
    const names = picks(balancer, 30);
    assert.equal(names.filter((n) => n === 'x').length, 20);
    assert.equal(names.filter((n) => n === 'y').length, 10);
    assert.equal(balancer.pick(req(), new Set([list[0]!, list[1]!])), null);
  });
});

describe('hash keys', () => {
  test('header, cookie and query values; the client address when absent', () => {
    const request = req({
      url: '/chat?room=42&x=1',
      headers: { 'x-user': 'alice', cookie: 'a=1; sid="s-9"; b=2' },
      remoteAddress: '::ffff:10.1.2.3',
    });
    const key = (k: HashKey) => hashInput(k, request);
    assert.equal(key({ kind: 'header', name: 'x-user' }), 'header:alice');
    assert.equal(key({ kind: 'cookie', name: 'sid' }), 'cookie:s-9');
    assert.equal(key({ kind: 'query', name: 'room' }), 'query:42');
    assert.equal(key({ kind: 'ip' }), 'ip:10.1.2.3');
    assert.equal(key({ kind: 'header', name: 'x-tenant' }), 'ip:10.1.2.3');
    assert.equal(key({ kind: 'cookie', name: 'nope' }), 'ip:10.1.2.3');
    assert.equal(cookieValue('a=1;b=2', 'b'), '2');
    assert.equal(cookieValue(undefined, 'b'), undefined);
    assert.equal(queryValue('/x?a=%20b#frag', 'a'), ' b');
    assert.equal(queryValue('/x', 'a'), undefined);
  });
});

describe('consistent hashing', () => {
  const KEY: HashKey = { kind: 'header', name: 'x-user' };
  const users = Array.from({ length: 4000 }, (_, i) => `user-${i}`);

  function assignment(balancer: Balancer): Map<string, string> {
    const placed = new Map<string, string>();
    for (const user of users) placed.set(user, balancer.pick(req({ headers: { 'x-user': user } }))!.key);
    return placed;
  }

  test('the same key always reaches the same backend', () => {
    const balancer = new ConsistentHashBalancer(backends(4), KEY);
    const first = picks(balancer, 1, req({ headers: { 'x-user': 'alice' } }))[0];
    assert.deepEqual(picks(balancer, 20, req({ headers: { 'x-user': 'alice' } })), Array(20).fill(first));
  });

  test('keys spread evenly over equal backends and by weight over unequal ones', () => {
    const even = [...assignment(new ConsistentHashBalancer(backends(4), KEY)).values()];
    for (const b of backends(4)) {
      const share = even.filter((key) => key === b.key).length / users.length;
      assert.ok(share > 0.17 && share < 0.33, `share of ${b.key}: ${share}`);
    }
    const heavy = backend('heavy', 3);
    const placed = [...assignment(new ConsistentHashBalancer([heavy, backend('light', 1)], KEY)).values()];
    const heavyShare = placed.filter((key) => key === heavy.key).length / users.length;
    assert.ok(heavyShare > 0.65 && heavyShare < 0.85, `heavy share ${heavyShare}`);
  });

  test('adding a backend moves about 1/n of the keys, all of them to the new backend', () => {
    const four = backends(4);
    const before = assignment(new ConsistentHashBalancer(four, KEY));
    const added = backend('b4');
    const after = assignment(new ConsistentHashBalancer([...four, added], KEY));
    const moved = users.filter((user) => before.get(user) !== after.get(user));
    for (const user of moved) assert.equal(after.get(user), added.key);
    const fraction = moved.length / users.length;
    assert.ok(fraction > 0.12 && fraction < 0.28, `moved ${fraction}`);
  });

  test('removing a backend moves only its own keys', () => {
    const five = backends(5);
    const before = assignment(new ConsistentHashBalancer(five, KEY));
    const after = assignment(new ConsistentHashBalancer(five.slice(1), KEY));
    for (const user of users) {
      if (before.get(user) !== five[0]!.key) assert.equal(after.get(user), before.get(user));
      else assert.notEqual(after.get(user), five[0]!.key);
    }
  });

  test('an unavailable backend hands its keys to others, and gets them back on recovery', () => {
    const list = backends(4);
    const balancer = new ConsistentHashBalancer(list, KEY);
    const before = assignment(balancer);
    down(list[2]!);
    const during = assignment(balancer);
    for (const user of users) {
      if (before.get(user) === list[2]!.key) assert.notEqual(during.get(user), list[2]!.key);
      else assert.equal(during.get(user), before.get(user));
    }
    list[2]!.setHealthy(true);
    assert.deepEqual(assignment(balancer), before);
    const alice = req({ headers: { 'x-user': 'alice' } });
    const home = balancer.pick(alice)!;
    assert.notEqual(balancer.pick(alice, new Set([home])), home);
    for (const b of list) down(b);
    assert.equal(balancer.pick(alice), null);
  });

  test('a rebuilt ring (a reload) places every key the same, whatever the backend order', () => {
    const first = assignment(new ConsistentHashBalancer(backends(5), KEY));
    const rebuilt = assignment(new ConsistentHashBalancer(backends(5).reverse(), KEY));
    assert.deepEqual(rebuilt, first);
  });
});

describe('upstream rebuild (reload)', () => {
  function config(
    urls: string[],
    balance: UpstreamConfig['balance'] = { kind: 'least-connections' },
  ): UpstreamConfig {
    return {
      name: 'echo',
      balance,
      backends: urls.map((url) => ({ url: new URL(url), weight: 1 })),
      healthCheck: null,
      passiveHealth: PASSIVE,
      connectTimeoutMs: 5000,
      maxAttempts: 3,
    };
  }

  test('backends with the same URL keep their object, counts and health; new ones start fresh', () => {
    const old = new Upstream(config(['ws://a:1', 'ws://b:2']));
    const release = old.backends[0]!.acquire();
    old.backends[1]!.setHealthy(false);
    const next = new Upstream(config(['ws://b:2', 'ws://c:3']), old);
    assert.equal(next.backends[0], old.backends[1]);
    assert.equal(next.backend('ws://b:2/'), old.backends[1]);
    assert.equal(next.backends[0]!.config.url.href, 'ws://b:2/');
    assert.equal(next.backend('ws://a:1/'), undefined);
    assert.equal(next.backends[0]!.state, 'unhealthy');
    assert.ok(!old.backends.includes(next.backends[1]!));
    assert.deepEqual(
      old.removedIn(next).map((b) => b.key),
      ['ws://a:1/'],
    );
    // A connection opened before the reload releases its own backend's counter.
    release();
    assert.equal(old.backends[0]!.activeConnections, 0);
    assert.equal(next.pick(req())!.key, 'ws://c:3/');
  });

  test('buildUpstreams reuses by upstream name; sticky keys stay put across the reload', () => {
    const hash: UpstreamConfig['balance'] = { kind: 'hash', key: { kind: 'cookie', name: 'sid' } };
    const urls = ['ws://a:1', 'ws://b:2', 'ws://c:3'];
    const first = buildUpstreams(new Map([['echo', config(urls, hash)]]));
    const second = buildUpstreams(new Map([['echo', config([...urls].reverse(), hash)]]), first);
    assert.equal(second.get('echo')!.backends[2], first.get('echo')!.backends[0]);
    for (let i = 0; i < 200; i++) {
      const request = req({ headers: { cookie: `sid=session-${i}` } });
      assert.equal(second.get('echo')!.pick(request), first.get('echo')!.pick(request));
    }
  });
});
