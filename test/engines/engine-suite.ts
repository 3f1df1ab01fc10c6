/**
 * The engine conformance suite: behaviour every `Engine` must show, whatever its backend. An engine's
 * test file calls {@link engineSuite} with a factory; with `multiNode` (the default) the factory must also
 * give several engines sharing one backend, as several hub processes would.
 *
 * To prove that something was *not* delivered without sleeping, tests publish to a "barrier" topic after
 * it and wait for the barrier: an engine delivers one node's publications in order, so once the barrier
 * arrived, anything published before it would have too.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EngineError, type HistoryOptions } from '../../src/engines/engine.js';
import {
  barrier,
  type EngineFactory,
  offsets,
  range,
  sleep,
  uniqueTopic,
  withEngines,
} from './engine-suite-support.js';

export type { EngineFactory, EngineSet } from './engine-suite-support.js';

/** Options of {@link engineSuite}. */
export interface EngineSuiteOptions {
  /** Run the tests that need three engines on one backend. Default true. */
  multiNode?: boolean;
}

/** A history bound that keeps everything a test publishes. */
const KEEP: HistoryOptions = { size: 100, ttlMs: 60_000 };

/** Registers the conformance tests for one engine implementation. */
export function engineSuite(name: string, factory: EngineFactory, options: EngineSuiteOptions = {}): void {
  describe(`${name}: engine conformance`, () => {
    numberingTests(factory);
    historyTests(factory);
    deliveryTests(factory);
    idempotencyTests(factory);
    presenceTests(factory);
    closeTests(factory);
    if (options.multiNode !== false) multiNodeTests(factory);
  });
}

function numberingTests(factory: EngineFactory): void {
  it('numbers publications from 1 within one epoch, per topic', () =>
    withEngines(factory, 1, async ([engine]) => {
      const topic = uniqueTopic('numbering');
      const start = await engine!.position(topic);
      assert.equal(start.offset, 0);
      assert.equal(typeof start.epoch, 'string');
      assert.ok(start.epoch.length > 0);
      assert.deepEqual(await engine!.position(topic), start, 'a new topic keeps the epoch it was given');
      for (const expected of [1, 2, 3]) {
        const result = await engine!.publish(topic, `${expected}`);
        assert.deepEqual(result, { offset: expected, epoch: start.epoch, duplicate: false });
      }
      assert.deepEqual(await engine!.position(topic), { offset: 3, epoch: start.epoch });
      const other = await engine!.publish(uniqueTopic('numbering-other'), '1');
      assert.equal(other.offset, 1, 'offsets are per topic');
      assert.notEqual(other.epoch, start.epoch, 'epochs are per topic stream');
    }));

  it('carries data, publisher, excludePublisher and users through to deliveries and history', () =>
    withEngines(factory, 1, async ([engine], [recorder]) => {
      const topic = uniqueTopic('fields');
      await engine!.subscribe(topic);
      const data = JSON.stringify({ text: 'héllo ✓ "quoted"', n: [1, 2] });
      const before = Date.now();
      await engine!.publish(topic, data, {
        history: KEEP,
        publisher: 'c-1',
        excludePublisher: true,
        users: ['u1', 'u2'],
      });
      await engine!.publish(topic, '"plain"', { history: KEEP });
      await recorder!.until(() => recorder!.of(topic).length === 2, 'two publications');
      const [targeted, plain] = recorder!.of(topic);
      const { epoch } = await engine!.position(topic);
      assert.deepEqual(
        { ...targeted!, time: 0 },
        {
          topic,
          data,
          offset: 1,
          epoch,
          time: 0,
          publisher: 'c-1',
          excludePublisher: true,
          users: ['u1', 'u2'],
        },
      );
      // Publication times are Unix milliseconds (a loose check: backends may use their own clock).
      assert.ok(Math.abs(targeted!.time - before) < 60_000, `time ${targeted!.time} near ${before}`);
      assert.equal(plain!.publisher, '');
      assert.equal(plain!.excludePublisher, false);
      assert.equal(plain!.users, null);
      const { publications } = await engine!.history(topic);
      assert.deepEqual(publications, [targeted, plain]);
    }));
}

