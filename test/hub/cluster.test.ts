/**
 * The hub across processes: three `conduit serve --redis` nodes on one real redis-server. Publications
 * cross nodes in order, presence is cluster-wide (and forgets the clients of a node that died), a client
 * resumes on another node exactly where it left, a dead node leaves the others serving, and a Redis
 * restart (append-only, fsync always) loses no acknowledged message and needs no node restart.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type RedisServer, redisServerMissing, startRedisServer } from '../helpers/redis-server.js';
import { eventually, httpGet, killAll, type ServeProcess, startServe } from './cluster-process.js';
import { connectClient, type Json, type TestClient } from './helpers.js';

/** Presence entries of a node that died expire this fast (seconds). */
const PRESENCE_TTL = '2';

describe('hub cluster: three conduit serve --redis nodes', { skip: redisServerMissing() }, () => {
  let redis: RedisServer;
  let nodes: ServeProcess[] = [];
  const clients: TestClient[] = [];
  const hubOf = (node: ServeProcess): string => node.endpoints.hub!;
  const open = async (node: ServeProcess): Promise<TestClient> => {
    const client = await connectClient(hubOf(node));
    clients.push(client);
    return client;
  };
  /** Publishes with an id on `client` and waits for the ack. */
  const publish = async (client: TestClient, topic: string, data: unknown, id: string): Promise<Json> => {
    client.send({ type: 'publish', topic, data, id });
    return client.next((m) => (m.type === 'ack' || m.type === 'error') && m.id === id, `ack ${id}`);
  };
  /** The data of the next `count` messages of `topic` on `client`. */
  const receive = async (client: TestClient, topic: string, count: number): Promise<unknown[]> => {
    const data: unknown[] = [];
    for (let i = 0; i < count; i++) data.push((await client.nextOf('message', topic)).data);
    return data;
  };

  before(async () => {
    redis = await startRedisServer({ appendfsync: 'always' });
    const args = ['--redis', redis.url, '--presence', '--presence-ttl', PRESENCE_TTL];
    nodes = await Promise.all([0, 1, 2].map(() => startServe([...args, '--log-level', 'warn'])));
  });

  after(async () => {
    for (const client of clients) client.ws.terminate();
    killAll();
    await redis?.stop();
  });

  it('delivers a publication on A to subscribers on B and C, in order', async () => {
    const [a, b, c] = nodes as [ServeProcess, ServeProcess, ServeProcess];
    const onB = await open(b);
    const onC = await open(c);
    assert.equal((await onB.subscribe('orders')).type, 'subscribed');
    assert.equal((await onC.subscribe('orders')).type, 'subscribed');
    const publisher = await open(a);
    const sent = Array.from({ length: 20 }, (_, i) => i + 1);
    for (const n of sent) publisher.send({ type: 'publish', topic: 'orders', data: n });
    assert.deepEqual(await receive(onB, 'orders', sent.length), sent);
    assert.deepEqual(await receive(onC, 'orders', sent.length), sent);
  });

  it('shares presence: a join on B is seen on A, a query on A lists the clients of every node', async () => {
    const [a, b, c] = nodes as [ServeProcess, ServeProcess, ServeProcess];
    const observer = await open(a);
    await observer.subscribe('room.lobby');
    const bob = await open(b);
    await bob.subscribe('room.lobby');
    const join = await observer.next((m) => m.type === 'join' && m.client === bob.id, 'join of bob');
    assert.equal(join.topic, 'room.lobby');
    const carol = await open(c);
    await carol.subscribe('room.lobby');
    await observer.next((m) => m.type === 'join' && m.client === carol.id, 'join of carol');

    observer.send({ type: 'presence', topic: 'room.lobby' });
    const answer = await observer.nextOf('presence', 'room.lobby');
    const present = (answer.clients as { client: string }[]).map((entry) => entry.client).sort();
    assert.deepEqual(present, [observer.id, bob.id, carol.id].sort());
  });

  it('resumes on B, with since, exactly what a client missed after leaving A, then live', async () => {
    const [a, b, c] = nodes as [ServeProcess, ServeProcess, ServeProcess];
    const publisher = await open(c);
    const reader = await open(a);
    await reader.subscribe('feed');
    for (let i = 1; i <= 3; i++) await publish(publisher, 'feed', `m${i}`, `feed-${i}`);
    let last: Json | undefined;
    for (let i = 1; i <= 3; i++) last = await reader.nextOf('message', 'feed');
    assert.equal(last!.data, 'm3');
    reader.close();
    await reader.closed;

    for (let i = 4; i <= 8; i++) await publish(publisher, 'feed', `m${i}`, `feed-${i}`);
    const resumed = await open(b);
    const subscribed = await resumed.subscribe('feed', {
      since: { offset: last!.offset, epoch: last!.epoch },
    });
    assert.equal(subscribed.recovered, true);
    await publish(publisher, 'feed', 'm9', 'feed-9');
    assert.deepEqual(await receive(resumed, 'feed', 6), ['m4', 'm5', 'm6', 'm7', 'm8', 'm9']);
  });

  it('loses no acked message across a Redis restart; answers unavailable meanwhile; recovers on every node', async () => {
    const [a, b, c] = nodes as [ServeProcess, ServeProcess, ServeProcess];
    const watcher = await open(b);
    const start = await watcher.subscribe('durable');
    const publisher = await open(a);
    const acked: Json[] = [];
    for (let i = 1; i <= 10; i++) acked.push(await publish(publisher, 'durable', i, `durable-${i}`));
    assert.ok(acked.every((ack) => ack.type === 'ack'));
    assert.deepEqual(await receive(watcher, 'durable', 10), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

    await redis.kill9();
    for (const node of nodes) {
      await eventually(async () => (await httpGet(node.endpoints.health!)).status === 503, 'healthz 503');
    }
    const refused = await publish(publisher, 'durable', 'lost', 'durable-down');
    assert.equal(refused.type, 'error');
    assert.equal(refused.code, 'unavailable');
    assert.ok(
      nodes.every((node) => node.child.exitCode === null),
      'no node crashed',
    );

    await redis.restart();
    for (const node of nodes) {
      await eventually(async () => (await httpGet(node.endpoints.health!)).status === 200, 'healthz 200');
    }
    const late = await open(c);
    const recovered = await late.subscribe('durable', {
      since: { offset: start.offset, epoch: start.epoch },
    });
    assert.equal(recovered.recovered, true, 'the epoch and the history survived the restart');
    assert.deepEqual(await receive(late, 'durable', 10), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

    // Every node publishes and subscribes again, and the subscription made before the outage still works.
    const subscribers = await Promise.all(nodes.map((node) => open(node)));
    for (const subscriber of subscribers) await subscriber.subscribe('after.restart');
    for (const [i, node] of nodes.entries()) {
      const sender = await open(node);
      assert.equal((await publish(sender, 'after.restart', `from ${i}`, `after-${i}`)).type, 'ack');
    }
    for (const subscriber of subscribers) {
      assert.deepEqual(await receive(subscriber, 'after.restart', 3), ['from 0', 'from 1', 'from 2']);
    }
    await publish(publisher, 'durable', 11, 'durable-11');
    assert.deepEqual(await receive(watcher, 'durable', 1), [11]);
    assert.deepEqual(await receive(late, 'durable', 1), [11]);
  });

  it('kill -9 of a node: its clients leave the presence of the others, which keep serving', async () => {
    const [a, b, c] = nodes as [ServeProcess, ServeProcess, ServeProcess];
    const observer = await open(a);
    await observer.subscribe('room.doomed');
    const doomed = await open(c);
    await doomed.subscribe('room.doomed');
    await observer.next((m) => m.type === 'join' && m.client === doomed.id, 'join of the doomed client');

    c.child.kill('SIGKILL');
    await c.exited;
    // Nobody removes the entry of a dead node: it expires (ttl) and a sweeper on a live node announces it.
    const leave = await observer.next(
      (m) => m.type === 'leave' && m.client === doomed.id,
      'leave of the dead node client',
      10_000,
    );
    assert.equal(leave.topic, 'room.doomed');
    observer.send({ type: 'presence', topic: 'room.doomed' });
    const answer = await observer.nextOf('presence', 'room.doomed');
    assert.deepEqual(
      (answer.clients as { client: string }[]).map((entry) => entry.client),
      [observer.id],
    );

    const onB = await open(b);
    await onB.subscribe('survivors');
    const onA = await open(a);
    assert.equal((await publish(onA, 'survivors', 'still here', 'survivors-1')).type, 'ack');
    assert.deepEqual(await receive(onB, 'survivors', 1), ['still here']);
  });
});
