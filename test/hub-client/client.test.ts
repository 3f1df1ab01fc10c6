/**
 * HubClient against a scripted hub over real sockets: the session, subscribe/publish/ack, presence,
 * patterns, flow control, error routing.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { WebSocket } from '../../src/client/index.js';
import {
  HubClient,
  HubError,
  type HubSocketConstructor,
  type MessageMeta,
  type SubscribedInfo,
} from '../../src/hub-client/index.js';
import { closeClients, connected, deferred, eventually, makeClient, within, withTimeout } from './helpers.js';
import { ScriptedHub } from './scripted-hub.js';

describe('HubClient against a scripted hub', () => {
  let hub: ScriptedHub;

  before(async () => {
    hub = await ScriptedHub.start();
  });
  afterEach(() => closeClients());
  after(() => withTimeout(hub.stop(), 5000, 'hub stop'));

  it('connects, reports its states and the connection id, and offers conduit.v1', async () => {
    const client = makeClient(hub.url);
    const states: string[] = [];
    client.on('state', ({ state }) => states.push(state));
    assert.equal(client.state, 'disconnected');
    const event = await connected(client);
    assert.equal(client.state, 'connected');
    assert.match(event.client, /^c\d+$/);
    assert.equal(client.clientId, event.client);
    assert.equal(event.user, '');
    const connection = [...hub.server.clients].at(-1);
    assert.equal(connection?.protocol, 'conduit.v1');
    client.close();
    assert.deepEqual(states, ['connecting', 'connected', 'closed']);
  });

  it('subscribes, receives publications in order with their positions, and tracks the position', async () => {
    const client = makeClient(hub.url);
    const got: Array<[unknown, MessageMeta]> = [];
    const done = deferred<void>();
    const subscribed = deferred<SubscribedInfo>();
    const sub = client.subscribe('news.basic', {
      onSubscribed: subscribed.resolve,
      onMessage(data, meta) {
        got.push([data, meta]);
        if (got.length === 3) done.resolve();
      },
    });
    assert.equal(sub.state, 'pending');
    await connected(client);
    const info = await withTimeout(subscribed.promise, 5000, 'subscribed');
    assert.equal(sub.state, 'active');
    assert.equal(info.resumed, false);
    assert.deepEqual(sub.position, { offset: info.offset, epoch: info.epoch });
    for (const n of [1, 2, 3]) hub.publish('news.basic', { n });
    await withTimeout(done.promise, 5000, 'three messages');
    assert.deepEqual(
      got.map(([data]) => data),
      [{ n: 1 }, { n: 2 }, { n: 3 }],
    );
    assert.deepEqual(
      got.map(([, meta]) => meta.offset),
      [info.offset + 1, info.offset + 2, info.offset + 3],
    );
    assert.equal(got[0]?.[1].topic, 'news.basic');
    assert.deepEqual(sub.position, { offset: info.offset + 3, epoch: info.epoch });
  });

  it('publishes with ack (resolves with the position) and without (resolves once sent)', async () => {
    const client = makeClient(hub.url);
    await connected(client);
    const before = hub.sent('publish').length;
    assert.equal(await within(client.publish('acks.topic', 'fire-and-forget')), undefined);
    const ack = await within(client.publish('acks.topic', { value: 42 }, { ack: true }));
    const stream = hub.stream('acks.topic');
    assert.deepEqual(ack, { offset: 2, epoch: stream.epoch });
    assert.deepEqual(
      stream.history.map((h) => h.data),
      ['fire-and-forget', { value: 42 }],
    );
    const sent = hub.sent('publish').slice(before);
    assert.equal(sent[0]?.id, undefined);
    assert.equal(typeof sent[1]?.id, 'string');
    assert.equal(client.pendingPublishes.unacked, 0);
  });

  it('gives every acked publish a distinct id, across clients too', async () => {
    const a = makeClient(hub.url);
    const b = makeClient(hub.url);
    await Promise.all([connected(a), connected(b)]);
    const before = hub.sent('publish').length;
    await Promise.all([
      ...[1, 2, 3].map((n) => a.publish('ids.topic', n, { ack: true })),
      ...[1, 2, 3].map((n) => b.publish('ids.topic', n, { ack: true })),
    ]);
    const ids = hub
      .sent('publish')
      .slice(before)
      .map((m) => m.id);
    assert.equal(new Set(ids).size, 6);
    assert.ok(ids.every((id) => typeof id === 'string' && id.length <= 128));
  });

  it('rejects a refused publish with a typed HubError carrying the code', async () => {
    hub.forbidden.add('secret.topic');
    const client = makeClient(hub.url);
    await connected(client);
    await assert.rejects(within(client.publish('secret.topic', 1, { ack: true })), (error: unknown) => {
      assert.ok(error instanceof HubError);
      assert.equal(error.code, 'forbidden');
      assert.equal(error.topic, 'secret.topic');
      assert.equal(typeof error.id, 'string');
      return true;
    });
    assert.equal(client.pendingPublishes.unacked, 0);
  });

  it('reports a refused subscription to onError and closes it', async () => {
    hub.forbidden.add('secret.sub');
    const client = makeClient(hub.url);
    const failed = deferred<HubError>();
    const clientErrors: HubError[] = [];
    client.on('error', (error) => clientErrors.push(error));
    const sub = client.subscribe('secret.sub', { onError: failed.resolve });
    client.connect();
    const error = await withTimeout(failed.promise, 5000, 'onError');
    assert.equal(error.code, 'forbidden');
    assert.equal(sub.state, 'closed');
    assert.deepEqual(clientErrors, []);
    // The topic is free again for a new subscription.
    assert.doesNotThrow(() => client.subscribe('secret.sub').unsubscribe());
  });

  it('answers presence and reports join and leave to subscribers', async () => {
    const watcher = makeClient(hub.url);
    const joined = deferred<{ client: string }>();
    const left = deferred<{ client: string }>();
    const watched = deferred<void>();
    watcher.subscribe('room.presence', {
      onJoin: joined.resolve,
      onLeave: left.resolve,
      onSubscribed: () => watched.resolve(),
    });
    await connected(watcher);
    await withTimeout(watched.promise, 5000, 'watcher subscribed');
    const other = makeClient(hub.url);
    const { client: otherId } = await connected(other);
    const otherSub = other.subscribe('room.presence');
    assert.equal((await withTimeout(joined.promise, 5000, 'join')).client, otherId);
    const present = await within(watcher.presence('room.presence'));
    assert.deepEqual(present.map((p) => p.client).sort(), [watcher.clientId, otherId].sort());
    otherSub.unsubscribe();
    assert.equal((await withTimeout(left.promise, 5000, 'leave')).client, otherId);
  });

  it('waits for a connection before asking for presence, and times out within ackTimeoutMs', async () => {
    const client = makeClient(hub.url, { ackTimeoutMs: 200 });
    const answer = client.presence('room.none');
    client.connect();
    assert.deepEqual(await within(answer), []);
    const never = makeClient('ws://127.0.0.1:1', { ackTimeoutMs: 50 });
    await assert.rejects(within(never.presence('room.none')), { name: 'HubError', code: 'timeout' });
  });

  it('delivers pattern subscriptions with the concrete topic and the pattern', async () => {
    const client = makeClient(hub.url);
    const got: MessageMeta[] = [];
    const done = deferred<void>();
    const ready = deferred<void>();
    const star = client.subscribe('sensors.*', {
      onSubscribed: () => ready.resolve(),
      onMessage: (_data, meta) => {
        got.push(meta);
        if (got.length === 2) done.resolve();
      },
    });
    await connected(client);
    await withTimeout(ready.promise, 5000, 'pattern subscribed');
    hub.publish('sensors.a', 1);
    hub.publish('sensors.a.deep', 'not matched by *');
    hub.publish('sensors.b', 2);
    await withTimeout(done.promise, 5000, 'pattern messages');
    assert.deepEqual(
      got.map((m) => [m.topic, m.pattern]),
      [
        ['sensors.a', 'sensors.*'],
        ['sensors.b', 'sensors.*'],
      ],
    );
    assert.equal(star.position, null);
    const sent = hub.sent('subscribe').find((m) => m.topic === 'sensors.*');
    assert.equal(sent?.since, undefined);
  });

  it('honours credit: stops at the limit and continues after grant()', async () => {
    const client = makeClient(hub.url);
    const got: unknown[] = [];
    const ready = deferred<void>();
    const sub = client.subscribe('flow.topic', {
      credit: 2,
      onSubscribed: () => ready.resolve(),
      onMessage: (data) => got.push(data),
    });
    await connected(client);
    await withTimeout(ready.promise, 5000, 'subscribed');
    for (const n of [1, 2, 3, 4, 5]) hub.publish('flow.topic', n);
    await eventually(() => got.length === 2, 'two messages');
    assert.equal(sub.credit, 0);
    // A round trip proves nothing more is coming: presence is answered after any message in flight.
    await within(client.presence('flow.topic'));
    assert.deepEqual(got, [1, 2]);
    sub.grant(2);
    await eventually(() => got.length === 4, 'four messages');
    await within(client.presence('flow.topic'));
    assert.deepEqual(got, [1, 2, 3, 4]);
    assert.deepEqual(hub.sent('credit').at(-1), { type: 'credit', topic: 'flow.topic', credit: 2 });
    assert.throws(() => client.subscribe('flow.free').grant(1), { code: 'invalid_argument' });
  });

  it('keeps the replies of a dropped subscription away from a new one to the same topic', async () => {
    const client = makeClient(hub.url);
    await connected(client);
    // The first subscribe is followed by a publication: the replies to each subscription differ.
    hub.afterSubscribe = (topic) => {
      hub.afterSubscribe = undefined;
      hub.publish(topic, 'for the first subscription');
    };
    const oldMessages: unknown[] = [];
    const first = client.subscribe('swap.topic', { onMessage: (data) => oldMessages.push(data) });
    // Unsubscribe before `subscribed` came, and subscribe again at once: the hub's answers to the first
    // subscription (subscribed, unsubscribed) come before those of the second.
    first.unsubscribe();
    const infos: SubscribedInfo[] = [];
    const newMessages: unknown[] = [];
    const second = client.subscribe('swap.topic', {
      onSubscribed: (i) => infos.push(i),
      onMessage: (d) => newMessages.push(d),
    });
    await eventually(() => second.state === 'active', 'second subscription active');
    hub.publish('swap.topic', 'hello');
    await eventually(() => newMessages.length === 1, 'message on the second subscription');
    assert.deepEqual(newMessages, ['hello']);
    assert.equal(infos.length, 1);
    // The second subscription started after the first one's publication (offset 1), not before it.
    assert.equal(infos[0]?.offset, 1);
    assert.deepEqual(second.position, { offset: 2, epoch: hub.stream('swap.topic').epoch });
    assert.deepEqual(oldMessages, []);
    assert.equal(first.state, 'closed');
    assert.deepEqual(
      hub.sent('subscribe').filter((m) => m.topic === 'swap.topic').length +
        hub.sent('unsubscribe').filter((m) => m.topic === 'swap.topic').length,
      3,
    );
  });

  it('drops a message whose offset was already processed in the same epoch', async () => {
    const client = makeClient(hub.url);
    const got: number[] = [];
    const ready = deferred<void>();
    client.subscribe('dup.topic', {
      onSubscribed: () => ready.resolve(),
      onMessage: (_d, meta) => got.push(meta.offset),
    });
    await connected(client);
    await withTimeout(ready.promise, 5000, 'subscribed');
    const connection = [...hub.peers].find(([, peer]) => peer.id === client.clientId)![0];
    const { epoch } = hub.stream('dup.topic');
    const send = (offset: number, e = epoch): void => {
      connection.send(JSON.stringify({ type: 'message', topic: 'dup.topic', data: null, offset, epoch: e }));
    };
    send(1);
    send(2);
    send(2);
    send(1);
    send(3);
    send(1, 'another-epoch');
    send(1, 'another-epoch');
    await eventually(() => got.length >= 4, 'messages');
    await within(client.presence('dup.topic'));
    assert.deepEqual(got, [1, 2, 3, 1]);
  });

  it('reports invalid hub messages as bad_message errors and goes on', async () => {
    const client = makeClient(hub.url);
    await connected(client);
    const connection = [...hub.peers].find(([, peer]) => peer.id === client.clientId)![0];
    const errors: HubError[] = [];
    client.on('error', (error) => errors.push(error));
    connection.send('not json');
    connection.send('{"type":"message","topic":"x"}');
    connection.send('{"type":"from-the-future"}');
    connection.send(new Uint8Array([1, 2]));
    connection.send('{"type":"error","code":"rate_limited","message":"slow down"}');
    await eventually(() => errors.length === 4, 'four errors');
    assert.deepEqual(
      errors.map((e) => e.code),
      ['bad_message', 'bad_message', 'bad_message', 'rate_limited'],
    );
    assert.equal(client.state, 'connected');
  });

  it('validates topics and data at the call site', async () => {
    const client = makeClient(hub.url);
    assert.throws(() => client.subscribe('bad topic'), { name: 'HubError', code: 'invalid_topic' });
    assert.throws(() => client.subscribe('a.>.b'), { code: 'invalid_topic' });
    assert.throws(() => client.subscribe('x'.repeat(257)), { code: 'invalid_topic' });
    assert.throws(() => client.subscribe('since.bad', { since: { offset: -1, epoch: 'e' } }), {
      code: 'invalid_argument',
    });
    assert.throws(() => client.subscribe('credit.bad', { credit: 1.5 }), { code: 'invalid_argument' });
    client.subscribe('ok.>');
    assert.throws(() => client.subscribe('ok.>'), { code: 'already_subscribed' });
    await assert.rejects(within(client.publish('chat.*', 1)), { code: 'invalid_topic' });
    await assert.rejects(within(client.publish('chat', undefined)), { code: 'invalid_argument' });
    await assert.rejects(within(client.publish('chat', 1n)), { code: 'invalid_argument' });
    await assert.rejects(within(client.presence('a b')), { code: 'invalid_topic' });
  });

  it('takes the WHATWG WebSocket type (browsers) and the one of conduit/client', () => {
    // Compile-time checks: both constructors fit the HubSocketConstructor the client takes.
    const fits: [HubSocketConstructor, HubSocketConstructor | undefined] = [
      WebSocket,
      (globalThis as { WebSocket?: typeof globalThis.WebSocket }).WebSocket,
    ];
    assert.equal(fits[0], WebSocket);
  });

  it('needs a WebSocket constructor where there is no global one', () => {
    const global = (globalThis as { WebSocket?: unknown }).WebSocket;
    if (global === undefined) assert.throws(() => new HubClient('ws://127.0.0.1:1'), TypeError);
    assert.throws(() => new HubClient('ftp://127.0.0.1:1', { WebSocket }), SyntaxError);
    assert.equal(new HubClient('http://127.0.0.1:1/hub', { WebSocket }).url, 'ws://127.0.0.1:1/hub');
    assert.throws(
      () => new HubClient('ws://127.0.0.1:1', { WebSocket, reconnect: { factor: 0.5 } }),
      RangeError,
    );
  });
});