function historyTests(factory: EngineFactory): void {
  it('keeps at most history.size publications, and none without history', () =>
    withEngines(factory, 1, async ([engine]) => {
      const topic = uniqueTopic('size');
      for (let i = 1; i <= 5; i++)
        await engine!.publish(topic, `${i}`, { history: { size: 3, ttlMs: 60_000 } });
      const kept = await engine!.history(topic);
      assert.deepEqual(offsets(kept.publications), [3, 4, 5]);
      assert.deepEqual(
        kept.publications.map((p) => p.data),
        ['3', '4', '5'],
      );
      assert.equal(kept.complete, true);
      assert.equal(kept.position.offset, 5);

      const bare = uniqueTopic('no-history');
      await engine!.publish(bare, '1');
      const second = await engine!.publish(bare, '2', { history: { size: 0, ttlMs: 60_000 } });
      assert.equal(second.offset, 2, 'offsets advance without history');
      const none = await engine!.history(bare);
      assert.deepEqual(none.publications, []);
      assert.deepEqual(none.position, { offset: 2, epoch: second.epoch });
    }));

  it('applies the bound of the latest publish', () =>
    withEngines(factory, 1, async ([engine]) => {
      const topic = uniqueTopic('latest-bound');
      for (let i = 1; i <= 5; i++)
        await engine!.publish(topic, `${i}`, { history: { size: 10, ttlMs: 60_000 } });
      await engine!.publish(topic, '6', { history: { size: 2, ttlMs: 60_000 } });
      assert.deepEqual(offsets((await engine!.history(topic)).publications), [5, 6]);
      await engine!.publish(topic, '7');
      assert.deepEqual((await engine!.history(topic)).publications, [], 'a publish without history ends it');
      await engine!.publish(topic, '8', { history: KEEP });
      assert.deepEqual(offsets((await engine!.history(topic)).publications), [8]);
    }));

  it('drops publications older than history.ttlMs', () =>
    withEngines(factory, 1, async ([engine]) => {
      const topic = uniqueTopic('ttl');
      const short = { size: 10, ttlMs: 150 };
      const { epoch } = await engine!.publish(topic, '1', { history: short });
      await engine!.publish(topic, '2', { history: short });
      await sleep(400);
      const expired = await engine!.history(topic);
      assert.deepEqual(expired.publications, []);
      assert.deepEqual(expired.position, { offset: 2, epoch });
      assert.equal((await engine!.history(topic, { since: { offset: 0, epoch } })).complete, false);
      await engine!.publish(topic, '3', { history: short });
      assert.deepEqual(offsets((await engine!.history(topic)).publications), [3]);
    }));

  it('answers since: complete, gap, other epoch, future offset', () =>
    withEngines(factory, 1, async ([engine]) => {
      const topic = uniqueTopic('since');
      for (let i = 1; i <= 5; i++)
        await engine!.publish(topic, `${i}`, { history: { size: 3, ttlMs: 60_000 } });
      const { epoch } = await engine!.position(topic);
      const since = async (offset: number, sinceEpoch = epoch) => {
        const result = await engine!.history(topic, { since: { offset, epoch: sinceEpoch } });
        assert.deepEqual(result.position, { offset: 5, epoch });
        return { offsets: offsets(result.publications), complete: result.complete };
      };
      assert.deepEqual(await since(2), { offsets: [3, 4, 5], complete: true }, 'history reaches offset 3');
      assert.deepEqual(await since(4), { offsets: [5], complete: true });
      assert.deepEqual(await since(5), { offsets: [], complete: true }, 'nothing missed');
      assert.deepEqual(await since(1), { offsets: [], complete: false }, 'offset 2 was trimmed: a gap');
      assert.deepEqual(await since(0), { offsets: [], complete: false });
      assert.deepEqual(await since(3, 'another-epoch'), { offsets: [], complete: false });
      assert.deepEqual(await since(6), { offsets: [], complete: false }, 'a position from the future');
      assert.equal((await engine!.history(topic)).complete, true, 'no since: complete');
    }));

  it('applies limit: the latest without since, the first after since', () =>
    withEngines(factory, 1, async ([engine]) => {
      const topic = uniqueTopic('limit');
      for (let i = 1; i <= 6; i++) await engine!.publish(topic, `${i}`, { history: KEEP });
      const { epoch } = await engine!.position(topic);
      assert.deepEqual(offsets((await engine!.history(topic, { limit: 2 })).publications), [5, 6]);
      const after = await engine!.history(topic, { since: { offset: 1, epoch }, limit: 2 });
      assert.deepEqual(offsets(after.publications), [2, 3]);
      assert.equal(after.complete, true);
      assert.deepEqual((await engine!.history(topic, { limit: 0 })).publications, []);
      assert.deepEqual(offsets((await engine!.history(topic, { limit: 100 })).publications), range(1, 6));
    }));
}

