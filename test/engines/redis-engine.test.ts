/**
 * The Redis engine against real redis-server processes: the engine conformance suite with three nodes on
 * one server, then what only a networked backend can do wrong: a crash and restart of Redis, an outage,
 * a frozen server, dead nodes' presence, duplicate deliveries through overlapping subscriptions, and
 * sharding over two servers.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { EngineError, type Publication } from '../../src/engines/engine.js';
import { RedisEngine, type RedisEngineOptions } from '../../src/engines/redis-engine.js';
import { HashRing, hash32 } from '../../src/engines/redis-hash-ring.js';
import { type RedisServer, redisServerMissing, startRedisServer } from '../helpers/redis-server.js';
import { engineSuite } from './engine-suite.js';
import { Recorder, range } from './engine-suite-support.js';

const skip = redisServerMissing();

/** Options that make tests quick: fast reconnects and sweeps, short bounds on every wait. */
const FAST: RedisEngineOptions = {
  connectTimeoutMs: 5000,
  commandTimeoutMs: 2000,
  reconnectDelayMs: 50,
  maxReconnectDelayMs: 200,
  presenceSweepIntervalMs: 100,
};

const KEEP = { size: 1000, ttlMs: 600_000 };

function topicName(label: string): string {
  return `test.${randomBytes(4).toString('hex')}.${label}`;
}

/** The suite's recorder, with the availability changes too and Redis-sized waits. */
class NodeRecorder extends Recorder {
  readonly availability: boolean[] = [];

  constructor() {
    super(10_000);
  }

  onAvailability(available: boolean): void {
    this.availability.push(available);
    this.wake();
  }
}

/** Starts `count` engines (nodes) on `options`; returns them with their recorders. */
async function startNodes(count: number, options: RedisEngineOptions) {
  const engines = Array.from({ length: count }, () => new RedisEngine({ ...FAST, ...options }));
  const recorders = engines.map(() => new NodeRecorder());
  await Promise.all(engines.map((engine, i) => engine.start(recorders[i]!)));
  return { engines, recorders, close: () => Promise.all(engines.map((engine) => engine.close())) };
}

