/**
 * History and resume: a subscriber with `since` receives exactly what it missed, in order, then live
 * messages — no gap, no duplicate — even while publications keep coming during its subscribe; and is
 * told `recovered: false` when history cannot cover its position.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Hub } from '../../src/hub/hub.js';
import { connectClient, startHub, type TestClient } from './helpers.js';

describe('hub history and resume', () => {
  let hub: Hub;
  let url: string;
  const clients: TestClient[] = [];
  const open = async (): Promise<TestClient> => {
    const client = await connectClient(url);
    clients.push(client);
    return client;
  };

  before(async () => {
    ({ hub, url } = await startHub({
      topics: [
        { match: 'short.>', history: { size: 3, ttlMs: 60_000 } },
        { match: 'busy', history: { size: 100_000, ttlMs: 60_000 } },
      ],
    }));
  });
  after(async () => {
    for (const client of clients) client.ws.terminate();
    await hub.close();
  });

  test('since an offset: subscribed (recovered) then exactly the missed messages, then live', async () => {
    const first = await hub.publish('room.1', 'm1');
    for (let i = 2; i <= 5; i++) await hub.publish('room.1', `m${i}`);
    const client = await open();
    const subscribed = await client.subscribe('room.1', {
      since: { offset: first.offset + 1, epoch: first.epoch },
    });
    assert.equal(subscribed.recovered, true);
    assert.equal(subscribed.offset, first.offset + 1);
    await hub.publish('room.1', 'm6');
    const data: unknown[] = [];
    for (let i = 0; i < 4; i++) data.push((await client.nextOf('message', 'room.1')).data);
    assert.deepEqual(data, ['m3', 'm4', 'm5', 'm6']);
  });

  test('another epoch, or a position history no longer covers, answers recovered:false and only live messages', async () => {
    const last = await hub.publish('short.a', 1);
    for (let i = 2; i <= 6; i++) await hub.publish('short.a', i);
    const stale = await open();
    const lost = await stale.subscribe('short.a', { since: { offset: last.offset, epoch: last.epoch } });
    assert.equal(lost.recovered, false, 'history keeps 3: offsets after the first were trimmed');
    assert.equal(lost.offset, last.offset + 5);
    const other = await open();
    const wrongEpoch = await other.subscribe('short.a', {
      since: { offset: last.offset + 4, epoch: 'another' },
    });
    assert.equal(wrongEpoch.recovered, false);
    await hub.publish('short.a', 'live');
    assert.equal((await stale.nextOf('message', 'short.a')).data, 'live');
    assert.equal((await other.nextOf('message', 'short.a')).data, 'live');
  });

  test('publications during the subscribe are neither lost nor duplicated', async () => {
    const start = await hub.publish('busy', 0);
    const client = await open();
    let publishing = true;
    let sent = 0;
    const publisher = (async () => {
      while (publishing) {
        sent++;
        await hub.publish('busy', sent);
        // The memory engine answers in a microtask: yield so that the subscribe can proceed meanwhile.
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const subscribed = await client.subscribe('busy', {
      since: { offset: start.offset, epoch: start.epoch },
    });
    assert.equal(subscribed.recovered, true);
    await new Promise((resolve) => setTimeout(resolve, 20));
    publishing = false;
    await publisher;
    const offsets: number[] = [];
    while (offsets.length < sent) offsets.push((await client.nextOf('message', 'busy')).offset as number);
    const expected = Array.from({ length: sent }, (_, i) => start.offset + 1 + i);
    assert.deepEqual(offsets, expected);
  });

  test('a client that reconnects with its last position resumes exactly', async () => {
    const first = await open();
    const subscribed = await first.subscribe('feed');
    await hub.publish('feed', 'a');
    const a = await first.nextOf('message', 'feed');
    first.ws.terminate();
    await hub.publish('feed', 'b');
    await hub.publish('feed', 'c');
    const again = await open();
    const resumed = await again.subscribe('feed', { since: { offset: a.offset, epoch: subscribed.epoch } });
    assert.equal(resumed.recovered, true);
    assert.equal((await again.nextOf('message', 'feed')).data, 'b');
    assert.equal((await again.nextOf('message', 'feed')).data, 'c');
  });
});
