/**
 * A node cut off from Redis's pub/sub while other nodes keep publishing fans out what it missed once it
 * is back (from the topic's history), in order, without duplicates. The cut is real: Redis kills the
 * node's subscriber connection (`CLIENT KILL TYPE pubsub`).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { RedisEngine } from '../../src/engines/redis-engine.js';
import type { Hub } from '../../src/hub/hub.js';
import { type RedisServer, redisServerMissing, startRedisServer } from '../helpers/redis-server.js';
import { withTimeout } from '../server/helpers.js';
import { connectClient, startHub, type TestClient } from './helpers.js';

const skip = redisServerMissing();

describe('hub catch-up after a pub/sub outage', { skip }, () => {
  let redis: RedisServer;
  let nodeA: Hub;
  let nodeB: Hub;
  let urlA: string;
  let client: TestClient | null = null;

  before(async () => {
    redis = await startRedisServer();
    ({ hub: nodeA, url: urlA } = await startHub({ engine: new RedisEngine({ url: redis.url }) }));
    ({ hub: nodeB } = await startHub({ engine: new RedisEngine({ url: redis.url }) }));
    await Promise.all([nodeA.ready(), nodeB.ready()]);
  });
  after(async () => {
    client?.ws.terminate();
    await Promise.all([nodeA?.close(), nodeB?.close()]);
    await nodeA?.engine.close();
    await nodeB?.engine.close();
    await redis?.stop();
  });

  test('messages published while the subscriber connection was down arrive in order', async () => {
    client = await connectClient(urlA);
    await client.subscribe('ticks');
    await nodeB.publish('ticks', 0);
    assert.equal((await client.nextOf('message', 'ticks')).data, 0);

    const admin = new Redis(redis.url);
    try {
      await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    } finally {
      admin.disconnect();
    }
    await withTimeout(
      (async () => {
        while (nodeA.stats.engineAvailable !== 0) await new Promise((resolve) => setTimeout(resolve, 1));
      })(),
      2000,
      'node A notices the outage',
    );
    for (let i = 1; i <= 20; i++) await nodeB.publish('ticks', i);
    const data: unknown[] = [];
    for (let i = 1; i <= 20; i++) data.push((await client.nextOf('message', 'ticks', 10_000)).data);
    assert.deepEqual(
      data,
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    await nodeB.publish('ticks', 21);
    assert.equal((await client.nextOf('message', 'ticks')).data, 21);
    assert.equal(client.received.filter((m) => m.type === 'message').length, 0, 'no duplicates');
  });
});
