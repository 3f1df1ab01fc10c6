/** Presence: who is subscribed to a topic, with join and leave events, on the memory engine. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Hub } from '../../src/hub/hub.js';
import { connectClient, startHub, type TestClient } from './helpers.js';

describe('hub presence', () => {
  let hub: Hub;
  let url: string;
  const clients: TestClient[] = [];
  const open = async (): Promise<TestClient> => {
    const client = await connectClient(url);
    clients.push(client);
    return client;
  };

  before(async () => {
    ({ hub, url } = await startHub({ topics: [{ match: 'room.*', presence: true }] }));
  });
  after(async () => {
    for (const client of clients) client.ws.terminate();
    await hub.close();
  });

  test('join and leave reach the other subscribers; presence lists who is there', async () => {
    const alice = await open();
    const bob = await open();
    await alice.subscribe('room.a');
    await bob.subscribe('room.a');
    const join = await alice.nextOf('join', 'room.a');
    assert.equal(join.client, bob.id);
    bob.send({ type: 'presence', topic: 'room.a' });
    const presence = await bob.nextOf('presence', 'room.a');
    const present = (presence.clients as { client: string }[]).map((entry) => entry.client).sort();
    assert.deepEqual(present, [alice.id, bob.id].sort());
    bob.send({ type: 'unsubscribe', topic: 'room.a' });
    const leave = await alice.nextOf('leave', 'room.a');
    assert.equal(leave.client, bob.id);
    assert.deepEqual(
      (await hub.presence('room.a')).map((entry) => entry.client),
      [alice.id],
    );
  });

  test('a closed connection leaves every topic it was in', async () => {
    const watcher = await open();
    const leaver = await open();
    await watcher.subscribe('room.b');
    await leaver.subscribe('room.b');
    await watcher.nextOf('join', 'room.b');
    leaver.ws.terminate();
    const leave = await watcher.nextOf('leave', 'room.b');
    assert.equal(leave.client, leaver.id);
  });

  test('presence is refused on topics without it', async () => {
    const client = await open();
    client.send({ type: 'presence', topic: 'plain', id: 7 });
    const error = await client.nextOf('error');
    assert.equal(error.code, 'forbidden');
    assert.equal(error.id, 7);
  });
});
