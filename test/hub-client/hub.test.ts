/**
 * HubClient end to end against Conduit's Hub (src/hub) on the in-memory engine, over real sockets:
 * publish/subscribe/ack, presence, patterns, credit, echo, resume after a cut connection and after a hub
 * restart on the same port (exact: no gap, no duplicate), the offline queue, ack retries without
 * duplicates, authentication failures, and the 1008 of a rate limit.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { Hub, type HubOptions, MemoryEngine } from '../../src/hub/index.js';
import type { HubClientOptions, MessageMeta, SubscribedInfo } from '../../src/hub-client/index.js';
import type { WebSocketServer } from '../../src/server/server.js';
import { waitFor } from '../server/helpers.js';
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

interface Running {
  hub: Hub;
  wss: WebSocketServer;
  url: string;
  port: number;
}

async function startHub(options: HubOptions = {}, port = 0): Promise<Running> {
  const hub = new Hub({ topics: [{ match: 'room.*', presence: true }], ...options });
  const wss = hub.attach({ port, host: '127.0.0.1', path: '/hub' });
  await waitFor(wss, 'listening');
  const address = wss.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return { hub, wss, port: address.port, url: `ws://127.0.0.1:${address.port}/hub` };
}

function stopHub(running: Running | undefined): Promise<void> {
  return running === undefined ? Promise.resolve() : withTimeout(running.hub.close(), 5000, 'hub close');
}

/** Cuts every connection of the hub without a closing handshake. */
function cutAll(running: Running): void {
  for (const connection of running.wss.clients) connection.terminate();
}

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

