import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryEngine, type MemoryEngineOptions } from '../../src/engines/memory-engine.js';
import { engineSuite } from './engine-suite.js';
import { Recorder } from './engine-suite-support.js';

engineSuite(
  'MemoryEngine',
  async (count) => {
    assert.equal(count, 1, 'one memory engine cannot share its state with another');
    const engine = new MemoryEngine({ sweepIntervalMs: 50 });
    return { engines: [engine], cleanup: () => engine.close() };
  },
  { multiNode: false },
);

/** A clock the test moves by hand. */
function manualClock(start = 1_700_000_000_000): { now: () => number; advance(ms: number): void } {
  let time = start;
  return {
    now: () => time,
    advance: (ms) => {
      time += ms;
    },
  };
}

/** A started engine on a manual clock, without sweep timer (tests call `sweep()`), closed after `body`. */
async function withEngine(
  options: MemoryEngineOptions,
  body: (engine: MemoryEngine, recorder: Recorder) => Promise<void>,
): Promise<void> {
  const engine = new MemoryEngine({ sweepIntervalMs: 0, ...options });
  const recorder = new Recorder();
  await engine.start(recorder);
  try {
    await body(engine, recorder);
  } finally {
    await engine.close();
  }
}

describe('MemoryEngine: bounded memory', () => {
  it('drops an idle topic stream after idleTopicTtlMs; the next position has a new epoch', async () => {
    const clock = manualClock();
    await withEngine({ now: clock.now, idleTopicTtlMs: 1000 }, async (engine) => {
      const first = await engine.position('idle');
      clock.advance(999);
      engine.sweep();
      assert.deepEqual(await engine.position('idle'), first, 'not idle long enough (and position touches)');
      clock.advance(1000);
      engine.sweep();
      assert.equal(engine.stats().topics, 0);
      const next = await engine.position('idle');
      assert.equal(next.offset, 0);
      assert.notEqual(next.epoch, first.epoch);
    });
  });

  it('keeps a stream while it has history, then for the idle period after the last entry expired', async () => {
    const clock = manualClock();
    await withEngine({ now: clock.now, idleTopicTtlMs: 1000 }, async (engine) => {
      const { epoch } = await engine.publish('kept', '1', { history: { size: 10, ttlMs: 5000 } });
      clock.advance(4999);
      engine.sweep();
      assert.equal((await engine.history('kept')).publications.length, 1);
      clock.advance(1000); // the entry expired at 5000; idle until 6000
      engine.sweep();
      assert.equal(engine.stats().topics, 1);
      assert.deepEqual((await engine.history('kept')).position, { offset: 1, epoch });
      clock.advance(1000); // history() touched the stream at 5999
      engine.sweep();
      assert.equal(engine.stats().topics, 0);
    });
  });

  it('keeps streams with an exact subscription or presence; their idle period starts when they end', async () => {
    const clock = manualClock();
    await withEngine({ now: clock.now, idleTopicTtlMs: 1000 }, async (engine) => {
      await engine.subscribe('subscribed');
      await engine.publish('subscribed', '1');
      await engine.subscribe('pattern.*');
      await engine.publish('pattern.x', '1');
      await engine.publish('present', '1');
      await engine.presenceAdd('present', { client: 'c', user: '' }, 60_000);
      clock.advance(10_000);
      engine.sweep();
      assert.equal(engine.stats().topics, 2, 'a pattern subscription does not keep a stream');
      await engine.unsubscribe('subscribed');
      await engine.presenceRemove('present', { client: 'c', user: '' });
      clock.advance(999);
      engine.sweep();
      assert.equal(engine.stats().topics, 2);
      clock.advance(1);
      engine.sweep();
      assert.equal(engine.stats().topics, 0);
    });
  });

  it('sweeps at most sweepBatch streams per sweep, resuming where it stopped', async () => {
    const clock = manualClock();
    await withEngine({ now: clock.now, idleTopicTtlMs: 0, sweepBatch: 10 }, async (engine) => {
      for (let i = 0; i < 95; i++) await engine.publish(`t.${i}`, '1');
      clock.advance(1);
      const remaining: number[] = [];
      for (let i = 0; i < 10; i++) {
        engine.sweep();
        remaining.push(engine.stats().topics);
      }
      assert.deepEqual(remaining, [85, 75, 65, 55, 45, 35, 25, 15, 5, 0]);
    });
  });

  it('handles many topics and returns to empty once everything expired', async () => {
    const clock = manualClock();
    const options = { now: clock.now, idleTopicTtlMs: 1000, sweepBatch: 5000, idempotencyTtlMs: 2000 };
    await withEngine(options, async (engine) => {
      const topics = 20_000;
      for (let i = 0; i < topics; i++) {
        const topic = `many.${i}`;
        await engine.presenceAdd(topic, { client: `c${i}`, user: '' }, 3000);
        await engine.publish(topic, `${i}`, { history: { size: 2, ttlMs: 500 }, idempotencyKey: `k${i}` });
      }
      assert.deepEqual(engine.stats(), {
        topics,
        presenceTopics: topics,
        idempotencyKeys: topics,
        subscriptions: 0,
      });
      assert.deepEqual(
        (await engine.history('many.123')).publications.map((p) => p.data),
        ['123'],
      );
      clock.advance(4000);
      let sweeps = 0;
      while (engine.stats().topics + engine.stats().presenceTopics + engine.stats().idempotencyKeys > 0) {
        assert.ok(++sweeps <= 20, 'the sweep makes progress');
        // Time passes between sweeps, as with the timer: a stream's idle period restarts when its
        // presence expires, so streams go in the round after their presence.
        clock.advance(1000);
        engine.sweep();
      }
      assert.ok(sweeps >= topics / 5000, 'each sweep examined at most sweepBatch streams');
    });
  });
});

