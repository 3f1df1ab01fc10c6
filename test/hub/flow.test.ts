/**
 * Slow subscribers: the per-connection queue limit with the drop-oldest, drop-newest and disconnect
 * policies (a subscriber whose socket stops reading), and credit-based flow control.
 */
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import type { Hub } from '../../src/hub/hub.js';
import { connectClient, startHub, type TestClient } from './helpers.js';

const PAYLOAD = 'x'.repeat(16 * 1024);

/** Publishes until the hub drops or disconnects (the paused subscriber's kernel buffers are full). */
async function flood(hub: Hub, topic: string, until: () => boolean): Promise<number> {
  let last = 0;
  for (let i = 0; i < 5000 && !until(); i++) {
    last = (await hub.publish(topic, { i, pad: PAYLOAD })).offset;
    if (i % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  return last;
}

function socketOf(client: TestClient): Socket {
  return (client.ws as unknown as { _socket: Socket })._socket;
}

describe('hub slow consumers', () => {
  const hubs: Hub[] = [];
  const clients: TestClient[] = [];
  after(async () => {
    for (const client of clients) client.ws.terminate();
    await Promise.all(hubs.map((hub) => hub.close()));
  });

  async function setup(
    policy: 'drop-oldest' | 'drop-newest' | 'disconnect',
  ): Promise<{ hub: Hub; client: TestClient }> {
    const { hub, url } = await startHub({
      maxQueueBytes: 256 * 1024,
      topics: [{ match: 'flood', slowConsumer: policy, history: { size: 0, ttlMs: 0 } }],
    });
    hubs.push(hub);
    const client = await connectClient(url);
    clients.push(client);
    await client.subscribe('flood');
    socketOf(client).pause();
    return { hub, client };
  }

  test('disconnect: the slow subscriber is closed with 1013', async () => {
    const { hub, client } = await setup('disconnect');
    await flood(hub, 'flood', () => hub.stats.slowDisconnects > 0);
    assert.equal(hub.stats.slowDisconnects, 1);
    socketOf(client).resume();
    const closed = await client.closed;
    assert.equal(closed.code, 1013);
  });

  test('drop-newest: the queue keeps the oldest messages and the newest are dropped', async () => {
    const { hub, client } = await setup('drop-newest');
    const last = await flood(hub, 'flood', () => hub.stats.dropped > 10);
    assert.ok(hub.stats.dropped > 10);
    socketOf(client).resume();
    await hub.publish('flood', 'end');
    await client.next((m) => m.type === 'message' && m.data === 'end', 'end marker', 10_000);
    const offsets = client.received.filter((m) => m.type === 'message').map((m) => m.offset as number);
    assert.ok(!offsets.includes(last), 'the newest flood message was dropped');
    assert.deepEqual(
      offsets,
      [...offsets].sort((a, b) => a - b),
      'in order',
    );
  });

  test('drop-oldest: the newest message arrives and older ones were dropped', async () => {
    const { hub, client } = await setup('drop-oldest');
    const last = await flood(hub, 'flood', () => hub.stats.dropped > 10);
    socketOf(client).resume();
    const newest = await client.next(
      (m) => m.type === 'message' && m.offset === last,
      'newest message',
      10_000,
    );
    assert.equal(newest.offset, last);
    const offsets = client.received.filter((m) => m.type === 'message').map((m) => m.offset as number);
    assert.ok(offsets.length + 1 < last, 'some were dropped');
    assert.deepEqual(
      offsets,
      [...offsets].sort((a, b) => a - b),
      'in order',
    );
  });
});

describe('hub credit flow control', () => {
  test('delivery stops at zero credit and resumes with a grant, in order, without loss', async () => {
    const { hub, url } = await startHub();
    const client = await connectClient(url);
    try {
      const subscribed = await client.subscribe('metered', { credit: 2 });
      assert.equal(subscribed.type, 'subscribed');
      for (let i = 1; i <= 5; i++) await hub.publish('metered', i);
      assert.equal((await client.nextOf('message', 'metered')).data, 1);
      assert.equal((await client.nextOf('message', 'metered')).data, 2);
      await hub.publish('other', 'marker').catch(() => undefined);
      client.send({ type: 'presence', topic: 'x' });
      await client.nextOf('error');
      assert.equal(client.received.filter((m) => m.type === 'message').length, 0, 'no credit, no message');
      client.send({ type: 'credit', topic: 'metered', credit: 10 });
      const rest = [];
      for (let i = 0; i < 3; i++) rest.push((await client.nextOf('message', 'metered')).data);
      assert.deepEqual(rest, [3, 4, 5]);
      await hub.publish('metered', 6);
      assert.equal((await client.nextOf('message', 'metered')).data, 6);
    } finally {
      client.ws.terminate();
      await hub.close();
    }
  });
});