describe('HubClient against the Hub', () => {
  let running: Running;
  /** Set by a test to cut the connections when a publish on this topic reaches the ACL. */
  let cutOnPublish: string | null = null;

  before(async () => {
    running = await startHub({
      canPublish: async (_session, topic) => {
        if (topic === cutOnPublish) {
          cutOnPublish = null;
          cutAll(running);
        }
        return topic !== 'forbidden.topic';
      },
    });
  });
  afterEach(() => closeClients());
  after(() => stopHub(running));

  const client = (options: HubClientOptions = {}) => makeClient(running.url, options);

  it('publishes with ack to a subscriber of another client', async () => {
    const a = client();
    const b = client();
    const rec = recorder();
    const sub = a.subscribe('news.e2e', rec.handlers);
    await Promise.all([connected(a), connected(b)]);
    await eventually(() => sub.state === 'active', 'subscribed');
    const ack = await within(b.publish('news.e2e', { hello: 'world' }, { ack: true }));
    await eventually(() => rec.messages.length === 1, 'message');
    assert.deepEqual(rec.data(), [{ hello: 'world' }]);
    assert.deepEqual({ offset: rec.messages[0]?.meta.offset, epoch: rec.messages[0]?.meta.epoch }, ack);
    assert.deepEqual(sub.position, ack);
    assert.match(a.clientId, /.+/);
    assert.notEqual(a.clientId, b.clientId);
  });

  it('rejects a publish the ACL refuses with HubError forbidden', async () => {
    const a = client();
    await connected(a);
    await assert.rejects(within(a.publish('forbidden.topic', 1, { ack: true })), {
      name: 'HubError',
      code: 'forbidden',
    });
  });

  it('answers presence and reports joins and leaves', async () => {
    const a = client();
    const joined = deferred<string>();
    const left = deferred<string>();
    const sub = a.subscribe('room.lobby', {
      onJoin: ({ client: id }) => joined.resolve(id),
      onLeave: ({ client: id }) => left.resolve(id),
    });
    await connected(a);
    await eventually(() => sub.state === 'active', 'subscribed');
    const b = client();
    const { client: bId } = await connected(b);
    const bSub = b.subscribe('room.lobby');
    assert.equal(await withTimeout(joined.promise, 5000, 'join'), bId);
    const present = await within(a.presence('room.lobby'));
    assert.deepEqual(present.map((p) => p.client).sort(), [a.clientId, bId].sort());
    bSub.unsubscribe();
    assert.equal(await withTimeout(left.promise, 5000, 'leave'), bId);
    await assert.rejects(within(a.presence('news.nopresence')), {
      code: 'forbidden',
      topic: 'news.nopresence',
    });
  });

  it('delivers through patterns, honours credit, and leaves out its own publication with echo: false', async () => {
    const a = client();
    const star = recorder();
    const flow = recorder();
    const own = recorder();
    const patternSub = a.subscribe('metrics.*', star.handlers);
    const flowSub = a.subscribe('flow.e2e', { ...flow.handlers, credit: 2 });
    const ownSub = a.subscribe('own.e2e', own.handlers);
    await connected(a);
    await eventually(() => [patternSub, flowSub, ownSub].every((s) => s.state === 'active'), 'subscribed');
    await running.hub.publish('metrics.cpu', 1);
    await running.hub.publish('metrics.cpu.core0', 'not matched');
    await running.hub.publish('metrics.mem', 2);
    for (const n of [1, 2, 3, 4]) await running.hub.publish('flow.e2e', n);
    await within(a.publish('own.e2e', 'mine', { ack: true, echo: false }));
    await within(a.publish('own.e2e', 'echoed', { ack: true }));
    await eventually(
      () => star.messages.length === 2 && flow.messages.length === 2 && own.messages.length === 1,
      'messages',
    );
    assert.deepEqual(
      star.messages.map((m) => [m.meta.topic, m.meta.pattern, m.data]),
      [
        ['metrics.cpu', 'metrics.*', 1],
        ['metrics.mem', 'metrics.*', 2],
      ],
    );
    assert.deepEqual(own.data(), ['echoed']);
    assert.equal(flowSub.credit, 0);
    flowSub.grant(2);
    await eventually(() => flow.messages.length === 4, 'messages after grant');
    assert.deepEqual(flow.data(), [1, 2, 3, 4]);
  });

  it('resumes exactly after the connection is cut: no gap, no duplicate', async () => {
    const a = client();
    const rec = recorder();
    const sub = a.subscribe('resume.e2e', rec.handlers);
    await connected(a);
    await eventually(() => sub.state === 'active', 'subscribed');
    for (const n of [1, 2, 3]) await running.hub.publish('resume.e2e', n);
    await eventually(() => rec.messages.length === 3, 'first messages');
    const disconnected = nextEvent(a, 'disconnected');
    const back = nextEvent(a, 'connected');
    cutAll(running);
    await disconnected;
    for (const n of [4, 5, 6]) await running.hub.publish('resume.e2e', n);
    await back;
    for (const n of [7, 8]) await running.hub.publish('resume.e2e', n);
    await eventually(() => rec.messages.length >= 8, 'all messages');
    assert.deepEqual(rec.data(), [1, 2, 3, 4, 5, 6, 7, 8]);
    const offsets = rec.offsets();
    assert.deepEqual(
      offsets,
      offsets.map((_, i) => offsets[0]! + i),
    );
    assert.deepEqual(
      rec.subscribed.map((s) => [s.resumed, s.recovered]),
      [
        [false, false],
        [true, true],
      ],
    );
  });

  it('starts from a saved position with the since option', async () => {
    const first = await running.hub.publish('saved.e2e', 'seen');
    for (const n of ['missed 1', 'missed 2']) await running.hub.publish('saved.e2e', n);
    const a = client();
    const rec = recorder();
    a.subscribe('saved.e2e', { ...rec.handlers, since: { offset: first.offset, epoch: first.epoch } });
    await connected(a);
    await eventually(() => rec.messages.length === 2, 'missed messages');
    assert.deepEqual(rec.data(), ['missed 1', 'missed 2']);
    assert.deepEqual(
      rec.subscribed.map((s) => [s.resumed, s.recovered]),
      [[true, true]],
    );
  });

  it('flushes the offline queue in order once connected', async () => {
    const a = client();
    const rec = recorder();
    const watcher = client();
    const sub = watcher.subscribe('queue.e2e', rec.handlers);
    await connected(watcher);
    await eventually(() => sub.state === 'active', 'subscribed');
    const sends = [
      a.publish('queue.e2e', 1),
      a.publish('queue.e2e', 2, { ack: true }),
      a.publish('queue.e2e', 3),
    ];
    assert.deepEqual(a.pendingPublishes, { queued: 3, unacked: 0 });
    await connected(a);
    await within(Promise.all(sends));
    await eventually(() => rec.messages.length === 3, 'queued messages');
    assert.deepEqual(rec.data(), [1, 2, 3]);
  });

  it('re-sends a publish whose ack was lost with the same id: stored once, resolved once (anonymous, session key)', async () => {
    const a = client();
    const rec = recorder();
    const watcher = client();
    const sub = watcher.subscribe('retry.e2e', rec.handlers);
    await Promise.all([connected(a), connected(watcher)]);
    await eventually(() => sub.state === 'active', 'subscribed');
    // The ACL cuts every connection while the publish is on its way to the engine: the ack is lost.
    cutOnPublish = 'retry.e2e';
    const reconnected = nextEvent(a, 'connected');
    let settled = 0;
    const ack = a.publish('retry.e2e', 'once', { ack: true }).finally(() => {
      settled++;
    });
    await reconnected;
    const position = await within(ack, 'ack after the retry');
    await eventually(() => rec.messages.length >= 1, 'message');
    // A later publication proves nothing else is in flight for the watcher.
    await within(a.publish('retry.e2e', 'after', { ack: true }));
    await eventually(() => rec.messages.length >= 2, 'second message');
    assert.deepEqual(rec.data(), ['once', 'after']);
    assert.equal(rec.messages[0]?.meta.offset, position.offset);
    assert.equal(settled, 1);
  });

  it('resumes across a hub restart on the same port (same engine), after growing backoff delays', async () => {
    const engine = new MemoryEngine();
    let current: Running | undefined = await startHub({ engine });
    try {
      const a = makeClient(current.url, {
        random: () => 0,
        reconnect: { initialDelayMs: 5, maxDelayMs: 1000 },
      });
      const rec = recorder();
      const sub = a.subscribe('restart.e2e', rec.handlers);
      await connected(a);
      await eventually(() => sub.state === 'active', 'subscribed');
      await current.hub.publish('restart.e2e', 'before');
      await eventually(() => rec.messages.length === 1, 'first message');
      const delays: number[] = [];
      const thirdRetry = nextEvent(a, 'reconnecting', 10_000, ({ attempt }) => attempt === 3);
      a.on('reconnecting', ({ delayMs }) => delays.push(delayMs));
      const { port } = current;
      await stopHub(current);
      current = undefined;
      await thirdRetry;
      await engine.publish('restart.e2e', JSON.stringify('while down'), {
        history: { size: 100, ttlMs: 60_000 },
      });
      const back = nextEvent(a, 'connected', 10_000);
      current = await startHub({ engine }, port);
      await back;
      await current.hub.publish('restart.e2e', 'after');
      await eventually(() => rec.messages.length === 3, 'recovered and live messages');
      assert.deepEqual(rec.data(), ['before', 'while down', 'after']);
      assert.deepEqual(delays.slice(0, 3), [5, 10, 20]);
      assert.deepEqual(
        rec.subscribed.map((s) => s.recovered),
        [false, true],
      );
    } finally {
      await stopHub(current);
      await engine.close();
    }
  });
});