describe('MemoryEngine: idempotency', () => {
  it('forgets keys after their TTL, scopes them per topic, and caps their number', async () => {
    const clock = manualClock();
    await withEngine({ now: clock.now, maxIdempotencyKeys: 3 }, async (engine) => {
      const first = await engine.publish('a', '1', { idempotencyKey: 'k', idempotencyTtlMs: 1000 });
      assert.equal((await engine.publish('b', '1', { idempotencyKey: 'k' })).duplicate, false, 'per topic');
      clock.advance(999);
      assert.deepEqual(await engine.publish('a', '2', { idempotencyKey: 'k' }), {
        ...first,
        duplicate: true,
      });
      clock.advance(1);
      assert.equal((await engine.publish('a', '3', { idempotencyKey: 'k' })).offset, 2, 'expired key');
      await engine.publish('c', '1', { idempotencyKey: 'x' });
      await engine.publish('c', '2', { idempotencyKey: 'y' });
      assert.equal(engine.stats().idempotencyKeys, 3);
      assert.equal((await engine.publish('c', '3', { idempotencyKey: 'x' })).duplicate, true);
      await engine.publish('c', '4', { idempotencyKey: 'z' });
      assert.equal(engine.stats().idempotencyKeys, 3, 'the oldest key made room');
      assert.equal((await engine.publish('c', '5', { idempotencyKey: 'z' })).duplicate, true);
    });
  });
});

describe('MemoryEngine: presence', () => {
  it('extends expiry on refresh and expires through the sweep, with a leave', async () => {
    const clock = manualClock();
    await withEngine({ now: clock.now }, async (engine, recorder) => {
      const entry = { client: 'c1', user: 'u1' };
      await engine.subscribe('room');
      await engine.presenceAdd('room', entry, 1000);
      clock.advance(900);
      await engine.presenceAdd('room', entry, 1000);
      clock.advance(900);
      engine.sweep();
      assert.deepEqual(await engine.presence('room'), [entry], 'refreshed at 900, lives until 1900');
      clock.advance(100);
      engine.sweep();
      assert.equal(engine.stats().presenceTopics, 0);
      await recorder.until(() => recorder.left('room').length === 1, 'the leave of the expired entry');
      assert.deepEqual(recorder.joined('room'), ['c1']);
    });
  });

  it('announces joins and leaves only for topics subscribed by name', async () => {
    await withEngine({}, async (engine, recorder) => {
      await engine.subscribe('lobby.*');
      await engine.presenceAdd('lobby.a', { client: 'c1', user: '' }, 10_000);
      await engine.presenceAdd('elsewhere', { client: 'c1', user: '' }, 10_000);
      await engine.presenceRemove('lobby.a', { client: 'c1', user: '' });
      await engine.subscribe('marker');
      await engine.presenceAdd('marker', { client: 'c2', user: '' }, 10_000);
      await recorder.until(() => recorder.joins.length >= 1, 'the marker join');
      assert.deepEqual(
        recorder.joins.map((event) => event.topic),
        ['marker'],
      );
      assert.deepEqual(recorder.leaves, []);
    });
  });
});

describe('MemoryEngine: delivery', () => {
  it('delivers asynchronously, once per publication even when several subscriptions match', async () => {
    await withEngine({}, async (engine, recorder) => {
      await engine.subscribe('chat.*');
      await engine.subscribe('chat.>');
      await engine.subscribe('chat.room');
      const pending = engine.publish('chat.room', '1');
      assert.equal(recorder.publications.length, 0, 'nothing is delivered inside the publish call');
      await pending;
      await engine.publish('chat.room.sub', '2');
      await engine.publish('chat', '3');
      await engine.publish('marker', '4');
      await engine.subscribe('marker');
      await engine.publish('marker', '5');
      await recorder.until(() => recorder.of('marker').length === 1, 'the marker publication');
      assert.deepEqual(
        recorder.publications.map((p) => `${p.topic}:${p.data}`),
        ['chat.room:1', 'chat.room.sub:2', 'marker:5'],
      );
    });
  });

  it('keeps delivering in order after the handler throws, reporting the error', async () => {
    const errors: unknown[] = [];
    const engine = new MemoryEngine({ sweepIntervalMs: 0, onHandlerError: (error) => errors.push(error) });
    const received: string[] = [];
    const recorder = new Recorder();
    await engine.start({
      onPublication: (publication) => {
        received.push(publication.data);
        if (publication.data === '1') throw new Error('handler bug');
        recorder.onPublication(publication);
      },
      onJoin: () => {},
      onLeave: () => {},
    });
    try {
      await engine.subscribe('t');
      await engine.publish('t', '1');
      await engine.publish('t', '2');
      await recorder.until(() => recorder.publications.length === 1, 'the publication after the failure');
      assert.deepEqual(received, ['1', '2']);
      assert.equal(errors.length, 1);
      assert.equal((errors[0] as Error).message, 'handler bug');
    } finally {
      await engine.close();
    }
  });

  it('rejects an invalid pattern and invalid options', async () => {
    await withEngine({}, async (engine) => {
      await assert.rejects(engine.subscribe('a.>.b'), TypeError);
      await assert.rejects(engine.subscribe('a..*'), TypeError);
    });
    assert.throws(() => new MemoryEngine({ sweepBatch: 0 }), RangeError);
    assert.throws(() => new MemoryEngine({ idleTopicTtlMs: -1 }), RangeError);
    assert.throws(() => new MemoryEngine({ sweepIntervalMs: Number.NaN }), RangeError);
  });
});