function deliveryTests(factory: EngineFactory): void {
  it('numbers concurrent publishes in call order and delivers each topic in offset order', () =>
    withEngines(factory, 1, async ([engine], [recorder]) => {
      const topics = [uniqueTopic('order-a'), uniqueTopic('order-b')];
      for (const topic of topics) await engine!.subscribe(topic);
      const count = 200;
      const calls = range(1, count).map((i) => engine!.publish(topics[i % 2]!, `"m${i}"`));
      const results = await Promise.all(calls);
      for (const [t, topic] of topics.entries()) {
        const mine = results.filter((_, i) => (i + 1) % 2 === t);
        assert.deepEqual(
          mine.map((r) => r.offset),
          range(1, count / 2),
          `call order numbering on ${topic}`,
        );
        await recorder!.until(() => recorder!.of(topic).length === count / 2, `all publications of ${topic}`);
        const delivered = recorder!.of(topic);
        assert.deepEqual(offsets(delivered), range(1, count / 2));
        const expected = range(1, count)
          .filter((i) => i % 2 === t)
          .map((i) => `"m${i}"`);
        assert.deepEqual(
          delivered.map((p) => p.data),
          expected,
        );
      }
    }));

  it('reference-counts subscriptions', () =>
    withEngines(factory, 1, async ([engine], [recorder]) => {
      const topic = uniqueTopic('refcount');
      await engine!.unsubscribe(uniqueTopic('never-subscribed'));
      await engine!.subscribe(topic);
      await engine!.subscribe(topic);
      await engine!.unsubscribe(topic);
      await engine!.publish(topic, '1');
      await recorder!.until(() => recorder!.of(topic).length === 1, 'delivery while one reference remains');
      await engine!.unsubscribe(topic);
      await engine!.publish(topic, '2');
      await barrier(engine!, recorder!);
      assert.deepEqual(offsets(recorder!.of(topic)), [1], 'nothing after the last unsubscribe');
    }));

  it('delivers topics matching subscribed patterns', () =>
    withEngines(factory, 1, async ([engine], [recorder]) => {
      const one = uniqueTopic('star');
      const rest = uniqueTopic('tail');
      await engine!.subscribe(`${one}.*`);
      await engine!.subscribe(`${rest}.>`);
      await engine!.publish(`${one}.a`, '1');
      await engine!.publish(`${rest}.x`, '2');
      await engine!.publish(`${rest}.x.y`, '3');
      const unrelated = uniqueTopic('unrelated');
      await engine!.publish(unrelated, '4');
      await barrier(engine!, recorder!);
      assert.deepEqual(
        recorder!.of(`${one}.a`).map((p) => p.data),
        ['1'],
      );
      assert.deepEqual(
        recorder!.of(`${rest}.x`).map((p) => p.data),
        ['2'],
      );
      assert.deepEqual(
        recorder!.of(`${rest}.x.y`).map((p) => p.data),
        ['3'],
      );
      assert.deepEqual(recorder!.of(unrelated), []);
      await engine!.unsubscribe(`${one}.*`);
      await engine!.publish(`${one}.b`, '5');
      await barrier(engine!, recorder!);
      assert.deepEqual(recorder!.of(`${one}.b`), [], 'nothing after unsubscribing the pattern');
    }));
}