describe('HubClient authenticating with the Hub', () => {
  let running: Running;
  let upgrades = 0;

  before(async () => {
    running = await startHub({
      verifyToken: async (token) => {
        if (!token.startsWith('user:')) throw new Error('bad token');
        return { user: token.slice(5) };
      },
      messagesPerSecond: 20,
      rateLimitGrace: 2,
    });
    running.wss.on('connection', () => upgrades++);
  });
  afterEach(() => closeClients());
  after(() => stopHub(running));

  it('authenticates with a first-message token and refreshes it on reconnect', async () => {
    const tokens: string[] = [];
    const a = makeClient(running.url, {
      token: () => {
        const token = 'user:alice';
        tokens.push(token);
        return token;
      },
    });
    const { user } = await connected(a);
    assert.equal(user, 'alice');
    const back = nextEvent(a, 'connected');
    cutAll(running);
    await back;
    assert.equal(tokens.length, 2);
  });

  it('stops reconnecting when the token is refused: state closed, error unauthorized, one attempt', async () => {
    const before = upgrades;
    const a = makeClient(running.url, { token: 'nobody' });
    const failed = nextEvent(a, 'error');
    a.connect();
    const error = await failed;
    assert.equal(error.code, 'unauthorized');
    assert.equal(a.state, 'closed');
    assert.equal(upgrades, before + 1);
  });

  it('stops when the hub closes with 1008 for going on past the rate limit', async () => {
    const a = makeClient(running.url, { token: 'user:flood' });
    await connected(a);
    const closed = nextEvent(a, 'state', 5000, ({ state }) => state === 'closed');
    const failed = nextEvent(a, 'error', 5000, (error) => error.code === 'policy_violation');
    const rateLimited = nextEvent(a, 'error', 5000, (error) => error.code === 'rate_limited');
    for (let i = 0; i < 200; i++) void a.publish('flood.e2e', i).catch(() => {});
    await rateLimited;
    await failed;
    await closed;
  });
});