/** Rejects if `promise` does not settle within `ms` (a bound on a wait, not a timing assertion). */
function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function isCode(code: string) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof EngineError, `an EngineError, got ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  };
}

describe('RedisEngine on one redis-server', { skip }, () => {
  let server: RedisServer;
  before(async () => {
    server = await startRedisServer();
  });
  after(async () => {
    await server?.stop();
  });

  engineSuite('RedisEngine', async (count) => {
    const engines = Array.from({ length: count }, () => new RedisEngine({ ...FAST, url: server.url }));
    return { engines, cleanup: async () => void (await Promise.all(engines.map((e) => e.close()))) };
  });
});

function offsets(publications: Publication[]): number[] {
  return publications.map((p) => p.offset);
}

/** Publishes on `engine` to a fresh topic `recorder`'s node subscribed, and waits for it to arrive. */
async function barrier(engine: RedisEngine, subscriber: RedisEngine, recorder: NodeRecorder): Promise<void> {
  const topic = topicName('barrier');
  await subscriber.subscribe(topic);
  await engine.publish(topic, '"barrier"');
  await recorder.until(() => recorder.of(topic).length === 1, 'the barrier publication');
  await subscriber.unsubscribe(topic);
}

describe('RedisEngine resilience', { skip }, () => {
  let server: RedisServer;
  before(async () => {
    server = await startRedisServer();
  });
  after(async () => {
    await server?.stop();
  });

  it('keeps a burst of publishes in call order while Redis does not know the scripts yet', async () => {
    // A fresh server has an empty script cache. Publishing with EVALSHA first and EVAL after NOSCRIPT let
    // later calls overtake the fallbacks of earlier ones; each run of this test starts a new server.
    const fresh = await startRedisServer({ appendonly: false });
    const { engines, close } = await startNodes(1, { url: fresh.url });
    const engine = engines[0]!;
    const probe = new Redis(fresh.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      const topic = topicName('burst');
      const calls: Promise<{ offset: number }>[] = [];
      for (let i = 1; i <= 40; i++) {
        calls.push(engine.publish(topic, String(i), { history: KEEP }));
        // Spread the burst over several turns of the event loop, as publishes read from sockets are.
        if (i % 4 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      const results = await bounded(Promise.all(calls), 10_000, 'the burst');
      assert.deepEqual(
        results.map((r) => r.offset),
        range(1, 40),
      );
      const history = await engine.history(topic);
      assert.deepEqual(
        history.publications.map((p) => p.data),
        range(1, 40).map(String),
        'stored (and published) in call order',
      );
      await probe.connect();
      const stats = String(await probe.info('commandstats'));
      const evalsha = /cmdstat_evalsha:calls=(\d+).*rejected_calls=(\d+),failed_calls=(\d+)/.exec(stats);
      assert.ok(evalsha, stats);
      assert.equal(Number(evalsha[2]) + Number(evalsha[3]), 0, 'no EVALSHA met NOSCRIPT');
    } finally {
      probe.disconnect();
      await close();
      await fresh.stop();
    }
  });

  it('start() rejects with ERR_ENGINE_UNAVAILABLE when Redis is unreachable', async () => {
    const probe = await startRedisServer({ appendonly: false });
    const url = probe.url;
    await probe.stop();
    const engine = new RedisEngine({ ...FAST, url, connectTimeoutMs: 500 });
    await assert.rejects(
      bounded(engine.start(new NodeRecorder()), 10_000, 'start'),
      isCode('ERR_ENGINE_UNAVAILABLE'),
    );
    await assert.rejects(engine.publish('a', '1'), isCode('ERR_ENGINE_CLOSED'));
  });

  it('a crash and restart of Redis loses no acknowledged publish and keeps the epoch', async () => {
    const { engines, recorders, close } = await startNodes(2, { url: server.url });
    const [a, b] = engines as [RedisEngine, RedisEngine];
    const [ra, rb] = recorders as [NodeRecorder, NodeRecorder];
    try {
      const topic = topicName('durable');
      await b.subscribe(topic);
      const { epoch } = await a.position(topic);
      // Publish one after another until the crash makes a publish fail; every resolved one was acknowledged.
      const acked: { offset: number; data: string }[] = [];
      let crashed = false;
      const publishing = (async () => {
        for (let i = 1; ; i++) {
          const data = `"m${i}"`;
          try {
            const result = await a.publish(topic, data, { history: KEEP });
            assert.equal(result.epoch, epoch);
            acked.push({ offset: result.offset, data });
          } catch (err) {
            assert.ok(crashed, `a publish failed before the crash: ${String(err)}`);
            return;
          }
          if (acked.length === 200) {
            crashed = true;
            void server.kill9();
          }
        }
      })();
      await bounded(publishing, 20_000, 'publishing until the crash');
      assert.ok(acked.length >= 200);
      await ra.until(() => ra.availability.includes(false), 'node a to notice the crash');
      await server.restart();
      await ra.until(() => ra.availability.at(-1) === true, 'node a available again');
      await rb.until(() => rb.availability.at(-1) === true, 'node b available again');

      const history = await a.history(topic);
      assert.equal(history.position.epoch, epoch, 'the epoch survived the restart');
      const stored = new Map(history.publications.map((p) => [p.offset, p.data]));
      for (const { offset, data } of acked) assert.equal(stored.get(offset), data, `acked offset ${offset}`);
      assert.deepEqual(offsets(history.publications), range(1, history.position.offset), 'no gap');
      const resumed = await a.history(topic, { since: { offset: 100, epoch } });
      assert.equal(resumed.complete, true);
      const next = await a.publish(topic, '"after"', { history: KEEP });
      assert.deepEqual(next, { offset: history.position.offset + 1, epoch, duplicate: false });
      await rb.until(
        () => rb.of(topic).some((p) => p.offset === next.offset),
        'a delivery after the restart',
      );
    } finally {
      await close();
      if (!server.isRunning()) await server.restart();
    }
  });

  it('during an outage calls reject with ERR_ENGINE_UNAVAILABLE, then subscriptions come back', async () => {
    const registry = new Registry();
    const a = new RedisEngine({ ...FAST, url: server.url, registry });
    const b = new RedisEngine({ ...FAST, url: server.url });
    const ra = new NodeRecorder();
    const rb = new NodeRecorder();
    await a.start(ra);
    await b.start(rb);
    try {
      const base = topicName('outage');
      const topic = `${base}.direct`;
      await b.subscribe(topic);
      await b.subscribe(`${base}.pattern.*`);
      await server.kill9();
      await ra.until(() => ra.availability.length === 1, 'node a unavailable');
      await rb.until(() => rb.availability.length === 1, 'node b unavailable');
      const entry = { client: 'c', user: 'u' };
      const calls: [string, () => Promise<unknown>][] = [
        ['publish', () => a.publish(topic, '1')],
        ['history', () => a.history(topic)],
        ['position', () => a.position(topic)],
        ['subscribe', () => a.subscribe(topicName('new'))],
        ['subscribe a pattern', () => a.subscribe(`${base}.new.>`)],
        ['presenceAdd', () => a.presenceAdd(topic, entry, 1000)],
        ['presence', () => a.presence(topic)],
      ];
      for (const [what, call] of calls) {
        await assert.rejects(bounded(call(), 5000, what), isCode('ERR_ENGINE_UNAVAILABLE'), what);
      }
      await a.unsubscribe(topicName('never')); // releasing needs no Redis
      await server.restart();
      await ra.until(() => ra.availability.length === 2, 'node a available again');
      await rb.until(() => rb.availability.length === 2, 'node b available again');
      assert.deepEqual(ra.availability, [false, true], 'one notification each way');
      assert.deepEqual(rb.availability, [false, true]);

      await a.publish(topic, '"direct"');
      await a.publish(`${base}.pattern.x`, '"through the pattern"');
      await rb.until(() => rb.of(topic).length === 1, 'the topic subscription restored');
      await rb.until(() => rb.of(`${base}.pattern.x`).length === 1, 'the pattern subscription restored');

      const metrics = a.metrics.snapshot();
      assert.equal(metrics.available, true);
      assert.equal(metrics.publishes, 2);
      assert.equal(metrics.publishErrors, 1);
      assert.ok(metrics.reconnects >= 2, `reconnects ${metrics.reconnects}`);
      assert.ok(metrics.degradedSeconds > 0);
      const text = await registry.metrics();
      assert.match(text, /conduit_engine_available\{engine="redis"\} 1/);
      assert.match(text, /conduit_engine_publish_errors_total\{engine="redis"\} 1/);
      assert.match(text, /conduit_engine_publishes_total\{engine="redis"\} 2/);
      assert.match(text, /conduit_engine_reconnects_total\{engine="redis"\} [1-9]/);
      assert.match(text, /conduit_engine_degraded_seconds_total\{engine="redis"\} 0?\.?[0-9]/);
    } finally {
      await Promise.all([a.close(), b.close()]);
      if (!server.isRunning()) await server.restart(); // leave a working server to the next tests
    }
  });

  it('a frozen Redis fails calls with ERR_ENGINE_TIMEOUT instead of hanging', async () => {
    const engine = new RedisEngine({ ...FAST, url: server.url, commandTimeoutMs: 300 });
    await engine.start(new NodeRecorder());
    const topic = topicName('frozen');
    try {
      server.pause();
      try {
        await assert.rejects(
          bounded(engine.publish(topic, '1'), 5000, 'publish'),
          isCode('ERR_ENGINE_TIMEOUT'),
        );
      } finally {
        server.resume();
      }
      const after = await bounded(engine.publish(topic, '2'), 5000, 'publish after thawing');
      assert.ok(after.offset >= 1);
    } finally {
      await engine.close();
    }
  });

  it('presence entries of a dead node leave on the other nodes', async () => {
    const { engines, recorders, close } = await startNodes(3, { url: server.url });
    const [dead, b, c] = engines as [RedisEngine, RedisEngine, RedisEngine];
    const [, rb, rc] = recorders as [NodeRecorder, NodeRecorder, NodeRecorder];
    try {
      const topic = topicName('dead-node');
      await b.subscribe(topic);
      await c.subscribe(topic);
      await dead.presenceAdd(topic, { client: 'c-dead', user: 'ghost', info: { n: 1 } }, 400);
      await b.presenceAdd(topic, { client: 'c-live', user: 'alive' }, 60_000);
      for (const recorder of [rb, rc]) {
        await recorder.until(() => recorder.joined(topic).length === 2, 'both joins');
      }
      // The node dies without removing its entry; only the sweepers of the others can tell.
      await dead.close();
      for (const recorder of [rb, rc]) {
        await recorder.until(() => recorder.left(topic).length === 1, 'the leave of the dead entry');
        const leave = recorder.leaves.find((e) => e.topic === topic)!;
        assert.deepEqual(leave.entry, { client: 'c-dead', user: 'ghost', info: { n: 1 } });
      }
      await b.publish(topic, '"after the leave"');
      await rb.until(() => rb.of(topic).length === 1, 'a publication after the leave on b');
      await rc.until(() => rc.of(topic).length === 1, 'a publication after the leave on c');
      assert.deepEqual(rb.left(topic), ['c-dead'], 'announced once, though two nodes sweep');
      assert.deepEqual(rc.left(topic), ['c-dead']);
      assert.deepEqual(await c.presence(topic), [{ client: 'c-live', user: 'alive' }]);
    } finally {
      await close();
    }
  });

  it('delivers a publication once to a node subscribed to its topic and to overlapping patterns', async () => {
    const { engines, recorders, close } = await startNodes(2, { url: server.url });
    const [a, b] = engines as [RedisEngine, RedisEngine];
    const [ra] = recorders as [NodeRecorder];
    try {
      const base = topicName('overlap');
      const room = `${base}.room`;
      await a.subscribe(room);
      await a.subscribe(`${base}.*`);
      await a.subscribe(`${base}.>`);
      for (let i = 1; i <= 20; i++) await b.publish(room, `${i}`);
      await b.publish(`${base}.deep.er`, '"deep"');
      await ra.until(() => ra.of(room).length >= 20, 'twenty publications');
      await barrier(b, a, ra);
      assert.deepEqual(offsets(ra.of(room)), range(1, 20), 'each once, in order');
      assert.deepEqual(
        ra.of(`${base}.deep.er`).map((p) => p.data),
        ['"deep"'],
        'only `>` matches two segments',
      );
      await a.unsubscribe(room);
      await a.unsubscribe(`${base}.>`);
      await b.publish(room, '21');
      await ra.until(() => ra.of(room).length === 21, 'a publication through the remaining pattern');
      await b.publish(`${base}.deep.est`, '"deeper"');
      await barrier(b, a, ra);
      assert.deepEqual(ra.of(`${base}.deep.est`), [], '`*` does not match two segments');
    } finally {
      await close();
    }
  });
});

describe('RedisEngine sharded over two redis-servers', { skip }, () => {
  const servers: RedisServer[] = [];
  before(async () => {
    servers.push(await startRedisServer(), await startRedisServer());
  });
  after(async () => {
    await Promise.all(servers.map((server) => server.stop()));
  });

  it('spreads topics over both, keeps each on one, and delivers across nodes', async () => {
    const urls = servers.map((server) => server.url);
    const { engines, recorders, close } = await startNodes(3, { urls });
    const [a, b, c] = engines as [RedisEngine, RedisEngine, RedisEngine];
    const [, rb, rc] = recorders as [NodeRecorder, NodeRecorder, NodeRecorder];
    const direct = urls.map((url) => new Redis(url, { lazyConnect: true }));
    try {
      const base = topicName('sharded');
      const topics = range(1, 40).map((i) => `${base}.t${i}`);
      for (const topic of topics) await b.subscribe(topic);
      await c.subscribe(`${base}.>`);
      for (const topic of topics) {
        assert.deepEqual(await a.publish(topic, '"from a"', { history: KEEP }), {
          offset: 1,
          epoch: (await c.position(topic)).epoch,
          duplicate: false,
        });
        assert.equal((await c.publish(topic, '"from c"', { history: KEEP })).offset, 2, 'one numbering');
      }
      await Promise.all(direct.map((redis) => redis.connect()));
      const perShard = [0, 0];
      for (const topic of topics) {
        const found = await Promise.all(direct.map((redis) => redis.exists(`conduit:{${topic}}:stream`)));
        assert.equal(found[0]! + found[1]!, 1, `${topic} lives on exactly one instance`);
        const index = found[0] === 1 ? 0 : 1;
        perShard[index]!++;
        for (const engine of engines) assert.equal(engine.shardNameOf(topic), urls[index]);
      }
      assert.ok(perShard[0]! > 0 && perShard[1]! > 0, `topics on both instances: ${perShard}`);
      for (const [recorder, what] of [
        [rb, 'topic subscriptions'],
        [rc, 'a pattern on both instances'],
      ] as const) {
        await recorder.until(() => recorder.publications.length === 80, `80 deliveries through ${what}`);
        for (const topic of topics) {
          assert.deepEqual(
            recorder.of(topic).map((p) => [p.offset, p.data]),
            [
              [1, '"from a"'],
              [2, '"from c"'],
            ],
          );
        }
      }
      const history = await b.history(topics[0]!);
      assert.deepEqual(offsets(history.publications), [1, 2]);
    } finally {
      for (const redis of direct) redis.disconnect();
      await close();
    }
  });
});

describe('HashRing', () => {
  const names = ['redis://10.0.0.1:6379', 'redis://10.0.0.2:6379', 'redis://10.0.0.3:6379'];
  const ring = (list: string[]) => new HashRing(list.map((name) => ({ name, shard: name })));
  const keys = range(1, 9000).map((i) => `room.${i}`);

  it('spreads keys over every shard, whatever order the shards are listed in', () => {
    const three = ring(names);
    const reversed = ring([...names].reverse());
    const counts = new Map<string, number>();
    for (const key of keys) {
      const owner = three.get(key);
      assert.equal(reversed.get(key), owner);
      counts.set(owner, (counts.get(owner) ?? 0) + 1);
    }
    for (const name of names) {
      const count = counts.get(name) ?? 0;
      assert.ok(count > 2000 && count < 4000, `${name} owns ${count} of 9000 keys`);
    }
  });

  it('moves only the keys of a removed shard', () => {
    const three = ring(names);
    const two = ring(names.slice(0, 2));
    for (const key of keys) {
      const owner = three.get(key);
      if (owner !== names[2]) assert.equal(two.get(key), owner, key);
    }
  });

  it('hashes the same on every node and version (the ring is shared state)', () => {
    // Pinned values: a change here would make old and new nodes disagree on where topics live.
    assert.deepEqual(
      ['', 'room.1', 'room.2', 'chat.lobby'].map(hash32),
      [0xab3e7c0b, 0x073203d6, 0x3135bba4, 0xba18bb08],
    );
  });

  it('refuses no shard and duplicate names', () => {
    assert.throws(() => ring([]), RangeError);
    assert.throws(() => ring(['a', 'a']), RangeError);
  });
});