function idempotencyTests(factory: EngineFactory): void {
  it('returns the first position for a repeated idempotency key and stores and delivers once', () =>
    withEngines(factory, 1, async ([engine], [recorder]) => {
      const topic = uniqueTopic('idempotent');
      await engine!.subscribe(topic);
      const options = { history: KEEP, idempotencyKey: 'key-1' };
      const first = await engine!.publish(topic, '"a"', options);
      const again = await engine!.publish(topic, '"b"', options);
      assert.deepEqual(again, { offset: first.offset, epoch: first.epoch, duplicate: true });
      const concurrent = await Promise.all([
        engine!.publish(topic, '"c"', { history: KEEP, idempotencyKey: 'key-2' }),
        engine!.publish(topic, '"d"', { history: KEEP, idempotencyKey: 'key-2' }),
      ]);
      assert.deepEqual(concurrent.map((r) => r.duplicate).sort(), [false, true]);
      assert.equal(concurrent[0]!.offset, concurrent[1]!.offset);
      await engine!.publish(topic, '"e"', { history: KEEP, idempotencyKey: 'key-3' });
      await barrier(engine!, recorder!);
      const stored = (await engine!.history(topic)).publications.map((p) => p.data);
      assert.equal(stored.length, 3);
      assert.deepEqual(
        recorder!.of(topic).map((p) => p.data),
        stored,
      );
      assert.equal(stored[0], '"a"');
      assert.equal(stored[2], '"e"');
    }));
}

function presenceTests(factory: EngineFactory): void {
  const alice = { client: 'c-alice', user: 'alice', info: { device: 'phone' } };
  const bob = { client: 'c-bob', user: 'bob' };

  it('adds, refreshes and removes presence with one join and one leave each', () =>
    withEngines(factory, 1, async ([engine], [recorder]) => {
      const topic = uniqueTopic('presence');
      await engine!.subscribe(topic);
      assert.deepEqual(await engine!.presence(topic), []);
      await engine!.presenceAdd(topic, alice, 10_000);
      await recorder!.until(() => recorder!.joined(topic).length === 1, 'the join of alice');
      assert.deepEqual(recorder!.joins[0], { topic, entry: alice });
      const refreshed = { ...alice, info: { device: 'laptop' } };
      await engine!.presenceAdd(topic, refreshed, 10_000);
      await engine!.presenceAdd(topic, bob, 10_000);
      await recorder!.until(() => recorder!.joined(topic).length >= 2, 'the join of bob');
      assert.deepEqual(recorder!.joined(topic), ['c-alice', 'c-bob'], 'a refresh is no join');
      const listed = (await engine!.presence(topic)).sort((a, b) => a.client.localeCompare(b.client));
      assert.deepEqual(listed, [refreshed, bob]);

      await engine!.presenceRemove(topic, alice);
      await recorder!.until(() => recorder!.left(topic).length === 1, 'the leave of alice');
      assert.equal(recorder!.leaves[0]!.entry.user, 'alice');
      assert.deepEqual(await engine!.presence(topic), [bob]);
      await engine!.presenceRemove(topic, alice);
      await engine!.presenceRemove(topic, bob);
      await recorder!.until(() => recorder!.left(topic).length >= 2, 'the leave of bob');
      assert.deepEqual(recorder!.left(topic), ['c-alice', 'c-bob'], 'removing an absent entry is no leave');
      assert.deepEqual(await engine!.presence(topic), []);
    }));

  it('expires presence entries after ttlMs with a leave', () =>
    withEngines(factory, 1, async ([engine], [recorder]) => {
      const topic = uniqueTopic('expiry');
      await engine!.subscribe(topic);
      await engine!.presenceAdd(topic, alice, 150);
      await engine!.presenceAdd(topic, bob, 60_000);
      await recorder!.until(() => recorder!.joined(topic).length === 2, 'two joins');
      await sleep(400);
      assert.deepEqual(await engine!.presence(topic), [bob]);
      await recorder!.until(() => recorder!.left(topic).length === 1, 'the leave of the expired entry');
      assert.deepEqual(recorder!.left(topic), ['c-alice']);
    }));
}

