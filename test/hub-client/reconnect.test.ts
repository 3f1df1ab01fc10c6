/**
 * HubClient across connection losses, against a scripted hub over real sockets: exact resume, the
 * offline queue, ack retries without duplicates, authentication failures, backoff, timeouts, close().
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { HubError, MessageMeta, SubscribedInfo } from '../../src/hub-client/index.js';
import { freePort } from '../interop/helpers.js';
import {
  closeClients,
  connected,
  deferred,
  eventually,
  makeClient,
  nextEvent,
  within,
  withTimeout,
} from './helpers.js';
import { ScriptedHub } from './scripted-hub.js';

/** A subscription that records what it got. */
function recorder() {
  const messages: Array<{ data: unknown; meta: MessageMeta }> = [];
  const subscribed: SubscribedInfo[] = [];
  return {
    messages,
    subscribed,
    data: () => messages.map((m) => m.data),
    offsets: () => messages.map((m) => m.meta.offset),
    handlers: {
      onMessage: (data: unknown, meta: MessageMeta) => messages.push({ data, meta }),
      onSubscribed: (info: SubscribedInfo) => subscribed.push(info),
    },
  };
}

describe('HubClient reconnecting', () => {
  let hub: ScriptedHub;

  before(async () => {
    hub = await ScriptedHub.start({ historySize: 100 });
  });
  afterEach(() => closeClients());
  after(() => withTimeout(hub.stop(), 5000, 'hub stop'));

  it('resumes exactly where it stopped after the connection is cut: no gap, no duplicate', async () => {
    const client = makeClient(hub.url);
    const rec = recorder();
    const sub = client.subscribe('resume.cut', rec.handlers);
    await connected(client);
    await eventually(() => sub.state === 'active', 'subscribed');
    for (const n of [1, 2, 3]) hub.publish('resume.cut', n);
    await eventually(() => rec.messages.length === 3, 'three messages');
    const back = nextEvent(client, 'connected');
    hub.terminateAll();
    // Published while the client is away (it cannot have reconnected within this tick).
    for (const n of [4, 5, 6]) hub.publish('resume.cut', n);
    await back;
    await eventually(() => rec.messages.length === 6, 'recovered messages');
    for (const n of [7, 8]) hub.publish('resume.cut', n);
    await eventually(() => rec.messages.length === 8, 'live messages');
    assert.deepEqual(rec.data(), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(rec.offsets(), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.equal(rec.subscribed.length, 2);
    assert.deepEqual([rec.subscribed[1]?.resumed, rec.subscribed[1]?.recovered], [true, true]);
    const { epoch } = hub.stream('resume.cut');
    assert.deepEqual(
      hub
        .sent('subscribe')
        .filter((m) => m.topic === 'resume.cut')
        .at(-1)?.since,
      { offset: 3, epoch },
    );
    assert.deepEqual(sub.position, { offset: 8, epoch });
  });

  it('resumes across a hub restart on the same port (history kept by the engine)', async () => {
    let current = await ScriptedHub.start();
    try {
      const client = makeClient(current.url);
      const rec = recorder();
      const disconnected = deferred<void>();
      client.on('disconnected', () => disconnected.resolve());
      client.subscribe('resume.restart', rec.handlers);
      await connected(client);
      await eventually(() => rec.subscribed.length === 1, 'subscribed');
      current.publish('resume.restart', 'a');
      await eventually(() => rec.messages.length === 1, 'first message');
      const { port, streams } = current;
      await withTimeout(current.stop(), 5000, 'hub stop');
      await withTimeout(disconnected.promise, 5000, 'disconnected');
      current = await ScriptedHub.start({ port, streams });
      current.publish('resume.restart', 'b');
      await eventually(() => rec.messages.length === 2, 'recovered message');
      current.publish('resume.restart', 'c');
      await eventually(() => rec.messages.length === 3, 'live message');
      assert.deepEqual(rec.data(), ['a', 'b', 'c']);
      assert.deepEqual(
        rec.subscribed.map((s) => [s.resumed, s.recovered]),
        [
          [false, false],
          [true, true],
        ],
      );
    } finally {
      await withTimeout(current.stop(), 5000, 'hub stop');
    }
  });

  it('tells the subscription when recovery failed (recovered: false) and goes on live', async () => {
    const small = await ScriptedHub.start({ historySize: 2 });
    try {
      const client = makeClient(small.url);
      const rec = recorder();
      const sub = client.subscribe('resume.lost', rec.handlers);
      await connected(client);
      await eventually(() => sub.state === 'active', 'subscribed');
      small.publish('resume.lost', 1);
      await eventually(() => rec.messages.length === 1, 'first message');
      const back = nextEvent(client, 'connected');
      small.terminateAll();
      for (const n of [2, 3, 4, 5]) small.publish('resume.lost', n);
      await back;
      await eventually(() => rec.subscribed.length === 2, 'resubscribed');
      assert.deepEqual(rec.subscribed[1], {
        topic: 'resume.lost',
        offset: 5,
        epoch: small.stream('resume.lost').epoch,
        resumed: true,
        recovered: false,
      });
      small.publish('resume.lost', 6);
      await eventually(() => rec.messages.length === 2, 'live message');
      assert.deepEqual(rec.data(), [1, 6]);
      assert.deepEqual(sub.position?.offset, 6);
    } finally {
      await withTimeout(small.stop(), 5000, 'hub stop');
    }
  });

  it('does not resume when recover is off, and resubscribes with the credit left', async () => {
    const client = makeClient(hub.url);
    const rec = recorder();
    const sub = client.subscribe('resume.off', { ...rec.handlers, recover: false, credit: 3 });
    await connected(client);
    await eventually(() => sub.state === 'active', 'subscribed');
    hub.publish('resume.off', 1);
    hub.publish('resume.off', 2);
    await eventually(() => rec.messages.length === 2, 'two messages');
    const back = nextEvent(client, 'connected');
    hub.terminateAll();
    await back;
    await eventually(() => sub.state === 'active', 'resubscribed');
    const frames = hub.sent('subscribe').filter((m) => m.topic === 'resume.off');
    assert.deepEqual(frames.at(-1), { type: 'subscribe', topic: 'resume.off', credit: 1 });
    assert.equal(rec.subscribed[1]?.resumed, false);
  });

  it('keeps publishes made while offline in a bounded queue and flushes them in order', async () => {
    const client = makeClient(hub.url, { offlineQueueLimit: 4 });
    const sent = Promise.all([client.publish('queue.topic', 1), client.publish('queue.topic', 2)]);
    const acked = Promise.all([
      client.publish('queue.topic', 3, { ack: true }),
      client.publish('queue.topic', 4, { ack: true }),
    ]);
    assert.deepEqual(await within(sent), [undefined, undefined]);
    assert.deepEqual(client.pendingPublishes, { queued: 4, unacked: 0 });
    await assert.rejects(
      within(client.publish('queue.topic', 5)),
      (error: HubError) => error.code === 'queue_full',
    );
    await connected(client);
    const positions = await withTimeout(acked, 5000, 'acks');
    assert.deepEqual(
      positions.map((p) => p.offset),
      [3, 4],
    );
    assert.deepEqual(
      hub.stream('queue.topic').history.map((h) => h.data),
      [1, 2, 3, 4],
    );
    assert.deepEqual(client.pendingPublishes, { queued: 0, unacked: 0 });
  });

  it('re-sends unacknowledged publishes with the same id after a reconnect: stored once, resolved once', async () => {
    const client = makeClient(hub.url);
    await connected(client);
    hub.holdAcks = true;
    let settled = 0;
    const acks = [1, 2].map((n) =>
      client.publish('retry.topic', n, { ack: true }).finally(() => {
        settled++;
      }),
    );
    await eventually(() => hub.stream('retry.topic').offset === 2, 'publishes stored');
    assert.equal(client.pendingPublishes.unacked, 2);
    const back = nextEvent(client, 'connected');
    hub.terminateAll();
    hub.holdAcks = false;
    await back;
    const positions = await withTimeout(Promise.all(acks), 5000, 'acks after retry');
    assert.deepEqual(
      positions.map((p) => p.offset),
      [1, 2],
    );
    assert.equal(settled, 2);
    assert.deepEqual(
      hub.stream('retry.topic').history.map((h) => h.data),
      [1, 2],
    );
    const ids = hub
      .sent('publish')
      .filter((m) => m.topic === 'retry.topic')
      .map((m) => m.id);
    assert.equal(ids.length, 4);
    assert.deepEqual(ids.slice(2), ids.slice(0, 2));
  });

  it('retries a publish answered unavailable with the same id until the hub accepts it', async () => {
    const client = makeClient(hub.url, { reconnect: { initialDelayMs: 5 } });
    await connected(client);
    hub.unavailable = 2;
    const ack = await within(client.publish('unavailable.topic', 'x', { ack: true }));
    assert.equal(ack.offset, 1);
    const ids = hub
      .sent('publish')
      .filter((m) => m.topic === 'unavailable.topic')
      .map((m) => m.id);
    assert.equal(ids.length, 3);
    assert.equal(new Set(ids).size, 1);
    assert.deepEqual(
      hub.stream('unavailable.topic').history.map((h) => h.data),
      ['x'],
    );
  });

  it('gives up on unavailable after ackTimeoutMs, and a retry with the error id creates no duplicate', async () => {
    const client = makeClient(hub.url, { ackTimeoutMs: 60, reconnect: { initialDelayMs: 5, maxDelayMs: 5 } });
    await connected(client);
    hub.unavailable = 1_000_000;
    let failure: HubError | undefined;
    try {
      await within(client.publish('giveup.topic', 'y', { ack: true }));
    } catch (error) {
      failure = error as HubError;
    }
    hub.unavailable = 0;
    assert.equal(failure?.code, 'ack_timeout');
    assert.equal((failure?.cause as HubError | undefined)?.code, 'unavailable');
    const id = failure?.id;
    assert.equal(typeof id, 'string');
    const first = await within(client.publish('giveup.topic', 'y', { id }));
    const second = await within(client.publish('giveup.topic', 'y', { id }));
    assert.deepEqual(second, first);
    assert.equal(hub.stream('giveup.topic').history.length, 1);
  });

  it('refuses a second pending publish with the same caller id', async () => {
    const client = makeClient(hub.url);
    const first = client.publish('ids.own', 1, { id: 'order-17' });
    await assert.rejects(within(client.publish('ids.own', 1, { id: 'order-17' })), {
      code: 'invalid_argument',
    });
    await assert.rejects(within(client.publish('ids.own', 1, { id: '' })), { code: 'invalid_argument' });
    await connected(client);
    assert.equal((await within(first)).offset, 1);
    assert.equal(hub.sent('publish').find((m) => m.topic === 'ids.own')?.id, 'order-17');
  });

  it('rejects an unanswered publish with ack_timeout after ackTimeoutMs', async () => {
    const client = makeClient(hub.url, { ackTimeoutMs: 50 });
    await connected(client);
    hub.holdAcks = true;
    try {
      await assert.rejects(within(client.publish('timeout.topic', 1, { ack: true })), {
        code: 'ack_timeout',
      });
      assert.equal(client.pendingPublishes.unacked, 0);
    } finally {
      hub.holdAcks = false;
    }
  });

  it('grows the backoff delay per failed attempt (from the injected random) and gives up after maxRetries', async () => {
    const port = await freePort();
    const client = makeClient(`ws://127.0.0.1:${port}`, {
      random: () => 0.5,
      reconnect: { initialDelayMs: 4, factor: 2, maxDelayMs: 20, jitter: 0.5, maxRetries: 5 },
    });
    const attempts: Array<[number, number]> = [];
    client.on('reconnecting', ({ attempt, delayMs }) => attempts.push([attempt, delayMs]));
    const gaveUp = nextEvent(client, 'error', 5000, (error) => error.code === 'retries_exhausted');
    client.connect();
    await gaveUp;
    // d * (1 - jitter * random) = 0.75 d for d = 4, 8, 16, 20 (capped), 20.
    assert.deepEqual(attempts, [
      [1, 3],
      [2, 6],
      [3, 12],
      [4, 15],
      [5, 15],
    ]);
    assert.equal(client.state, 'closed');
  });

  it('starts the backoff over after a successful connection', async () => {
    const client = makeClient(hub.url, { random: () => 0, reconnect: { initialDelayMs: 7 } });
    const attempts: Array<[number, number]> = [];
    client.on('reconnecting', ({ attempt, delayMs }) => attempts.push([attempt, delayMs]));
    await connected(client);
    for (let i = 0; i < 2; i++) {
      const back = nextEvent(client, 'connected');
      hub.terminateAll();
      await back;
    }
    assert.deepEqual(attempts, [
      [1, 7],
      [1, 7],
    ]);
  });

  it('closes the attempt when the hub does not say connected within connectTimeoutMs, then retries', async () => {
    const silent = await ScriptedHub.start();
    silent.silent = true;
    try {
      const client = makeClient(silent.url, { connectTimeoutMs: 100 });
      const timedOut = nextEvent(client, 'error', 5000, (error) => error.code === 'connect_timeout');
      const retry = nextEvent(client, 'reconnecting');
      client.connect();
      await timedOut;
      await retry;
      silent.silent = false;
      await nextEvent(client, 'connected');
      assert.ok(silent.upgrades.length >= 2);
    } finally {
      await withTimeout(silent.stop(), 5000, 'hub stop');
    }
  });

  it('close() rejects what waits for an answer, and connect() resumes the subscriptions', async () => {
    const client = makeClient(hub.url);
    const rec = recorder();
    client.subscribe('close.topic', rec.handlers);
    await connected(client);
    await eventually(() => rec.subscribed.length === 1, 'subscribed');
    hub.holdAcks = true;
    const pending = client.publish('close.topic', 1, { ack: true });
    await eventually(() => client.pendingPublishes.unacked === 1, 'publish sent');
    hub.holdAcks = false;
    const disconnected = nextEvent(client, 'disconnected');
    client.close();
    assert.equal(client.state, 'closed');
    await assert.rejects(within(pending), { name: 'HubError', code: 'closed' });
    assert.deepEqual(await disconnected, { code: 1000, reason: 'client closed', willReconnect: false });
    await assert.rejects(within(client.publish('close.topic', 2)), { code: 'closed' });
    await assert.rejects(within(client.presence('close.topic')), { code: 'closed' });
    await connected(client);
    await eventually(() => rec.subscribed.length === 2, 'resubscribed');
    assert.equal(rec.subscribed[1]?.resumed, true);
    assert.equal(rec.messages.length, 1);
  });

  it('closes a subscription the hub ends on its own, and does not resubscribe it', async () => {
    const client = makeClient(hub.url);
    const revoked = deferred<string>();
    const sub = client.subscribe('revoke.topic', { onUnsubscribed: revoked.resolve });
    await connected(client);
    await eventually(() => sub.state === 'active', 'subscribed');
    const connection = [...hub.peers].find(([, peer]) => peer.id === client.clientId)![0];
    connection.send(JSON.stringify({ type: 'unsubscribed', topic: 'revoke.topic' }));
    assert.equal(await withTimeout(revoked.promise, 5000, 'revoked'), 'revoke.topic');
    assert.equal(sub.state, 'closed');
    const before = hub.sent('subscribe').length;
    const back = nextEvent(client, 'connected');
    hub.terminateAll();
    await back;
    await within(client.presence('revoke.topic'));
    assert.equal(hub.sent('subscribe').length, before);
  });
});

describe('HubClient authentication', () => {
  let hub: ScriptedHub;

  before(async () => {
    hub = await ScriptedHub.start({ token: 'good-token' });
  });
  afterEach(() => closeClients());
  after(() => withTimeout(hub.stop(), 5000, 'hub stop'));

  it('sends the token as the first message, and asks the token function again on every attempt', async () => {
    let calls = 0;
    const client = makeClient(hub.url, {
      token: async () => {
        calls++;
        return 'good-token';
      },
    });
    const event = await connected(client);
    assert.equal(event.user, 'alice');
    const back = nextEvent(client, 'connected');
    hub.terminateAll();
    await back;
    assert.equal(calls, 2);
    const first = hub.received.filter((r) => r.client === event.client)[0]?.message;
    assert.deepEqual(first, { type: 'auth', token: 'good-token' });
  });

  it('stops reconnecting when the hub refuses the token (1008): state closed, error unauthorized', async () => {
    const upgrades = hub.upgrades.length;
    const client = makeClient(hub.url, { token: 'bad-token' });
    const pending = client.publish('auth.topic', 1, { ack: true });
    const failed = nextEvent(client, 'error');
    client.connect();
    const error = await failed;
    assert.equal(error.code, 'unauthorized');
    assert.match(error.message, /1008/);
    assert.equal(client.state, 'closed');
    assert.equal(hub.upgrades.length, upgrades + 1);
    await assert.rejects(within(pending), { code: 'closed' });
  });

  it('stops on a 1008 close after connecting too (policy_violation)', async () => {
    const client = makeClient(hub.url, { token: 'good-token' });
    const { client: id } = await connected(client);
    const failed = nextEvent(client, 'error');
    const disconnected = nextEvent(client, 'disconnected');
    [...hub.peers].find(([, peer]) => peer.id === id)![0].close(1008, 'rate limit exceeded');
    assert.equal((await failed).code, 'policy_violation');
    assert.deepEqual(await disconnected, { code: 1008, reason: 'rate limit exceeded', willReconnect: false });
    assert.equal(client.state, 'closed');
  });

  it('can send the token as the token query parameter', async () => {
    const client = makeClient(hub.url, { token: 'good-token', tokenIn: 'query' });
    const { client: id } = await connected(client);
    assert.match(hub.upgrades.at(-1) ?? '', /[?&]token=good-token\b/);
    assert.equal(hub.received.filter((r) => r.client === id && r.message.type === 'auth').length, 0);
  });

  it('reports a failing token function and retries', async () => {
    let calls = 0;
    const client = makeClient(hub.url, {
      token: () => {
        calls++;
        if (calls === 1) throw new Error('token service down');
        return 'good-token';
      },
    });
    const failed = nextEvent(client, 'error');
    const ready = connected(client);
    const error = await failed;
    assert.equal(error.code, 'token_failed');
    assert.equal((error.cause as Error).message, 'token service down');
    await ready;
    assert.equal(calls, 2);
  });
});
