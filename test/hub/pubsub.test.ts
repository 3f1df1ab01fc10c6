/**
 * Hub basics over real sockets: connect, subscribe, publish (client and server), acks, idempotent
 * retries, exclusion and user targeting, patterns, and every malformed request answered with `error`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Hub } from '../../src/hub/hub.js';
import { connectClient, refusedUpgrade, startHub, type TestClient } from './helpers.js';

describe('hub publish/subscribe', () => {
  let hub: Hub;
  let url: string;
  const clients: TestClient[] = [];
  const open = async (): Promise<TestClient> => {
    const client = await connectClient(url);
    clients.push(client);
    return client;
  };

  before(async () => {
    ({ hub, url } = await startHub());
  });
  after(async () => {
    for (const client of clients) client.ws.terminate();
    await hub.close();
  });

  test('connected names the client; a subscriber receives client and server publications in order', async () => {
    const alice = await open();
    const bob = await open();
    const subscribed = await bob.subscribe('chat.lobby');
    assert.equal(subscribed.type, 'subscribed');
    assert.equal(subscribed.recovered, false);
    const start = subscribed.offset as number;
    alice.send({ type: 'publish', topic: 'chat.lobby', data: { text: 'hi' }, id: 'a1' });
    await alice.nextOf('ack');
    await hub.publish('chat.lobby', ['from', 'server']);
    const first = await bob.nextOf('message', 'chat.lobby');
    const second = await bob.nextOf('message', 'chat.lobby');
    assert.deepEqual(first.data, { text: 'hi' });
    assert.deepEqual(second.data, ['from', 'server']);
    assert.equal(first.offset, start + 1);
    assert.equal(second.offset, start + 2);
    assert.equal(first.epoch, subscribed.epoch);
  });

  test('a publish with id is acked with its position; a retry with the same id is not delivered twice', async () => {
    const publisher = await open();
    const subscriber = await open();
    await subscriber.subscribe('orders');
    publisher.send({ type: 'publish', topic: 'orders', data: 1, id: 'order-1' });
    const ack = await publisher.nextOf('ack');
    assert.equal(ack.id, 'order-1');
    publisher.send({ type: 'publish', topic: 'orders', data: 1, id: 'order-1' });
    const again = await publisher.nextOf('ack');
    assert.equal(again.offset, ack.offset);
    publisher.send({ type: 'publish', topic: 'orders', data: 2, id: 'order-2' });
    await publisher.nextOf('ack');
    const one = await subscriber.nextOf('message', 'orders');
    const two = await subscriber.nextOf('message', 'orders');
    assert.deepEqual([one.data, two.data], [1, 2]);
  });

  test('echo:false skips the publisher; server publishes can target users or exclude a client', async () => {
    const me = await open();
    const other = await open();
    await me.subscribe('echo.test');
    await other.subscribe('echo.test');
    me.send({ type: 'publish', topic: 'echo.test', data: 'no echo', echo: false, id: 1 });
    await me.nextOf('ack');
    assert.equal((await other.nextOf('message', 'echo.test')).data, 'no echo');
    const connected = await hub.publish('echo.test', 'not for other', { exclude: other.id });
    assert.ok(connected.offset > 0);
    await hub.publish('echo.test', 'marker');
    assert.equal((await me.nextOf('message', 'echo.test')).data, 'not for other');
    assert.equal((await me.nextOf('message', 'echo.test')).data, 'marker');
    assert.equal((await other.nextOf('message', 'echo.test')).data, 'marker');
    await hub.publish('echo.test', 'only bob', { users: ['bob'] });
    await hub.publish('echo.test', 'marker 2');
    assert.equal((await me.nextOf('message', 'echo.test')).data, 'marker 2', 'anonymous users are not bob');
  });

  test('patterns: * one segment, > the rest; messages name the pattern', async () => {
    const client = await open();
    await client.subscribe('sensors.*.temp');
    await client.subscribe('alerts.>');
    await hub.publish('sensors.a.temp', 21);
    await hub.publish('sensors.a.b.temp', 'no');
    await hub.publish('alerts.x.y', 'yes');
    const temp = await client.nextOf('message', 'sensors.a.temp');
    assert.equal(temp.pattern, 'sensors.*.temp');
    const alert = await client.nextOf('message', 'alerts.x.y');
    assert.equal(alert.pattern, 'alerts.>');
    assert.equal(client.received.filter((m) => m.topic === 'sensors.a.b.temp').length, 0);
  });

  test('unsubscribe stops delivery', async () => {
    const client = await open();
    await client.subscribe('news');
    client.send({ type: 'unsubscribe', topic: 'news' });
    await client.nextOf('unsubscribed', 'news');
    await hub.publish('news', 'late');
    client.send({ type: 'presence', topic: 'nothing' });
    await client.nextOf('error');
    assert.equal(client.received.filter((m) => m.type === 'message').length, 0);
  });

  test('malformed requests get error messages with the right code, and the connection stays usable', async () => {
    const client = await open();
    const cases: [string | Buffer, string][] = [
      ['not json', 'bad_request'],
      ['[1,2]', 'bad_request'],
      ['{"type":42}', 'bad_request'],
      ['{"type":"dance"}', 'unknown_type'],
      ['{"type":"subscribe"}', 'bad_request'],
      ['{"type":"subscribe","topic":""}', 'invalid_topic'],
      ['{"type":"subscribe","topic":"a..b"}', 'invalid_topic'],
      ['{"type":"subscribe","topic":"tenant~x"}', 'invalid_topic'],
      ['{"type":"publish","topic":"a.*","data":1}', 'invalid_topic'],
      ['{"type":"publish","topic":"a"}', 'bad_request'],
      ['{"type":"unsubscribe","topic":"never"}', 'not_subscribed'],
      ['{"type":"subscribe","topic":"x","since":{"offset":-1,"epoch":"e"}}', 'bad_request'],
      ['{"type":"credit","topic":"x","credit":1}', 'not_subscribed'],
      [Buffer.from([1, 2, 3]), 'bad_request'],
    ];
    for (const [message, code] of cases) {
      client.ws.send(message);
      const error = await client.nextOf('error');
      assert.equal(error.code, code, `${String(message)} → ${code}, got ${String(error.message)}`);
    }
    await client.subscribe('twice');
    const twice = await client.subscribe('twice');
    assert.equal(twice.code, 'already_subscribed');
    client.send({ type: 'publish', topic: 'twice', data: 'still here' });
    assert.equal((await client.nextOf('message', 'twice')).data, 'still here');
  });

  test('a client offering other subprotocols only is refused with 400; none is accepted', async () => {
    const refused = await refusedUpgrade(url, { protocols: ['mqtt'] });
    assert.equal(refused.status, 400);
    const plain = await connectClient(url, { protocols: [] });
    clients.push(plain);
    assert.equal(plain.ws.protocol, '');
  });
});