function closeTests(factory: EngineFactory): void {
  it('rejects every call after close with ERR_ENGINE_CLOSED', () =>
    withEngines(factory, 1, async ([engine]) => {
      const topic = uniqueTopic('close');
      await engine!.publish(topic, '1');
      await engine!.close();
      const entry = { client: 'c', user: '' };
      const calls: Array<[string, () => Promise<unknown>]> = [
        ['publish', () => engine!.publish(topic, '2')],
        ['history', () => engine!.history(topic)],
        ['position', () => engine!.position(topic)],
        ['subscribe', () => engine!.subscribe(topic)],
        ['unsubscribe', () => engine!.unsubscribe(topic)],
        ['presenceAdd', () => engine!.presenceAdd(topic, entry, 1000)],
        ['presenceRemove', () => engine!.presenceRemove(topic, entry)],
        ['presence', () => engine!.presence(topic)],
      ];
      for (const [method, call] of calls) {
        await assert.rejects(call, (error: unknown) => {
          assert.ok(error instanceof EngineError, `${method} rejects with an EngineError`);
          assert.equal(error.code, 'ERR_ENGINE_CLOSED');
          return true;
        });
      }
      await engine!.close();
    }));
}

function multiNodeTests(factory: EngineFactory): void {
  it('multi-node: a publish on node 0 reaches subscribers on nodes 1 and 2 in order', () =>
    withEngines(factory, 3, async (engines, recorders) => {
      const topic = uniqueTopic('fanout');
      await engines[1]!.subscribe(topic);
      await engines[2]!.subscribe(topic);
      const count = 100;
      const results = await Promise.all(range(1, count).map((i) => engines[0]!.publish(topic, `${i}`)));
      assert.deepEqual(
        results.map((r) => r.offset),
        range(1, count),
      );
      for (const node of [1, 2]) {
        const recorder = recorders[node]!;
        await recorder.until(() => recorder.of(topic).length === count, `all publications on node ${node}`);
        assert.deepEqual(offsets(recorder.of(topic)), range(1, count));
        assert.deepEqual(
          recorder.of(topic).map((p) => p.data),
          range(1, count).map(String),
        );
      }
      await barrier(engines[0]!, recorders[0]!);
      assert.deepEqual(recorders[0]!.of(topic), [], 'node 0 did not subscribe');
    }));

  it('multi-node: one numbering, history and idempotency across nodes', () =>
    withEngines(factory, 3, async (engines) => {
      const topic = uniqueTopic('shared');
      const epoch = (await engines[2]!.position(topic)).epoch;
      for (let i = 0; i < 6; i++) {
        const result = await engines[i % 3]!.publish(topic, `${i + 1}`, { history: KEEP });
        assert.deepEqual(result, { offset: i + 1, epoch, duplicate: false });
      }
      for (const engine of engines) {
        assert.deepEqual(offsets((await engine.history(topic)).publications), range(1, 6));
      }
      const first = await engines[0]!.publish(topic, '7', { idempotencyKey: 'k' });
      const again = await engines[1]!.publish(topic, '8', { idempotencyKey: 'k' });
      assert.deepEqual(again, { ...first, duplicate: true });
    }));

  it('multi-node: presence, joins and leaves are seen on every node', () =>
    withEngines(factory, 3, async (engines, recorders) => {
      const topic = uniqueTopic('presence-nodes');
      for (const engine of engines) await engine.subscribe(topic);
      await engines[0]!.presenceAdd(topic, { client: 'c0', user: 'u0' }, 10_000);
      await engines[1]!.presenceAdd(topic, { client: 'c1', user: 'u1' }, 10_000);
      for (const [node, engine] of engines.entries()) {
        const clients = (await engine.presence(topic)).map((entry) => entry.client).sort();
        assert.deepEqual(clients, ['c0', 'c1'], `presence seen from node ${node}`);
        const recorder = recorders[node]!;
        await recorder.until(() => recorder.joined(topic).length === 2, `both joins on node ${node}`);
        assert.deepEqual(recorder.joined(topic).sort(), ['c0', 'c1']);
      }
      await engines[2]!.presenceRemove(topic, { client: 'c0', user: 'u0' });
      for (const [node, recorder] of recorders.entries()) {
        await recorder.until(() => recorder.left(topic).length === 1, `the leave on node ${node}`);
        assert.deepEqual(recorder.left(topic), ['c0']);
      }
    }));
}
